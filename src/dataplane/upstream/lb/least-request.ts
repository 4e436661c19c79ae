// Least request by "power of two choices" (Mitzenmacher; Envoy's LEAST_REQUEST): draw `choices`
// endpoints at random (in proportion to weight) and take the one with the fewest requests in
// flight, relative to its weight. Nearly as good as a full scan for the least loaded, at the cost
// of two random draws, and it avoids the herd a full scan causes when many pickers see the same
// minimum.
//
// Draws may repeat an endpoint (as in Envoy). Draws that land on an unavailable or excluded
// endpoint are wasted; when every draw is wasted, a full scan over the usable endpoints decides.
// A cluster no larger than `choices` compares every endpoint instead: with two endpoints, two
// draws with repetition would send a quarter of the requests to the busier one. The first
// candidate is still a weighted draw and wins ties, so idle endpoints share by weight.
import type { Random } from '../../../core/random.js';
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable, LbContext, LoadBalancer } from './types.js';
import { WeightedSampler, isUsable } from './weighted-sampler.js';

export const DEFAULT_LEAST_REQUEST_CHOICES = 2;

export class LeastRequestBalancer implements LoadBalancer {
  private readonly choices: number;
  /** 1 / weight per endpoint, so the comparison is a multiply (0 for weight-0 endpoints). */
  private readonly inverseWeights: Float64Array;

  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly sampler: WeightedSampler,
    choices: number | undefined,
    private readonly random: Random,
    private readonly isAvailable: IsAvailable,
  ) {
    this.choices = Math.max(1, Math.floor(choices ?? DEFAULT_LEAST_REQUEST_CHOICES));
    this.inverseWeights = sampler.weights.map((w) => (w > 0 ? 1 / w : 0));
  }

  pick(_ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const eps = this.endpoints;
    if (eps.length <= this.choices) return this.compareAll(this.sampler.sample(this.random.next()), exclude);
    let best: EndpointState | undefined;
    let bestLoad = Infinity;
    for (let c = 0; c < this.choices; c++) {
      const i = this.sampler.sample(this.random.next());
      if (i < 0) return undefined;
      const ep = eps[i]!;
      if (!isUsable(ep, exclude, this.isAvailable)) continue;
      // Strictly lower wins: on a tie the earlier draw stays, so an idle cluster is spread in
      // proportion to weight by the weighted draw itself.
      const load = ep.inFlight * this.inverseWeights[i]!;
      if (load < bestLoad) {
        best = ep;
        bestLoad = load;
      }
    }
    return best ?? this.scan(exclude);
  }

  /** Least loaded usable endpoint, starting at `first`, which keeps ties. */
  private compareAll(first: number, exclude: ReadonlySet<EndpointState> | undefined): EndpointState | undefined {
    if (first < 0) return undefined;
    const eps = this.endpoints;
    const n = eps.length;
    let best: EndpointState | undefined;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const i = first + k < n ? first + k : first + k - n;
      const inverse = this.inverseWeights[i]!;
      const ep = eps[i]!;
      if (inverse === 0 || !isUsable(ep, exclude, this.isAvailable)) continue;
      const load = ep.inFlight * inverse;
      if (load < bestLoad) {
        best = ep;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Least loaded usable endpoint, starting at a random offset so ties do not favour index 0. */
  private scan(exclude: ReadonlySet<EndpointState> | undefined): EndpointState | undefined {
    return this.compareAll(Math.floor(this.random.next() * this.endpoints.length), exclude);
  }
}
