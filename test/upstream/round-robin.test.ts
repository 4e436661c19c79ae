import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { MAX_SCHEDULE_LENGTH, buildSchedule } from '../../src/dataplane/upstream/lb/round-robin.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

const ctx = makeContext();

describe('round robin', () => {
  it('rotates through equal-weight endpoints in order', () => {
    const eps = makeEndpoints(4);
    const lb = createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(3), isAvailable: () => true });
    const first = lb.pick(ctx)!;
    const start = eps.indexOf(first);
    for (let i = 1; i < 12; i++) assert.equal(lb.pick(ctx), eps[(start + i) % 4]);
  });

  it('starts at a random position (Envoy), so gateways do not all hit endpoint 0 first', () => {
    const eps = makeEndpoints(8);
    const firsts = new Set(
      Array.from({ length: 40 }, (_, seed) => createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(seed), isAvailable: () => true }).pick(ctx)),
    );
    assert.ok(firsts.size > 4);
  });

  it('skips unavailable endpoints and keeps the rotation of the others', () => {
    const eps = makeEndpoints(4);
    const down = new Set([eps[2]]);
    const lb = createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(1), isAvailable: (ep) => !down.has(ep) });
    const picks = Array.from({ length: 9 }, () => lb.pick(ctx)!);
    const order = picks.map((ep) => eps.indexOf(ep));
    for (let i = 1; i < order.length; i++) {
      const expected = order[i - 1] === 1 ? 3 : (order[i - 1]! + 1) % 4;
      assert.equal(order[i], expected, `order ${order.join(',')}`);
    }
  });

  it('gives weighted endpoints exactly their share of every pass', () => {
    const eps = makeEndpoints(3, [5, 1, 1]);
    const lb = createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(9), isAvailable: () => true });
    const counts = countPicks(Array.from({ length: 700 }, () => lb.pick(ctx)));
    assert.deepEqual([counts.get(eps[0]), counts.get(eps[1]), counts.get(eps[2])], [500, 100, 100]);
  });

  it('interleaves weighted turns smoothly instead of in bursts', () => {
    // nginx's smooth WRR gives a a b a c a a; stride scheduling gives a a a b c a a. Either way no
    // run of the heavy endpoint is longer than 3 across pass boundaries.
    assert.deepEqual(Array.from(buildSchedule(Float64Array.from([5, 1, 1]))), [0, 0, 0, 1, 2, 0, 0]);
    const schedule = Array.from(buildSchedule(Float64Array.from([3, 2])));
    assert.deepEqual(schedule, [0, 1, 0, 1, 0]);
  });

  it('reduces weights by their common divisor and handles fractions', () => {
    assert.equal(buildSchedule(Float64Array.from([300, 100, 200])).length, 6);
    const fractional = Array.from(buildSchedule(Float64Array.from([0.5, 1.5])));
    assert.equal(fractional.filter((i) => i === 1).length, 3 * fractional.filter((i) => i === 0).length);
  });

  it('caps the schedule length for huge weights, keeping every endpoint', () => {
    const weights = Float64Array.from([1_000_003, 999_999, 7]);
    const schedule = buildSchedule(weights);
    assert.ok(schedule.length <= MAX_SCHEDULE_LENGTH + weights.length);
    assert.ok(schedule.includes(2));
  });

  it('weighted proportions hold among the remaining endpoints when one is down', () => {
    const eps = makeEndpoints(3, [3, 1, 2]);
    const lb = createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(2), isAvailable: (ep) => ep !== eps[2] });
    const counts = countPicks(Array.from({ length: 400 }, () => lb.pick(ctx)));
    assert.equal(counts.get(eps[0]), 300);
    assert.equal(counts.get(eps[1]), 100);
  });
});
