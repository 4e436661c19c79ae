// Cluster circuit breakers (IrCluster.circuitBreakers, src/dataplane/upstream/circuit-breaker.ts)
// under real concurrency: requests past the in-flight limit wait as pending, and one more than the
// pending limit is answered at once with 503 upstream_overflow, while the upstream still holds the
// first request. Nothing here measures time: the upstream holds requests until the test lets go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { IrCircuitBreakers } from '../../src/ir/types.js';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream, type SimpleResponse } from './harness.js';

interface Held {
  readonly arrived: string[];
  release(): void;
}

/** An upstream that answers nothing until release(); then it answers every request, held or new, at once. */
async function holdingUpstream(t: import('node:test').TestContext): Promise<{ port: number; address: string; held: Held }> {
  const waiting: http.ServerResponse[] = [];
  let released = false;
  const arrived: string[] = [];
  const up = await startUpstream((req, res) => {
    arrived.push(req.url ?? '');
    req.resume();
    if (released) res.end('ok');
    else waiting.push(res);
  });
  t.after(() => up.close());
  return {
    port: up.port,
    address: up.address,
    held: {
      arrived,
      release: () => {
        released = true;
        for (const res of waiting.splice(0)) res.end('ok');
      },
    },
  };
}

async function bed(t: import('node:test').TestContext, limits: IrCircuitBreakers, protocol: 'http1' | 'h2c' = 'http1') {
  const up = await holdingUpstream(t);
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up], { circuitBreakers: limits, protocol })]));
  t.after(() => gw.close());
  const stats = (): { active: number; pending: number } => {
    const all = gw.dataPlane.upstreams() as { clusters: { name: string; circuitBreakers: { active: number; pending: number } }[] };
    return all.clusters.find((c) => c.name === 'c')!.circuitBreakers;
  };
  return { port: gw.httpPort, held: up.held, stats };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('maxConnections 1 + maxPendingRequests 1: the second request waits, the third gets 503 upstream_overflow at once', async (t) => {
  const { port, held, stats } = await bed(t, { maxConnections: 1, maxPendingRequests: 1 });
  const first = request(port, { path: '/1' });
  await until('the first request to reach the upstream', () => held.arrived.length === 1);
  await until('the first request to be connected', () => stats().pending === 0 && stats().active === 1);
  const second = request(port, { path: '/2' });
  await until('the second request to wait as pending', () => stats().pending === 1);

  // The upstream still holds /1 and has not seen /2: the overflow is the gateway's own answer.
  const third = await request(port, { path: '/3' });
  assert.equal(third.status, 503);
  assert.equal(JSON.parse(third.body).reason, 'upstream_overflow');
  assert.deepEqual(held.arrived, ['/1']);

  held.release();
  const answered: SimpleResponse[] = await Promise.all([first, second]);
  assert.deepEqual(answered.map((r) => r.status), [200, 200]);
  assert.deepEqual(held.arrived, ['/1', '/2']);
  await until('the breaker to be empty again', () => stats().active === 0 && stats().pending === 0);
  assert.equal((await request(port, { path: '/4' })).status, 200);
});

test('under a burst of 20 concurrent requests, in flight never exceeds maxRequests and the overflow is 503', async (t) => {
  const { port, held, stats } = await bed(t, { maxRequests: 3, maxPendingRequests: 2 });
  let maxActive = 0;
  let answered = 0;
  const burst = Array.from({ length: 20 }, (_, i) => request(port, { path: `/${i}` }).finally(() => answered++));
  // Requests arrive over several turns of the event loop: sample the breaker while they do. Only
  // overflows are answered while the upstream holds on, so 15 answers mean all 20 were decided.
  await until('the burst to settle into 3 in flight, 2 pending and 15 answered', () => {
    maxActive = Math.max(maxActive, stats().active);
    return held.arrived.length === 3 && stats().pending === 2 && answered === 15;
  });
  held.release();
  const results = await Promise.all(burst);
  const by = (status: number): number => results.filter((r) => r.status === status).length;
  assert.equal(by(200), 5, 'three in flight and two pending are served');
  assert.equal(by(503), 15);
  assert.ok(results.filter((r) => r.status === 503).every((r) => JSON.parse(r.body).reason === 'upstream_overflow'));
  assert.ok(maxActive <= 3, `in flight reached ${maxActive}`);
  assert.equal(held.arrived.length, 5);
});

test('a pending request whose client goes away leaves the queue; no circuit breakers means no limit', async (t) => {
  const { port, held, stats } = await bed(t, { maxConnections: 1, maxPendingRequests: 5 });
  const first = request(port, { path: '/1' });
  await until('the first request to be connected', () => held.arrived.length === 1 && stats().pending === 0);
  const controller = new AbortController();
  const gone = request(port, { path: '/gone', signal: controller.signal }).catch(() => 'aborted');
  await until('the second request to wait', () => stats().pending === 1);
  controller.abort();
  await until('the abandoned request to leave the queue', () => stats().pending === 0);
  held.release();
  assert.equal((await first).status, 200);
  assert.equal(await gone, 'aborted');
  assert.deepEqual(held.arrived, ['/1']);

  const free = await bed(t, {});
  const many = Array.from({ length: 10 }, (_, i) => request(free.port, { path: `/${i}` }));
  await until('all ten to reach the upstream', () => free.held.arrived.length === 10);
  free.held.release();
  assert.deepEqual((await Promise.all(many)).map((r) => r.status), Array(10).fill(200));
});
