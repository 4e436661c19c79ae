// One suite, every policy (Hono's shared router tests, for load balancers): whatever the policy,
// a pick is an available, not-yet-tried endpoint with positive weight, or undefined when none is
// left, and load spreads over all endpoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import type { IrLoadBalancer } from '../../src/ir/types.js';
import type { EndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import type { IsAvailable, LbContext } from '../../src/dataplane/upstream/lb/types.js';
import { countPicks, makeContext, makeEndpoints } from './lb-fixtures.js';

interface PolicyCase {
  readonly name: string;
  readonly config: IrLoadBalancer;
  /** The i-th request's context: ring hash gets a different key per request so load can spread. */
  readonly context: (i: number) => LbContext;
}

const POLICIES: readonly PolicyCase[] = [
  { name: 'round-robin', config: { kind: 'round-robin' }, context: () => makeContext() },
  { name: 'least-request', config: { kind: 'least-request' }, context: () => makeContext() },
  { name: 'least-request (3 choices)', config: { kind: 'least-request', choices: 3 }, context: () => makeContext() },
  { name: 'random', config: { kind: 'random' }, context: () => makeContext() },
  {
    name: 'ring-hash (header)',
    config: { kind: 'ring-hash', hashOn: { kind: 'header', name: 'X-User' } },
    context: (i) => makeContext({ headers: { 'x-user': `user-${i}` } }),
  },
  {
    name: 'ring-hash (cookie)',
    config: { kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'session' } },
    context: (i) => makeContext({ cookie: `theme=dark; session=s${i}; lang=en` }),
  },
  {
    name: 'ring-hash (source ip)',
    config: { kind: 'ring-hash', hashOn: { kind: 'source-ip' } },
    context: (i) => makeContext({ sourceIp: `198.51.100.${i % 250}` }),
  },
  {
    name: 'maglev (header)',
    config: { kind: 'maglev', hashOn: { kind: 'header', name: 'X-User' } },
    context: (i) => makeContext({ headers: { 'x-user': `user-${i}` } }),
  },
  {
    name: 'maglev (key absent: random, small table)',
    config: { kind: 'maglev', hashOn: { kind: 'header', name: 'x-missing' }, tableSize: 251 },
    context: () => makeContext(),
  },
  {
    name: 'ring-hash (key absent: random)',
    config: { kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-missing' } },
    context: () => makeContext(),
  },
];

const always: IsAvailable = () => true;

for (const policy of POLICIES) {
  describe(`load balancer conformance: ${policy.name}`, () => {
    const build = (endpoints: readonly EndpointState[], isAvailable: IsAvailable = always, seed = 7, weights?: readonly number[]) =>
      createLoadBalancer(policy.config, endpoints, { random: seededRandom(seed), isAvailable, ...(weights ? { weights } : {}) });

    it('picks only available endpoints', () => {
      const eps = makeEndpoints(5);
      const down = new Set([eps[1], eps[3]]);
      const lb = build(eps, (ep) => !down.has(ep));
      for (let i = 0; i < 500; i++) {
        const ep = lb.pick(policy.context(i));
        assert.ok(ep !== undefined && !down.has(ep), `pick ${i} was ${ep?.key}`);
      }
    });

    it('honours exclude (retry on another endpoint)', () => {
      const eps = makeEndpoints(4);
      const lb = build(eps);
      for (let i = 0; i < 300; i++) {
        const first = lb.pick(policy.context(i));
        assert.ok(first);
        const second = lb.pick(policy.context(i), new Set([first]));
        assert.ok(second && second !== first);
        const third = lb.pick(policy.context(i), new Set([first, second]));
        assert.ok(third && third !== first && third !== second);
      }
    });

    it('returns undefined when no endpoint is left', () => {
      const eps = makeEndpoints(3);
      assert.equal(build(eps, () => false).pick(policy.context(0)), undefined);
      assert.equal(build(eps).pick(policy.context(0), new Set(eps)), undefined);
      const oneUp = build(eps, (ep) => ep === eps[0]);
      assert.equal(oneUp.pick(policy.context(0), new Set([eps[0]!])), undefined);
      assert.equal(build([]).pick(policy.context(0)), undefined);
    });

    it('falls back to the one endpoint that is left', () => {
      const eps = makeEndpoints(6);
      const lb = build(eps, (ep) => ep === eps[4]);
      for (let i = 0; i < 50; i++) assert.equal(lb.pick(policy.context(i)), eps[4]);
    });

    it('spreads load across all endpoints', () => {
      const eps = makeEndpoints(4);
      const lb = build(eps);
      const picks = Array.from({ length: 4000 }, (_, i) => lb.pick(policy.context(i)));
      const counts = countPicks(picks);
      for (const ep of eps) {
        const share = (counts.get(ep) ?? 0) / picks.length;
        assert.ok(share > 0.18 && share < 0.32, `${ep.key} got ${share}`);
      }
    });

    it('never picks an endpoint of weight 0', () => {
      const eps = makeEndpoints(3, [1, 0, 1]);
      const lb = build(eps);
      for (let i = 0; i < 300; i++) assert.notEqual(lb.pick(policy.context(i)), eps[1]);
      assert.equal(build(makeEndpoints(2, [0, 0])).pick(policy.context(0)), undefined);
    });

    it('reads weights once, preferring per-cluster overrides', () => {
      const eps = makeEndpoints(2, [1, 1]);
      const lb = build(eps, always, 7, [1, 0]);
      eps[1]!.weight = 100; // a later acquire for another cluster must not change this balancer
      for (let i = 0; i < 200; i++) assert.equal(lb.pick(policy.context(i)), eps[0]);
    });

    it('is deterministic for a given seed', () => {
      const eps = makeEndpoints(5);
      const a = build(eps, always, 42);
      const b = build(eps, always, 42);
      for (let i = 0; i < 200; i++) assert.equal(a.pick(policy.context(i)), b.pick(policy.context(i)));
    });
  });
}
