// The active health checker against a real HTTP server through the real undici transport, with
// timers fired by hand: thresholds move an endpoint out of rotation and back, a committed
// reload keeps a probe's state, and neither a dropped probe nor close() leaves a timer behind.
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ManualTimers } from '../../src/core/timers.js';
import { createEndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { ActiveHealthChecker } from '../../src/dataplane/upstream/health/active-health.js';
import { connectionKeyOf, type UpstreamConnection } from '../../src/dataplane/upstream/transport.js';
import { UndiciTransport } from '../../src/dataplane/upstream/undici-transport.js';
import type { IrActiveHealthCheck } from '../../src/ir/types.js';

const CHECK: IrActiveHealthCheck = { path: '/healthz', host: 'svc.test', intervalMs: 1000, timeoutMs: 5000, healthyThreshold: 2, unhealthyThreshold: 2, expectedStatuses: [{ min: 200, max: 299 }] };
const CONNECTION: UpstreamConnection = { protocol: 'http1', connectTimeoutMs: 2000, tls: undefined, key: connectionKeyOf('http1', 2000, undefined) };

test('probes flip an endpoint after the thresholds, survive a commit of the same key, and stop without leaking timers', async (t) => {
  let status = 200;
  const seen: { host?: string; ua?: string; path?: string }[] = [];
  let answered = 0;
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, ua: req.headers['user-agent'], path: req.url });
    res.writeHead(status, { 'content-length': '2' });
    res.end('ok');
    answered++;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const transport = new UndiciTransport();
  t.after(async () => {
    await transport.close();
    server.closeAllConnections();
    server.close();
  });
  const timers = new ManualTimers();
  const checker = new ActiveHealthChecker(transport, timers);
  const endpoint = createEndpointState('127.0.0.1', port);

  // One probe result: wait for the server to answer, then for the checker to schedule the next probe.
  const probeOnce = async (): Promise<void> => {
    const before = answered;
    const interval = (): boolean => timers.pending.some((p) => p.ms === CHECK.intervalMs);
    while (answered === before || !interval()) await new Promise((r) => setImmediate(r));
  };
  const next = async (): Promise<void> => {
    assert.ok(timers.fire((p) => p.ms === CHECK.intervalMs), 'an interval timer is pending');
    await probeOnce();
  };

  const { key, status: flag } = checker.acquire(endpoint, CONNECTION, CHECK);
  assert.equal(checker.activeCount, 0, 'acquiring starts nothing');
  assert.equal(timers.pending.length, 0);
  checker.commit(new Set([key]));
  await probeOnce(); // the first probe goes at once
  assert.deepEqual(seen[0], { host: 'svc.test', ua: 'isthmus-health-check', path: '/healthz' });
  assert.equal(flag.healthy, true);

  status = 503;
  await next();
  assert.equal(flag.healthy, true, 'one failure is below unhealthyThreshold');
  await next();
  assert.equal(flag.healthy, false, 'two failures in a row');
  assert.equal(checker.describe(key)?.lastFailure, 'status 503');

  // A reload that keeps the same settings gets the same probe and state, and no second timer.
  const again = checker.acquire(endpoint, CONNECTION, CHECK);
  assert.equal(again.status, flag);
  checker.commit(new Set([key]));
  assert.equal(timers.pending.filter((p) => p.ms === CHECK.intervalMs).length, 1);

  status = 200;
  await next();
  assert.equal(flag.healthy, false, 'one success is below healthyThreshold');
  await next();
  assert.equal(flag.healthy, true, 'back in rotation');

  // Dropped by a reload: its timer is cancelled.
  checker.commit(new Set());
  assert.equal(checker.activeCount, 0);
  assert.equal(timers.pending.length, 0);

  // close() stops everything, also a probe started after a reload.
  const other = checker.acquire(endpoint, CONNECTION, { ...CHECK, path: '/ready' });
  checker.commit(new Set([other.key]));
  await probeOnce();
  checker.close();
  assert.equal(checker.activeCount, 0);
  assert.equal(timers.pending.length, 0);
});

test('a probe without an answer within timeoutMs is a failure; an unreachable endpoint fails too', async (t) => {
  const server = http.createServer(() => {
    // Never answers.
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const transport = new UndiciTransport();
  t.after(async () => {
    await transport.close();
    server.closeAllConnections();
    server.close();
  });
  const timers = new ManualTimers();
  const checker = new ActiveHealthChecker(transport, timers);
  const check = { ...CHECK, unhealthyThreshold: 1 };
  const silent = checker.acquire(createEndpointState('127.0.0.1', (server.address() as AddressInfo).port), CONNECTION, check);
  checker.commit(new Set([silent.key]));
  assert.ok(timers.fire((p) => p.ms === check.timeoutMs), 'the deadline timer is pending');
  assert.equal(silent.status.healthy, false);
  assert.match(checker.describe(silent.key)?.lastFailure ?? '', /no response within 5000 ms/);

  // Port 1 on loopback: connection refused.
  const refused = checker.acquire(createEndpointState('127.0.0.1', 1), CONNECTION, check);
  checker.commit(new Set([silent.key, refused.key]));
  while (refused.status.healthy) await new Promise((r) => setImmediate(r));
  checker.close();
  assert.equal(timers.pending.length, 0);
});
