// One conformance suite for both CounterStore implementations (DESIGN.md: one suite per interface):
// the same GCRA and quota answers from memory and from a real redis-server. Times that the suite
// cannot inject into Redis (its TIME) are kept irrelevant by long periods; the memory store's
// refill is tested with an injected clock, never a sleep.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import type { CounterStore } from '../../src/state/counter-store.js';
import { gcra, gcraDecisionAt, gcraTaken } from '../../src/state/counter-store.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';
import { RedisCounterStore } from '../../src/state/redis-counter-store.js';
import { quotaPeriodAt } from '../../src/state/quota-period.js';
import { Redis } from 'ioredis';
import { RedisServer } from '../support/redis-server.js';

function conformance(name: string, open: () => Promise<{ store: CounterStore; done: () => Promise<void> }>): void {
  describe(`CounterStore conformance: ${name}`, () => {
    let store: CounterStore;
    let done: () => Promise<void>;
    before(async () => ({ store, done } = await open()));
    after(async () => done());

    test('GCRA: a full bucket lets `requests` through, counting down, then refuses with a retry time', async () => {
      const params = { requests: 5, periodMs: 60_000 };
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        const d = await store.takeRate('rl:five:a', params);
        assert.equal(d.allowed, true, `request ${i + 1}`);
        remaining.push(d.remaining);
      }
      assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
      const refused = await store.takeRate('rl:five:a', params);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 0);
      // One request comes back after one emission interval (12 s), less the time the test took.
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 12_000, `retryAfterMs ${refused.retryAfterMs}`);
      assert.ok(refused.resetMs > 50_000 && refused.resetMs <= 60_000, `resetMs ${refused.resetMs}`);
      // Refusing takes nothing: still refused, not pushed further out.
      const again = await store.takeRate('rl:five:a', params);
      assert.equal(again.allowed, false);
      assert.ok(again.retryAfterMs <= refused.retryAfterMs);
      // Another key has its own bucket.
      assert.equal((await store.takeRate('rl:five:b', params)).remaining, 4);
    });

    test('GCRA: limits whose interval is not a whole number still allow exactly `requests`', async () => {
      for (const [requests, periodMs] of [[7, 60_000], [3, 1000], [1000, 1000], [20, 60_000]] as const) {
        let allowed = 0;
        for (let i = 0; i < requests + 3; i++) if ((await store.takeRate(`rl:odd-${requests}-${periodMs}:x`, { requests, periodMs })).allowed) allowed++;
        // Redis's clock runs during the loop: a 1000/s limit may refill a request or two meanwhile.
        if (periodMs >= 60_000) assert.equal(allowed, requests, `${requests} per ${periodMs} ms`);
        else assert.ok(allowed >= requests && allowed <= requests + 3, `${requests} per ${periodMs} ms: ${allowed}`);
      }
    });

    test('many requests in one turn (one batched write to Redis): each is counted once, in order', async () => {
      const params = { requests: 150, periodMs: 3_600_000 };
      const quotaPeriod = quotaPeriodAt(Date.UTC(2099, 0, 15, 12), 'day');
      const rates = await Promise.all(Array.from({ length: 200 }, () => store.takeRate('rl:burst:a', params)));
      assert.equal(rates.filter((d) => d.allowed).length, 150);
      assert.deepEqual(rates.slice(0, 150).map((d) => d.remaining), Array.from({ length: 150 }, (_, i) => 149 - i));
      const quotas = await Promise.all(Array.from({ length: 60 }, () => store.takeQuota('q:burst:c:acme', 50, quotaPeriod)));
      assert.equal(quotas.filter((d) => d.allowed).length, 50);
    });

    test('quota: `limit` requests per period, then refused; another key or period counts apart', async () => {
      const period = quotaPeriodAt(Date.UTC(2099, 0, 15, 12), 'day');
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await store.takeQuota('q:daily:c:acme', 3, period));
      assert.deepEqual(answers, [
        { allowed: true, remaining: 2 },
        { allowed: true, remaining: 1 },
        { allowed: true, remaining: 0 },
        { allowed: false, remaining: 0 },
      ]);
      assert.deepEqual(await store.takeQuota('q:daily:c:other', 3, period), { allowed: true, remaining: 2 });
      const next = quotaPeriodAt(period.endMs, 'day');
      assert.deepEqual(await store.takeQuota('q:daily:c:acme', 3, next), { allowed: true, remaining: 2 });
    });
  });
}

