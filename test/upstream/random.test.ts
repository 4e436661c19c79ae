import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

const ctx = makeContext();
const N = 60_000;

function shares(weights: number[], down: number[] = []): number[] {
  const eps = makeEndpoints(weights.length, weights);
  const off = new Set(down.map((i) => eps[i]));
  const lb = createLoadBalancer({ kind: 'random' }, eps, { random: seededRandom(11), isAvailable: (ep) => !off.has(ep) });
  const counts = countPicks(Array.from({ length: N }, () => lb.pick(ctx)));
  return eps.map((ep) => (counts.get(ep) ?? 0) / N);
}

describe('random', () => {
  it('picks in proportion to weight (seeded, within 1.5 points)', () => {
    const got = shares([1, 2, 3, 4]);
    [0.1, 0.2, 0.3, 0.4].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 0.015, `endpoint ${i}: ${got[i]} vs ${want}`));
  });

  it('keeps relative weights among the available endpoints', () => {
    const got = shares([1, 2, 3, 4], [3]);
    [1 / 6, 2 / 6, 3 / 6, 0].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 0.015, `endpoint ${i}: ${got[i]} vs ${want}`));
  });

  it('is uniform with equal weights', () => {
    for (const share of shares([1, 1, 1, 1, 1])) assert.ok(Math.abs(share - 0.2) < 0.015);
  });
});
