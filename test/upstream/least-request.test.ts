import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

const ctx = makeContext();

describe('least request (power of two choices)', () => {
  it('with no more endpoints than choices, never picks the busier one', () => {
    const eps = makeEndpoints(2);
    eps[0]!.inFlight = 3;
    const lb = createLoadBalancer({ kind: 'least-request' }, eps, { random: seededRandom(5), isAvailable: () => true });
    const counts = countPicks(Array.from({ length: 2_000 }, () => lb.pick(ctx)));
    assert.equal(counts.get(eps[0]) ?? 0, 0);
  });

  it('prefers the endpoint with fewer requests in flight (power of two choices)', () => {
    const eps = makeEndpoints(10);
    eps[0]!.inFlight = 3;
    const lb = createLoadBalancer({ kind: 'least-request' }, eps, { random: seededRandom(5), isAvailable: () => true });
    // The loaded one wins only when both draws land on it: 1/100 of the time.
    const loaded = (countPicks(Array.from({ length: 50_000 }, () => lb.pick(ctx))).get(eps[0]) ?? 0) / 50_000;
    assert.ok(Math.abs(loaded - 0.01) < 0.003, `loaded share ${loaded}`);
  });

  it('more choices find the least loaded more often', () => {
    const eps = makeEndpoints(10);
    eps[0]!.inFlight = 3;
    const lb = createLoadBalancer({ kind: 'least-request', choices: 3 }, eps, { random: seededRandom(5), isAvailable: () => true });
    const loaded = (countPicks(Array.from({ length: 50_000 }, () => lb.pick(ctx))).get(eps[0]) ?? 0) / 50_000;
    assert.ok(loaded < 0.003, `loaded share ${loaded}`);
  });

  it('compares in-flight counts relative to weight', () => {
    const eps = makeEndpoints(2, [4, 1]);
    eps[0]!.inFlight = 4; // 4 / 4 = 1
    eps[1]!.inFlight = 2; // 2 / 1 = 2
    const lb = createLoadBalancer({ kind: 'least-request', choices: 8 }, eps, { random: seededRandom(1), isAvailable: () => true });
    const counts = countPicks(Array.from({ length: 2000 }, () => lb.pick(ctx)));
    assert.ok(counts.get(eps[0])! > 1990);
  });

  it('balances a simulated load: in-flight counts stay level', () => {
    const eps = makeEndpoints(5);
    const random = seededRandom(8);
    const lb = createLoadBalancer({ kind: 'least-request' }, eps, { random, isAvailable: () => true });
    const open: (typeof eps)[number][] = [];
    for (let i = 0; i < 5000; i++) {
      const ep = lb.pick(ctx)!;
      ep.inFlight++;
      open.push(ep);
      if (open.length > 50) {
        const done = open.splice(Math.floor(random.next() * open.length), 1)[0]!;
        done.inFlight--;
      }
    }
    const loads = eps.map((ep) => ep.inFlight);
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 4, `in flight ${loads.join(',')}`);
  });

  it('idle weighted endpoints get traffic in proportion to weight', () => {
    const eps = makeEndpoints(2, [3, 1]);
    const lb = createLoadBalancer({ kind: 'least-request' }, eps, { random: seededRandom(4), isAvailable: () => true });
    const share = countPicks(Array.from({ length: 20_000 }, () => lb.pick(ctx))).get(eps[0])! / 20_000;
    assert.ok(Math.abs(share - 0.75) < 0.015, `share ${share}`);
  });

  it('finds the only usable endpoint even when every draw misses it', () => {
    const eps = makeEndpoints(50);
    const lb = createLoadBalancer({ kind: 'least-request' }, eps, { random: seededRandom(4), isAvailable: (ep) => ep === eps[37] });
    for (let i = 0; i < 20; i++) assert.equal(lb.pick(ctx), eps[37]);
  });
});
