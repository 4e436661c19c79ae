// Global limits against a real redis-server: two "replicas" (two compiled filters, two stores, two
// connections) share one limit exactly; a Redis that hangs or dies costs no request more than the
// command timeout, `open` falls back to local limits and `closed` answers 503, the outage is
// counted per request and logged once; a restarted Redis is used again without any restart here.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import type { IrRateLimits } from '../../src/ir/apim.js';
import { compileRateLimits } from '../../src/dataplane/filters/rate-limit.js';
import type { FilterOutcome } from '../../src/dataplane/filters/filter-types.js';
import { compileQuotas } from '../../src/dataplane/filters/quota.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';
import { RedisCounterStore } from '../../src/state/redis-counter-store.js';
import { quotaPeriodAt } from '../../src/state/quota-period.js';
import { RedisServer } from '../support/redis-server.js';
import { requestContext } from '../support/request-context.js';

const TIMEOUT_MS = 50;

function globalPolicy(requests: number, onStoreFailure: 'open' | 'closed'): IrRateLimits {
  return {
    policy: 'ratelimitpolicy/default/shared',
    limits: [{ name: 'ratelimitpolicy/default/shared/0', requests, periodMs: 60_000, key: { kind: 'header', name: 'x-tenant' }, scope: 'global' }],
    onStoreFailure,
  };
}

async function run(outcome: FilterOutcome | Promise<FilterOutcome>): Promise<FilterOutcome> {
  return outcome;
}

test('two replicas share a global limit exactly; Redis hangs, dies and comes back', async (t) => {
  const server = await RedisServer.start();
  const logs: string[] = [];
  const failures: Error[] = [];
  const stores = [0, 1].map(() => new RedisCounterStore({ url: server.url, commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: 500, log: (line) => logs.push(line) }));
  t.after(async () => {
    for (const s of stores) await s.close();
    await server.stop();
  });
  await Promise.all(stores.map((s) => s.ready()));
  const replicas = stores.map((store) => {
    const clock = systemClock;
    const deps = { clock, local: new MemoryCounterStore(clock), global: store, onStoreFailure: (err: Error) => failures.push(err) };
    return { open: compileRateLimits(globalPolicy(20, 'open'), deps), closed: compileRateLimits(globalPolicy(20, 'closed'), deps) };
  });

  await t.test('20/min across two replicas, 30 requests alternating: exactly 20 pass', async () => {
    let passed = 0;
    for (let i = 0; i < 30; i++) {
      const outcome = await run(replicas[i % 2]!.open.request(requestContext({ headers: { 'x-tenant': 'shared' } })));
      if (outcome.kind === 'continue') passed++;
      else assert.equal(outcome.status, 429);
    }
    assert.equal(passed, 20);
    assert.deepEqual(failures, []);
  });

  await t.test('20/min across two replicas, 25 requests at once on each (one call per replica per turn): exactly 20 pass', async () => {
    const before = stores.map((s) => s.stats.calls);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => run(replicas[i % 2]!.open.request(requestContext({ headers: { 'x-tenant': 'burst' } })))));
    assert.equal(outcomes.filter((o) => o.kind === 'continue').length, 20);
    for (const o of outcomes) if (o.kind !== 'continue') assert.equal(o.status, 429);
    // Each replica asked Redis once for its 25; Redis's atomic script split the 20 between them.
    assert.deepEqual(stores.map((s, i) => s.stats.calls - before[i]!), [1, 1]);
    assert.deepEqual(failures, []);
  });

  /** Sends `n` requests through `filter` one after another: outcomes and the slowest one's ms. */
  const measure = async (filter: { request: (typeof replicas)[0]['open']['request'] }, n: number, tenant: string) => {
    const kinds: number[] = [];
    let maxMs = 0;
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      const outcome = await run(filter.request(requestContext({ headers: { 'x-tenant': tenant } })));
      maxMs = Math.max(maxMs, performance.now() - start);
      kinds.push(outcome.kind === 'continue' ? 200 : outcome.status);
    }
    return { kinds, maxMs };
  };

  await t.test('a hung Redis (SIGSTOP): open falls back to a local limit, no request waits past the timeout', async (t) => {
    server.pause();
    try {
      const { kinds, maxMs } = await measure(replicas[0]!.open, 25, 'hung');
      t.diagnostic(`hung Redis: slowest of 25 requests ${maxMs.toFixed(1)} ms (timeout ${TIMEOUT_MS} ms)`);
      // The local fallback has the same parameters: 20 of 25 pass on this replica, and no error.
      assert.deepEqual(kinds, [...Array(20).fill(200), ...Array(5).fill(429)]);
      assert.ok(maxMs < TIMEOUT_MS + 150, `slowest request ${maxMs.toFixed(1)} ms, timeout ${TIMEOUT_MS} ms`);
      assert.equal(failures.length, 25);
      assert.match(failures[0]!.message, /timed out/i);
    } finally {
      server.resume();
    }
  });

  await t.test('a dead Redis (SIGKILL): open passes at once under the local limit, closed answers 503', async (t) => {
    await server.stop('SIGKILL');
    failures.length = 0;
    const open = await measure(replicas[1]!.open, 22, 'dead');
    assert.deepEqual(open.kinds, [...Array(20).fill(200), 429, 429]);
    assert.ok(open.maxMs < TIMEOUT_MS + 150, `slowest request ${open.maxMs.toFixed(1)} ms`);
    const closed = await measure(replicas[1]!.closed, 3, 'dead-closed');
    t.diagnostic(`dead Redis: slowest open ${open.maxMs.toFixed(1)} ms, slowest closed ${closed.maxMs.toFixed(1)} ms`);
    assert.deepEqual(closed.kinds, [503, 503, 503]);
    assert.ok(closed.maxMs < TIMEOUT_MS + 150, `slowest request ${closed.maxMs.toFixed(1)} ms`);
    const outcome = await run(replicas[1]!.closed.request(requestContext({ headers: { 'x-tenant': 'x' } })));
    assert.equal(outcome.kind === 'respond' && JSON.parse(outcome.body!).reason, 'rate_limit_unavailable');
    assert.equal(failures.length, 26);
    // One outage, one line per store that saw it (replica 0's from the hang, replica 1's now).
    assert.equal(logs.filter((l) => l.includes('unavailable')).length, 2, logs.join('\n'));
  });

  await t.test('Redis restarted on the same port: global limiting resumes by itself', async () => {
    await server.restart();
    // Wait until both replicas' stores answer again (ioredis reconnects on its own).
    const deadline = Date.now() + 10_000;
    while (!stores.every((s) => s.available)) {
      assert.ok(Date.now() < deadline, 'the stores did not reconnect within 10 s');
      for (const r of replicas) await run(r.open.request(requestContext({ headers: { 'x-tenant': 'probe' } })));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    failures.length = 0;
    // Shared again: 20 of 30 across both replicas (a local fallback would let 30 through).
    const kinds: string[] = [];
    for (let i = 0; i < 30; i++) kinds.push((await run(replicas[i % 2]!.closed.request(requestContext({ headers: { 'x-tenant': 'after' } })))).kind);
    assert.equal(kinds.filter((k) => k === 'continue').length, 20);
    assert.deepEqual(failures, []);
    assert.equal(logs.filter((l) => l.includes('answering again')).length, 2, logs.join('\n'));
  });
});

