// Random choice in proportion to weight. One draw and one lookup; when the draw lands on an
// unavailable or excluded endpoint, an exact weighted draw over the usable ones decides (so the
// remaining endpoints keep their relative weights, with no retry loop of unknown length).
import type { Random } from '../../../core/random.js';
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable, LbContext, LoadBalancer } from './types.js';
import { WeightedSampler, isUsable } from './weighted-sampler.js';

export class RandomBalancer implements LoadBalancer {
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly sampler: WeightedSampler,
    private readonly random: Random,
    private readonly isAvailable: IsAvailable,
  ) {}

  pick(_ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    return pickRandom(this.endpoints, this.sampler, this.random, this.isAvailable, exclude);
  }
}

/** Shared with ring-hash, which falls back to a random pick when the request has no hash key. */
export function pickRandom(
  endpoints: readonly EndpointState[],
  sampler: WeightedSampler,
  random: Random,
  isAvailable: IsAvailable,
  exclude: ReadonlySet<EndpointState> | undefined,
): EndpointState | undefined {
  const i = sampler.sample(random.next());
  if (i < 0) return undefined;
  const ep = endpoints[i]!;
  if (isUsable(ep, exclude, isAvailable)) return ep;
  return sampler.sampleUsable(random.next(), exclude, isAvailable);
}