conformance('memory', async () => {
  const store = new MemoryCounterStore(new ManualClock(Date.UTC(2099, 0, 15, 12), 1_000_000));
  return { store, done: () => store.close() };
});

conformance('redis', async () => {
  const server = await RedisServer.start();
  const store = new RedisCounterStore({ url: server.url, commandTimeoutMs: 1000, log: () => {} });
  await store.ready();
  return {
    store,
    done: async () => {
      await store.close();
      await server.stop();
    },
  };
});

test('the Redis store sends one script call per counter per turn; each request still gets its own answer', async (t) => {
  const server = await RedisServer.start();
  const store = new RedisCounterStore({ url: server.url, commandTimeoutMs: 1000, log: () => {} });
  const probe = new Redis(server.url);
  t.after(async () => {
    probe.disconnect();
    await store.close();
    await server.stop();
  });
  await store.ready();
  const evalshaCalls = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);
  const params = { requests: 30, periodMs: 3_600_000 };
  // Load both scripts (NOSCRIPT, then EVAL) before counting.
  await store.takeRate('rl:turn:warm', params);
  await store.takeQuota('q:turn:warm', 3, quotaPeriodAt(Date.UTC(2099, 0, 15), 'day'));
  const before = await evalshaCalls();
  // One turn: 40 requests on counter a, 10 on b, 5 on a quota; a request on a with other params is another counter.
  const a = Array.from({ length: 40 }, () => store.takeRate('rl:turn:a', params));
  const b = Array.from({ length: 10 }, () => store.takeRate('rl:turn:b', params));
  const q = Array.from({ length: 5 }, () => store.takeQuota('q:turn:c', 3, quotaPeriodAt(Date.UTC(2099, 0, 15), 'day')));
  const other = store.takeRate('rl:turn:a', { requests: 1000, periodMs: 3_600_000 });
  const [ra, rb, rq] = await Promise.all([Promise.all(a), Promise.all(b), Promise.all(q)]);
  await other;
  const calls = (await evalshaCalls()) - before;
  assert.equal(calls, 4, 'one EVALSHA per counter of the turn');
  assert.deepEqual(store.stats, { takes: 58, calls: 6 });
  assert.deepEqual(ra.map((d) => d.allowed), [...Array(30).fill(true), ...Array(10).fill(false)]);
  assert.deepEqual(ra.slice(0, 30).map((d) => d.remaining), Array.from({ length: 30 }, (_, i) => 29 - i));
  for (const refused of ra.slice(30)) {
    assert.equal(refused.remaining, 0);
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 120_000, `retryAfterMs ${refused.retryAfterMs}`);
    assert.ok(refused.resetMs > 3_500_000 && refused.resetMs <= 3_600_000, `resetMs ${refused.resetMs}`);
  }
  assert.deepEqual(rb.map((d) => d.remaining), [29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
  assert.deepEqual(rq, [
    { allowed: true, remaining: 2 },
    { allowed: true, remaining: 1 },
    { allowed: true, remaining: 0 },
    { allowed: false, remaining: 0 },
    { allowed: false, remaining: 0 },
  ]);
  // The next turn continues from where the batch left the bucket.
  assert.equal((await store.takeRate('rl:turn:b', params)).remaining, 19);
});

