// Weighted random choice over one cluster's endpoints, shared by the random, least-request and
// ring-hash (key absent) policies. The cumulative table is built once; a draw is one binary search
// (or one multiply when all weights are equal).
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable } from './types.js';

/**
 * Per-cluster weights: `override[i]` when given (an endpoint shared by two clusters may weigh
 * differently in each), else `endpoints[i].weight`. A weight that is not a positive finite
 * number is 0: such an endpoint is never picked (a drained endpoint, as a Gateway API backend of
 * weight 0 is never chosen).
 */
export function resolveWeights(endpoints: readonly EndpointState[], override?: readonly number[]): Float64Array {
  const weights = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) {
    const w = override?.[i] ?? endpoints[i]!.weight;
    weights[i] = Number.isFinite(w) && w > 0 ? w : 0;
  }
  return weights;
}

/** True when every endpoint has the same positive weight (the plain, unweighted case). */
export function hasEqualWeights(weights: Float64Array): boolean {
  const first = weights[0];
  if (first === undefined || first === 0) return weights.length === 0;
  for (let i = 1; i < weights.length; i++) if (weights[i] !== first) return false;
  return true;
}

export class WeightedSampler {
  readonly equal: boolean;
  readonly total: number;
  /** cumulative[i] = sum of weights[0..i]. */
  private readonly cumulative: Float64Array;

  constructor(
    private readonly endpoints: readonly EndpointState[],
    readonly weights: Float64Array,
  ) {
    this.equal = hasEqualWeights(weights);
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) this.cumulative[i] = sum += weights[i]!;
    this.total = sum;
  }

  /** Index drawn in proportion to weight from `r` in [0, 1); -1 when every weight is 0. */
  sample(r: number): number {
    const n = this.cumulative.length;
    if (this.equal) return n === 0 ? -1 : Math.floor(r * n);
    if (this.total === 0) return -1;
    const target = r * this.total;
    // First index whose cumulative weight exceeds the target (zero-weight entries never qualify).
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Exact weighted draw among the endpoints that are available and not excluded: two passes, no
   * allocation. The slow path, taken after a plain draw hit an unusable endpoint.
   */
  sampleUsable(r: number, exclude: ReadonlySet<EndpointState> | undefined, isAvailable: IsAvailable): EndpointState | undefined {
    const eps = this.endpoints;
    let usable = 0;
    for (let i = 0; i < eps.length; i++) {
      const w = this.weights[i]!;
      if (w > 0 && isUsable(eps[i]!, exclude, isAvailable)) usable += w;
    }
    if (usable === 0) return undefined;
    let target = r * usable;
    let last: EndpointState | undefined;
    // Availability is read again in the second pass; if it flipped in between (a clock tick), the
    // last usable endpoint seen absorbs the rounding.
    for (let i = 0; i < eps.length; i++) {
      const w = this.weights[i]!;
      const ep = eps[i]!;
      if (w === 0 || !isUsable(ep, exclude, isAvailable)) continue;
      last = ep;
      target -= w;
      if (target < 0) return ep;
    }
    return last;
  }
}

/** Not tried yet by this request, and allowed by passive health. */
export function isUsable(ep: EndpointState, exclude: ReadonlySet<EndpointState> | undefined, isAvailable: IsAvailable): boolean {
  return (exclude === undefined || !exclude.has(ep)) && isAvailable(ep);
}
