// Compiles one cluster's load-balancing policy over its endpoints, once per apply. Everything a
// pick needs (weight tables, schedules, rings, the hash-key reader) is built here; the request
// path only calls `pick`.
import { assertNever } from '../../../core/assert-never.js';
import type { Random } from '../../../core/random.js';
import type { IrLoadBalancer } from '../../../ir/types.js';
import type { EndpointState } from '../endpoint-state.js';
import { LeastRequestBalancer } from './least-request.js';
import { MaglevBalancer } from './maglev.js';
import { RandomBalancer } from './random.js';
import { RingHashBalancer } from './ring-hash.js';
import { RoundRobinBalancer } from './round-robin.js';
import type { IsAvailable, LoadBalancer } from './types.js';
import { WeightedSampler, resolveWeights } from './weighted-sampler.js';

export interface LoadBalancerDeps {
  readonly random: Random;
  /** Passive health's verdict (`PassiveHealth.isAvailable`, or `alwaysAvailable`). */
  readonly isAvailable: IsAvailable;
  /**
   * This cluster's weight for each endpoint (same order), when it differs from the shared
   * `EndpointState.weight` (one endpoint in two clusters with different weights). Weights are
   * read once, here: changing `EndpointState.weight` later does not affect a built balancer.
   */
  readonly weights?: readonly number[];
}

export function createLoadBalancer(config: IrLoadBalancer, endpoints: readonly EndpointState[], deps: LoadBalancerDeps): LoadBalancer {
  // A private copy: the caller may reuse its array, and a balancer's tables index into this one.
  const eps = endpoints.slice();
  const weights = resolveWeights(eps, deps.weights);
  switch (config.kind) {
    case 'round-robin':
      return new RoundRobinBalancer(eps, weights, deps.random, deps.isAvailable);
    case 'least-request':
      return new LeastRequestBalancer(eps, new WeightedSampler(eps, weights), config.choices, deps.random, deps.isAvailable);
    case 'random':
      return new RandomBalancer(eps, new WeightedSampler(eps, weights), deps.random, deps.isAvailable);
    case 'ring-hash':
      return new RingHashBalancer(eps, new WeightedSampler(eps, weights), config.hashOn, config.ringSize, deps.random, deps.isAvailable);
    case 'maglev':
      return new MaglevBalancer(eps, new WeightedSampler(eps, weights), config.hashOn, config.tableSize, deps.random, deps.isAvailable);
    default:
      return assertNever(config, 'load balancer');
  }
}
