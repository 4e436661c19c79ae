import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import type { IrHashOn, IrLoadBalancer } from '../../src/ir/types.js';
import type { EndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { hashString } from '../../src/dataplane/upstream/lb/hash.js';
import { POINTS_PER_WEIGHT_UNIT, buildRing } from '../../src/dataplane/upstream/lb/ring-hash.js';
import type { IsAvailable } from '../../src/dataplane/upstream/lb/types.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

const byHeader: IrLoadBalancer = { kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-user' } };

function ringLb(eps: readonly EndpointState[], isAvailable: IsAvailable = () => true, config: IrLoadBalancer = byHeader, seed = 1) {
  return createLoadBalancer(config, eps, { random: seededRandom(seed), isAvailable });
}

const userCtx = (i: number | string) => makeContext({ headers: { 'x-user': `user-${i}` } });

describe('ring hash', () => {
  it('sends the same key to the same endpoint, whatever the seed or endpoint order', () => {
    const eps = makeEndpoints(6);
    const a = ringLb(eps, () => true, byHeader, 1);
    const b = ringLb([...eps].reverse(), () => true, byHeader, 99);
    for (let i = 0; i < 500; i++) {
      const first = a.pick(userCtx(i));
      assert.equal(a.pick(userCtx(i)), first);
      assert.equal(b.pick(userCtx(i)), first);
    }
  });

  it('spreads keys evenly (160 points per endpoint)', () => {
    const eps = makeEndpoints(5);
    const lb = ringLb(eps);
    const counts = countPicks(Array.from({ length: 20_000 }, (_, i) => lb.pick(userCtx(i))));
    for (const ep of eps) {
      const share = counts.get(ep)! / 20_000;
      assert.ok(share > 0.15 && share < 0.25, `${ep.key}: ${share}`);
    }
  });

  it('remaps minimally: removing an endpoint moves only the keys it owned', () => {
    const eps = makeEndpoints(5);
    const before = ringLb(eps);
    const after = ringLb(eps.filter((_, i) => i !== 2));
    let moved = 0;
    for (let i = 0; i < 10_000; i++) {
      const was = before.pick(userCtx(i));
      const now = after.pick(userCtx(i));
      if (was !== eps[2]) assert.equal(now, was, `key ${i} moved from ${was?.key} to ${now?.key}`);
      else moved++;
    }
    assert.ok(moved > 1000 && moved < 3000, `moved ${moved}`);
  });

  it('adding an endpoint moves keys only onto the new one', () => {
    const eps = makeEndpoints(6);
    const before = ringLb(eps.slice(0, 5));
    const after = ringLb(eps);
    for (let i = 0; i < 5000; i++) {
      const now = after.pick(userCtx(i));
      if (now !== eps[5]) assert.equal(now, before.pick(userCtx(i)));
    }
  });

  it('walks past an unavailable or excluded owner to where the key would go without it', () => {
    const eps = makeEndpoints(5);
    const down = eps[1]!;
    const withDown = ringLb(eps, (ep) => ep !== down);
    const withoutIt = ringLb(eps.filter((ep) => ep !== down));
    const full = ringLb(eps);
    const ringsWithout = new Map(eps.map((gone) => [gone, ringLb(eps.filter((ep) => ep !== gone))]));
    for (let i = 0; i < 3000; i++) {
      assert.equal(withDown.pick(userCtx(i)), withoutIt.pick(userCtx(i)));
      const first = full.pick(userCtx(i))!;
      const retry = full.pick(userCtx(i), new Set([first]));
      assert.equal(retry, ringsWithout.get(first)!.pick(userCtx(i)));
    }
  });

  it('gives weighted endpoints proportionally more keys', () => {
    const eps = makeEndpoints(2, [3, 1]);
    const lb = ringLb(eps);
    const counts = countPicks(Array.from({ length: 20_000 }, (_, i) => lb.pick(userCtx(i))));
    const share = counts.get(eps[0])! / 20_000;
    assert.ok(share > 0.68 && share < 0.82, `share ${share}`);
    const ring = buildRing(eps, Float64Array.from([3, 1]), 0);
    assert.equal(ring.hashes.length, 4 * POINTS_PER_WEIGHT_UNIT);
  });

  it('honours ringSize as a minimum total, and keeps the ring sorted', () => {
    const eps = makeEndpoints(3);
    const ring = buildRing(eps, Float64Array.from([1, 1, 1]), 3000);
    assert.equal(ring.hashes.length, 3000);
    for (let k = 1; k < ring.hashes.length; k++) assert.ok(ring.hashes[k - 1]! <= ring.hashes[k]!);
    assert.equal(buildRing(eps, Float64Array.from([1, 1, 1]), 0).hashes.length, 3 * POINTS_PER_WEIGHT_UNIT);
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
  ];
  for (const c of keyCases) {
    it(`hashes on the ${c.name} and nothing else`, () => {
      const eps = makeEndpoints(8);
      const lb = ringLb(eps, () => true, { kind: 'ring-hash', hashOn: c.hashOn });
      const target = lb.pick(c.same());
      for (let i = 0; i < 100; i++) assert.equal(lb.pick(c.other(i)), target);
    });
  }

  it('falls back to random when the key is absent', () => {
    const eps = makeEndpoints(4);
    const lb = ringLb(eps, () => true, { kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'sid' } });
    const counts = countPicks(Array.from({ length: 400 }, () => lb.pick(makeContext({ cookie: 'other=1' }))));
    assert.equal(counts.size, 4);
  });

  it('hashString is FNV-1a 32 followed by fmix32', () => {
    // Reference: FNV-1a test vectors (IETF draft-eastlake-fnv) run through MurmurHash3's fmix32,
    // computed here with BigInt so the reference shares no code with the implementation.
    const fmix32 = (x: bigint): number => {
      const M = 0xffffffffn;
      x ^= x >> 16n;
      x = (x * 0x85ebca6bn) & M;
      x ^= x >> 13n;
      x = (x * 0xc2b2ae35n) & M;
      x ^= x >> 16n;
      return Number(x);
    };
    assert.equal(hashString(''), fmix32(0x811c9dc5n));
    assert.equal(hashString('a'), fmix32(0xe40c292cn));
    assert.equal(hashString('foobar'), fmix32(0xbf9cf968n));
    assert.equal(hashString('10.0.0.1:8080_0'), hashString('10.0.0.1:8080_0'));
    assert.notEqual(hashString('10.0.0.1:8080_0'), hashString('10.0.0.1:8080_1'));
    for (const s of ['a', 'user-1', '198.51.100.7']) {
      const h = hashString(s);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });
});