/** A redis-server, a store on it, and a plain client to look at the keys; all stopped after the test. */
async function redisBed(t: TestContext, keyPrefix?: string): Promise<{ store: RedisCounterStore; inspect: Redis }> {
  const server = await RedisServer.start();
  const store = new RedisCounterStore({ url: server.url, keyPrefix, commandTimeoutMs: 1000, log: () => {} });
  const inspect = new Redis(server.url);
  t.after(async () => {
    await store.close();
    inspect.disconnect();
    await server.stop();
  });
  await store.ready();
  return { store, inspect };
}

test('global quota in Redis: the key names the UTC day and expires at its end; the next day starts over', async (t) => {
  const { store, inspect } = await redisBed(t, 'gw-test:');
  // A day in the future, so Redis (on today's clock) keeps the key until its EXPIREAT.
  const clock = new ManualClock(Date.UTC(2099, 2, 31, 23, 59, 0), 0);
  const filter = compileQuotas(
    { policy: 'quotapolicy/default/daily', quotas: [{ name: 'daily', requests: 3, period: 'day', scope: 'global' }], onStoreFailure: 'closed' },
    { clock, local: new MemoryCounterStore(clock), global: store },
  );
  const acme = { name: 'default/acme', groups: [] };
  const send = () => run(filter.request(requestContext({ consumer: acme })));
  const kinds = [];
  for (let i = 0; i < 4; i++) kinds.push((await send()).kind);
  assert.deepEqual(kinds, ['continue', 'continue', 'continue', 'respond']);
  const key = store.quotaKey('q:daily:c:default/acme', quotaPeriodAt(clock.now(), 'day'));
  assert.equal(key, 'gw-test:q:daily:c:default/acme:2099-03-31');
  assert.equal(await inspect.get(key), '3');
  assert.equal(await inspect.call('EXPIRETIME', key), Date.UTC(2099, 3, 1) / 1000);
  clock.advance(60_000); // 2099-04-01T00:00:00Z
  assert.equal((await send()).kind, 'continue');
  assert.equal(await inspect.get('gw-test:q:daily:c:default/acme:2099-04-01'), '1');
  assert.deepEqual((await inspect.keys('*')).sort(), ['gw-test:q:daily:c:default/acme:2099-03-31', 'gw-test:q:daily:c:default/acme:2099-04-01']);
});

test('the Redis store reloads its scripts after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async (t) => {
  const { store, inspect } = await redisBed(t);
  assert.equal((await store.takeRate('rl:x:route', { requests: 2, periodMs: 60_000 })).remaining, 1);
  await inspect.script('FLUSH');
  assert.equal((await store.takeRate('rl:x:route', { requests: 2, periodMs: 60_000 })).remaining, 0);
  assert.ok(Number(await inspect.pttl('isthmus:rl:x:route')) > 59_000, 'the bucket key expires when it would be full again');
});
