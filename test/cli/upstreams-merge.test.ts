// GET /api/upstreams with workers: the workers' views merged into the one-process shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeUpstreamViews } from '../../src/cli/workers/upstreams-merge.js';

const endpoint = (over: Record<string, unknown>): Record<string, unknown> => ({
  address: '10.0.0.1',
  port: 80,
  weight: 1,
  healthy: true,
  ejectedForMs: 0,
  consecutiveFailures: 0,
  inFlight: 0,
  totalRequests: 0,
  totalFailures: 0,
  ...over,
});

test('counts are summed, health needs every worker, ejection shows the worst worker, identity is kept', () => {
  const one = {
    clusters: [{ name: 'a', protocol: 'http1', circuitBreakers: { active: 1, pending: 0 }, endpoints: [endpoint({ totalRequests: 5, inFlight: 1 }), endpoint({ address: '10.0.0.2', totalRequests: 2 })] }],
    pools: { 'a|10.0.0.1:80': { connected: 2, pending: 0, running: 1 } },
  };
  const two = {
    clusters: [{ name: 'a', protocol: 'http1', circuitBreakers: { active: 2, pending: 1 }, endpoints: [endpoint({ address: '10.0.0.2', healthy: false, ejectedForMs: 900, consecutiveFailures: 3, totalRequests: 4, totalFailures: 3 }), endpoint({ totalRequests: 7 })] }],
    pools: { 'a|10.0.0.1:80': { connected: 1, pending: 0, running: 0 }, 'a|10.0.0.2:80': { connected: 1, pending: 0, running: 0 } },
  };
  assert.deepEqual(mergeUpstreamViews([one, two]), {
    clusters: [
      {
        name: 'a',
        protocol: 'http1',
        circuitBreakers: { active: 3, pending: 1 },
        endpoints: [
          endpoint({ totalRequests: 12, inFlight: 1 }),
          endpoint({ address: '10.0.0.2', healthy: false, ejectedForMs: 900, consecutiveFailures: 3, totalRequests: 6, totalFailures: 3 }),
        ],
      },
    ],
    pools: { 'a|10.0.0.1:80': { connected: 3, pending: 0, running: 1 }, 'a|10.0.0.2:80': { connected: 1, pending: 0, running: 0 } },
  });
});

test('one worker: its view as it is', () => {
  const view = { clusters: [], pools: {} };
  assert.equal(mergeUpstreamViews([view]), view);
});
