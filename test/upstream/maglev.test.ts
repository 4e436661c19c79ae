import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import { isPrime } from '../../src/core/primes.js';
import type { IrHashOn, IrLoadBalancer } from '../../src/ir/types.js';
import type { EndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { buildMaglevTable, type MaglevTable } from '../../src/dataplane/upstream/lb/maglev.js';
import type { IsAvailable } from '../../src/dataplane/upstream/lb/types.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

const byHeader: IrLoadBalancer = { kind: 'maglev', hashOn: { kind: 'header', name: 'x-user' } };

function maglevLb(eps: readonly EndpointState[], isAvailable: IsAvailable = () => true, config: IrLoadBalancer = byHeader, seed = 1) {
  return createLoadBalancer(config, eps, { random: seededRandom(seed), isAvailable });
}

const userCtx = (i: number | string) => makeContext({ headers: { 'x-user': `user-${i}` } });

/** Slots per endpoint index. */
function slotCounts(table: MaglevTable, endpoints: number): number[] {
  const counts = new Array<number>(endpoints).fill(0);
  for (const owner of table) counts[owner]!++;
  return counts;
}

const ones = (n: number) => new Float64Array(n).fill(1);

describe('maglev', () => {
  it('sends the same key to the same endpoint, whatever the seed or endpoint order', () => {
    const eps = makeEndpoints(6);
    const a = maglevLb(eps, () => true, byHeader, 1);
    const b = maglevLb([...eps].reverse(), () => true, byHeader, 99);
    for (let i = 0; i < 2000; i++) {
      const first = a.pick(userCtx(i));
      assert.ok(first !== undefined);
      assert.equal(a.pick(userCtx(i)), first);
      assert.equal(b.pick(userCtx(i)), first);
    }
  });

  it('fills a table of the default size 65537 evenly: 5 endpoints hold 20% ± 1% of the slots each', () => {
    const eps = makeEndpoints(5);
    const table = buildMaglevTable(eps, ones(5), 65537);
    assert.equal(table.length, 65537);
    for (const [i, count] of slotCounts(table, 5).entries()) {
      const share = count / 65537;
      assert.ok(Math.abs(share - 0.2) <= 0.01, `${eps[i]!.key}: ${share}`);
    }
  });

  it('spreads keys as the table does (20,000 keys over 5 endpoints)', () => {
    const eps = makeEndpoints(5);
    const lb = maglevLb(eps);
    const counts = countPicks(Array.from({ length: 20_000 }, (_, i) => lb.pick(userCtx(i))));
    for (const ep of eps) {
      const share = counts.get(ep)! / 20_000;
      assert.ok(Math.abs(share - 0.2) <= 0.02, `${ep.key}: ${share}`);
    }
  });

  it('gives endpoints slots in proportion to their weights; weight 0 gets none', () => {
    const eps = makeEndpoints(4);
    const weights = Float64Array.from([3, 1, 2, 0]);
    const counts = slotCounts(buildMaglevTable(eps, weights, 65537), 4);
    const expected = [3 / 6, 1 / 6, 2 / 6, 0];
    counts.forEach((count, i) => assert.ok(Math.abs(count / 65537 - expected[i]!) <= 0.01, `endpoint ${i}: ${count / 65537}`));
    assert.equal(counts[3], 0);

    // Through the balancer, with the weights carried by the endpoints themselves.
    const weighted = makeEndpoints(2, [3, 1]);
    const lb = maglevLb(weighted);
    const picks = countPicks(Array.from({ length: 20_000 }, (_, i) => lb.pick(userCtx(i))));
    const share = picks.get(weighted[0])! / 20_000;
    assert.ok(Math.abs(share - 0.75) <= 0.02, `share ${share}`);
  });

  it('remaps about 1/N of the keys when one endpoint of N leaves', () => {
    const n = 5;
    const eps = makeEndpoints(n);
    const before = maglevLb(eps);
    const after = maglevLb(eps.filter((_, i) => i !== 2));
    let moved = 0;
    let movedElsewhere = 0;
    for (let i = 0; i < 10_000; i++) {
      const was = before.pick(userCtx(i));
      const now = after.pick(userCtx(i));
      assert.notEqual(now, eps[2]);
      if (now === was) continue;
      moved++;
      if (was !== eps[2]) movedElsewhere++;
    }
    // The departed endpoint's keys (~1/N) must move; Maglev moves a few percent of the others too.
    assert.ok(moved / 10_000 >= 1 / n - 0.02 && moved / 10_000 <= 1 / n + 0.05, `moved ${moved}`);
    assert.ok(movedElsewhere / 10_000 <= 0.05, `moved between staying endpoints: ${movedElsewhere}`);
  });

  it('remaps about 1/(N+1) of the keys when an endpoint joins, mostly onto the new one', () => {
    const eps = makeEndpoints(6);
    const before = maglevLb(eps.slice(0, 5));
    const after = maglevLb(eps);
    let moved = 0;
    let ontoNew = 0;
    for (let i = 0; i < 10_000; i++) {
      const now = after.pick(userCtx(i));
      if (now === before.pick(userCtx(i))) continue;
      moved++;
      if (now === eps[5]) ontoNew++;
    }
    assert.ok(ontoNew / 10_000 >= 1 / 6 - 0.02, `onto the new endpoint: ${ontoNew}`);
    assert.ok((moved - ontoNew) / 10_000 <= 0.05, `moved between old endpoints: ${moved - ontoNew}`);
  });

  it('skips an ejected or excluded owner: other keys stay, its keys spread over the rest', () => {
    const eps = makeEndpoints(5);
    const down = eps[1]!;
    const full = maglevLb(eps);
    const withDown = maglevLb(eps, (ep) => ep !== down);
    const landed = new Set<EndpointState>();
    for (let i = 0; i < 5000; i++) {
      const owner = full.pick(userCtx(i))!;
      const now = withDown.pick(userCtx(i))!;
      assert.notEqual(now, down);
      if (owner !== down) assert.equal(now, owner, `key ${i} moved though its endpoint is up`);
      else landed.add(now);
      // A retry that excludes the first pick gets another endpoint, the same one every time.
      const retry = full.pick(userCtx(i), new Set([owner]));
      assert.ok(retry !== undefined && retry !== owner);
      assert.equal(full.pick(userCtx(i), new Set([owner])), retry);
    }
    assert.equal(landed.size, 4, 'the ejected endpoint\'s keys go to every other endpoint');
  });

  it('gives undefined when every endpoint is unavailable or excluded', () => {
    const eps = makeEndpoints(3);
    assert.equal(maglevLb(eps, () => false).pick(userCtx(1)), undefined);
    assert.equal(maglevLb(eps).pick(userCtx(1), new Set(eps)), undefined);
    assert.equal(maglevLb([]).pick(userCtx(1)), undefined);
  });

  it('honours tableSize; a size that is not a prime up to 5000011 is refused by the table and defaulted by the balancer', () => {
    const eps = makeEndpoints(3);
    const table = buildMaglevTable(eps, ones(3), 251);
    assert.equal(table.length, 251);
    assert.deepEqual(slotCounts(table, 3).map((c) => Math.abs(c - 251 / 3) <= 1), [true, true, true]);
    assert.throws(() => buildMaglevTable(eps, ones(3), 65536), RangeError);
    assert.throws(() => buildMaglevTable(eps, ones(3), 5000012), RangeError);
    const defaulted = maglevLb(eps, () => true, { ...byHeader, tableSize: 1000 });
    const standard = maglevLb(eps);
    for (let i = 0; i < 500; i++) assert.equal(defaulted.pick(userCtx(i)), standard.pick(userCtx(i)));
    assert.ok(isPrime(65537) && isPrime(5000011) && !isPrime(65536) && !isPrime(1));
  });

  const keyCases: { name: string; hashOn: IrHashOn; same: () => ReturnType<typeof makeContext>; other: (i: number) => ReturnType<typeof makeContext> }[] = [
    {
      name: 'header (name compared lower-case)',
      hashOn: { kind: 'header', name: 'X-Session' },
      same: () => makeContext({ headers: { 'x-session': 'abc' }, sourceIp: '203.0.113.9' }),
      other: (i) => makeContext({ headers: { 'x-session': 'abc' }, sourceIp: `203.0.113.${i}` }),
    },
    {
      name: 'cookie',
      hashOn: { kind: 'cookie', name: 'sid' },
      same: () => makeContext({ cookie: 'sid=42', headers: { 'x-user': 'a' } }),
      other: (i) => makeContext({ cookie: `a=${i}; sid=42; b=${i}`, headers: { 'x-user': `u${i}` } }),
    },
    {
      name: 'source ip',
      hashOn: { kind: 'source-ip' },
      same: () => makeContext({ sourceIp: '2001:db8::7', cookie: 'sid=1' }),
      other: (i) => makeContext({ sourceIp: '2001:db8::7', cookie: `sid=${i}` }),
    },
    {
      name: 'query parameter',
      hashOn: { kind: 'query-parameter', name: 'user' },
      same: () => ({ ...makeContext({ sourceIp: '192.0.2.1' }), query: (name: string) => (name === 'user' ? 'alice' : undefined) }),
      other: (i) => ({ ...makeContext({ sourceIp: `192.0.2.${i}` }), query: (name: string) => (name === 'user' ? 'alice' : String(i)) }),
    },
  ];
  for (const c of keyCases) {
    it(`hashes on the ${c.name} and nothing else`, () => {
      const eps = makeEndpoints(8);
      const lb = maglevLb(eps, () => true, { kind: 'maglev', hashOn: c.hashOn });
      const target = lb.pick(c.same());
      for (let i = 0; i < 100; i++) assert.equal(lb.pick(c.other(i)), target);
    });
  }

  it('falls back to random when the key is absent', () => {
    const eps = makeEndpoints(4);
    const lb = maglevLb(eps, () => true, { kind: 'maglev', hashOn: { kind: 'cookie', name: 'sid' } });
    const counts = countPicks(Array.from({ length: 400 }, () => lb.pick(makeContext({ cookie: 'other=1' }))));
    assert.equal(counts.size, 4);
  });
});