test('gcraTaken + gcraDecisionAt give what gcra() gives one request at a time', () => {
  for (const params of [{ requests: 5, periodMs: 60_000 }, { requests: 7, periodMs: 60_000 }, { requests: 1000, periodMs: 1000 }, { requests: 3, periodMs: 1000 }]) {
    // Start points away from the exact multiples of half an interval, where summing and multiplying
    // round to different sides of a whole number (both are then equally right).
    for (const startAhead of [0, 0.3, params.periodMs / 3 + 0.77, params.periodMs * 0.9 + 0.11]) {
      const now = 1.7e12 + 0.123;
      const count = params.requests + 4;
      let tat = now + startAhead;
      const oneByOne = [];
      for (let i = 0; i < count; i++) {
        const r = gcra(tat, now, params);
        if (r.newTat !== undefined) tat = r.newTat;
        const d = r.decision;
        // The script rounds times up to whole ms (Redis answers integers).
        oneByOne.push({ allowed: d.allowed, remaining: d.remaining, retryAfterMs: d.allowed ? 0 : Math.ceil(d.retryAfterMs), resetMs: Math.ceil(d.resetMs) });
      }
      const taken = gcraTaken(startAhead, count, params);
      const together = Array.from({ length: count }, (_, i) => gcraDecisionAt(startAhead, taken, i, params));
      assert.deepEqual(together, oneByOne, `${params.requests}/${params.periodMs} ms from ${startAhead} ms ahead`);
    }
  }
});

test('memory GCRA refills by the injected clock: one request per interval, all after a period', () => {
  const clock = new ManualClock(0, 5_000);
  const store = new MemoryCounterStore(clock);
  const params = { requests: 4, periodMs: 10_000 };
  for (let i = 0; i < 4; i++) assert.equal(store.takeRate('k', params).allowed, true);
  const refused = store.takeRate('k', params);
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 1_250); // half an interval of float slack: counter-store.ts
  clock.advance(1_249);
  assert.equal(store.takeRate('k', params).allowed, false);
  clock.advance(1);
  assert.deepEqual(store.takeRate('k', params), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 11_250 });
  // Then one per interval (2.5 s), not faster.
  clock.advance(2_499);
  assert.equal(store.takeRate('k', params).allowed, false);
  clock.advance(1);
  assert.equal(store.takeRate('k', params).allowed, true);
  clock.advance(10_000);
  const full = [0, 1, 2, 3, 4].map(() => store.takeRate('k', params).allowed);
  assert.deepEqual(full, [true, true, true, true, false]);
});

test('memory store sweeps full buckets and ended quota periods', () => {
  const clock = new ManualClock(Date.UTC(2099, 0, 1), 0);
  const store = new MemoryCounterStore(clock);
  for (let i = 0; i < 100; i++) store.takeRate(`k${i}`, { requests: 10, periodMs: 1000 });
  store.takeQuota('q', 10, quotaPeriodAt(clock.now(), 'day'));
  assert.equal(store.size, 101);
  clock.advance(86_400_000);
  store.takeRate('fresh', { requests: 10, periodMs: 1000 });
  assert.equal(store.size, 1);
});

test('gcra() steady traffic at exactly the rate is always allowed; faster is refused', () => {
  const params = { requests: 10, periodMs: 1000 };
  let tat = 0;
  let now = 1e12;
  // Empty the bucket, then one request per interval for a long while: every one allowed.
  for (let i = 0; i < 10; i++) tat = gcra(tat, now, params).newTat!;
  for (let i = 0; i < 10_000; i++) {
    now += 100;
    const r = gcra(tat, now, params);
    assert.equal(r.decision.allowed, true, `request ${i}`);
    tat = r.newTat!;
  }
  assert.equal(gcra(tat, now + 40, params).decision.allowed, false);
});

test('quota periods are UTC calendar days and months', () => {
  assert.deepEqual(quotaPeriodAt(Date.UTC(2024, 1, 29, 23, 59, 59, 999), 'day'), { id: '2024-02-29', startMs: Date.UTC(2024, 1, 29), endMs: Date.UTC(2024, 2, 1) });
  assert.deepEqual(quotaPeriodAt(Date.UTC(2024, 1, 10), 'month'), { id: '2024-02', startMs: Date.UTC(2024, 1, 1), endMs: Date.UTC(2024, 2, 1) });
  assert.deepEqual(quotaPeriodAt(Date.UTC(2024, 11, 31, 12), 'month'), { id: '2024-12', startMs: Date.UTC(2024, 11, 1), endMs: Date.UTC(2025, 0, 1) });
});
