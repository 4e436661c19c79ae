import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream, type Upstream } from './harness.js';
import { ManualClock } from '../../src/core/clock.js';
import type { IrLoadBalancer } from '../../src/ir/types.js';

async function named(n: number): Promise<Upstream[]> {
  const ups: Upstream[] = [];
  for (let i = 0; i < n; i++) ups.push(await startUpstream((_req, res) => res.end(`u${i}`)));
  return ups;
}

async function gatewayWith(lb: IrLoadBalancer, ups: Upstream[], clock?: ManualClock) {
  return startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', ups, { lb })]), clock ? { clock } : {});
}

test('round robin spreads requests evenly over the endpoints', async (t) => {
  const ups = await named(3);
  const gw = await gatewayWith({ kind: 'round-robin' }, ups);
  t.after(async () => {
    await gw.close();
    for (const u of ups) await u.close();
  });
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const body = (await request(gw.httpPort, { path: '/' })).body;
    counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()].sort(), [10, 10, 10]);
});

test('ring hash on a header keeps a key on one endpoint; a cookie works the same', async (t) => {
  const ups = await named(4);
  const gw = await gatewayWith({ kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-user' } }, ups);
  const gwCookie = await gatewayWith({ kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'session' } }, ups);
  t.after(async () => {
    await gw.close();
    await gwCookie.close();
    for (const u of ups) await u.close();
  });
  const seenByUser = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      const body = (await request(gw.httpPort, { path: '/', headers: { 'x-user': user } })).body;
      const set = seenByUser.get(user) ?? new Set();
      set.add(body);
      seenByUser.set(user, set);
    }
  }
  for (const [user, set] of seenByUser) assert.equal(set.size, 1, `${user} always lands on one endpoint`);
  assert.ok(new Set([...seenByUser.values()].map((s) => [...s][0])).size > 1, 'different keys spread over endpoints');
  const a = (await request(gwCookie.httpPort, { path: '/', headers: { cookie: 'theme=dark; session=abc123' } })).body;
  for (let i = 0; i < 5; i++) assert.equal((await request(gwCookie.httpPort, { path: '/', headers: { cookie: 'session=abc123' } })).body, a);
});

test('least-request prefers the endpoint with fewer requests in flight', async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const slow = await startUpstream((_req, res) => void held.then(() => res.end('slow')));
  const fast = await startUpstream((_req, res) => res.end('fast'));
  const gw = await gatewayWith({ kind: 'least-request' }, [slow, fast]);
  t.after(async () => {
    release();
    await gw.close();
    await slow.close();
    await fast.close();
  });
  // Park requests on the slow endpoint until it is clearly the busier one.
  const parked: Promise<unknown>[] = [];
  for (let i = 0; i < 6; i++) parked.push(request(gw.httpPort, { path: '/' }));
  await new Promise((r) => setTimeout(r, 200));
  const bodies: string[] = [];
  for (let i = 0; i < 10; i++) bodies.push((await request(gw.httpPort, { path: '/' })).body);
  assert.ok(bodies.filter((b) => b === 'fast').length >= 9, `fast endpoint chosen: ${bodies.join(',')}`);
  release();
  await Promise.all(parked);
});

test('endpoint state survives a reload: an ejected endpoint stays ejected', async (t) => {
  const clock = new ManualClock(0, 0);
  const bad = await startUpstream((_req, res) => {
    res.writeHead(503);
    res.end('bad');
  });
  const good = await startUpstream((_req, res) => res.end('good'));
  const ph = { consecutiveFailures: 2, baseEjectionMs: 60_000, maxEjectionMs: 60_000 };
  const mk = (gen: number) => snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [bad, good], { passiveHealth: ph })], gen);
  const gw = await startGateway(mk(1), { clock });
  t.after(async () => {
    await gw.close();
    await bad.close();
    await good.close();
  });
  for (let i = 0; i < 6; i++) await request(gw.httpPort, { path: '/' });
  assert.equal((await gw.dataPlane.apply(mk(2))).outcome, 'applied');
  const after: string[] = [];
  for (let i = 0; i < 6; i++) after.push((await request(gw.httpPort, { path: '/' })).body);
  assert.deepEqual(after, Array(6).fill('good'));
});
