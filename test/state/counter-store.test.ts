// One conformance suite for both CounterStore implementations (DESIGN.md: one suite per interface):
// the same GCRA and quota answers from memory and from a real redis-server. Times that the suite
// cannot inject into Redis (its TIME) are kept irrelevant by long periods; the memory store's
// refill is tested with an injected clock, never a sleep.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import type { CounterStore } from '../../src/state/counter-store.js';
import { gcra } from '../../src/state/counter-store.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';
import { RedisCounterStore } from '../../src/state/redis-counter-store.js';
import { quotaPeriodAt } from '../../src/state/quota-period.js';
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
