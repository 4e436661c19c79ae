// Consistent hashing on a ketama-style ring: each endpoint owns points hash(`${key}_${j}`) on a
// 32-bit circle, and a request goes to the owner of the first point at or after hash(its key).
// Built once per apply: two typed arrays sorted by hash; a pick is one hash of the key and one
// binary search.
//
// Points per endpoint are 160 per weight unit (ketama's figure; a weight unit is the smallest
// positive weight in the cluster), independent of how many endpoints the cluster has. So when an
// endpoint leaves, only the keys it owned move; every other key stays where it was, and a pod
// rollout does not reshuffle sticky sessions. Envoy instead spreads a fixed total (its
// minimum_ring_size, 1024) over the endpoints, so every removal also moves some keys between the
// endpoints that stay. `ringSize` keeps Envoy's meaning, a minimum total: a cluster whose points
// would fall short of it gets more points per unit, and then removals move some other keys again.
// It defaults to 0 (no minimum): 160 points per endpoint already spread keys within a few
// percent. (Removing the lightest endpoint of a weighted cluster changes the unit, and with it the
// points of the others.)
//
// When the owner is unavailable or excluded, the walk goes on clockwise to the next distinct
// endpoint, as Envoy does, so the request lands where the key would go if that endpoint left.
// A request without a key (header or cookie missing) gets a random endpoint.
import type { Random } from '../../../core/random.js';
import type { IrHashOn } from '../../../ir/types.js';
import type { EndpointState } from '../endpoint-state.js';
import { hashString } from './hash.js';
import { compileHashKey } from './hash-key.js';
import { pickRandom } from './random.js';
import type { IsAvailable, LbContext, LoadBalancer } from './types.js';
import { VisitMarks } from './visit-marks.js';
import { usableOwnerFrom } from './walk-owners.js';
import type { WeightedSampler } from './weighted-sampler.js';

export const POINTS_PER_WEIGHT_UNIT = 160;
/** Envoy's maximum_ring_size default: bounds memory (8 bytes a point) and build time. */
export const MAX_RING_POINTS = 8 * 1024 * 1024;
/** Endpoints per cluster the ring can index (2^21); see the packing in buildRing. */
const OWNER_SPACE = 2 ** 21;

export class RingHashBalancer implements LoadBalancer {
  private readonly hashes: Uint32Array;
  private readonly owners: Uint32Array;
  private readonly marks: VisitMarks;
  private readonly owning: number;
  private readonly keyOf: (ctx: LbContext) => string | undefined;

  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly sampler: WeightedSampler,
    hashOn: IrHashOn,
    ringSize: number | undefined,
    private readonly random: Random,
    private readonly isAvailable: IsAvailable,
  ) {
    const ring = buildRing(endpoints, sampler.weights, ringSize ?? 0);
    this.hashes = ring.hashes;
    this.owners = ring.owners;
    this.owning = sampler.weights.reduce((count, w) => (w > 0 ? count + 1 : count), 0);
    this.marks = new VisitMarks(endpoints.length);
    this.keyOf = compileHashKey(hashOn);
  }

  pick(ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const key = this.keyOf(ctx);
    if (key === undefined) return pickRandom(this.endpoints, this.sampler, this.random, this.isAvailable, exclude);
    return this.pickByHash(hashString(key), exclude);
  }

  /** The owner of the first point at or after `hash`, walking on past unusable endpoints. */
  pickByHash(hash: number, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const hashes = this.hashes;
    const len = hashes.length;
    if (len === 0) return undefined;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return usableOwnerFrom(this.owners, lo === len ? 0 : lo, this.endpoints, this.marks, this.owning, exclude, this.isAvailable);
  }
}

export function buildRing(
  endpoints: readonly EndpointState[],
  weights: Float64Array,
  minRingSize: number,
): { hashes: Uint32Array; owners: Uint32Array } {
  if (endpoints.length > OWNER_SPACE) throw new RangeError(`ring-hash supports up to ${OWNER_SPACE} endpoints per cluster`);
  let minWeight = Infinity;
  let units = 0;
  for (const w of weights) if (w > 0 && w < minWeight) minWeight = w;
  for (const w of weights) if (w > 0) units += w / minWeight;
  if (units === 0) return { hashes: new Uint32Array(0), owners: new Uint32Array(0) };
  let perUnit = Math.max(POINTS_PER_WEIGHT_UNIT, Math.ceil(Math.min(minRingSize, MAX_RING_POINTS) / units));
  if (perUnit * units > MAX_RING_POINTS) perUnit = MAX_RING_POINTS / units;

  const counts = new Float64Array(endpoints.length);
  let total = 0;
  for (let i = 0; i < endpoints.length; i++) {
    const w = weights[i]!;
    total += counts[i] = w > 0 ? Math.max(1, Math.round((perUnit * w) / minWeight)) : 0;
  }
  // Each point is packed as hash * 2^21 + owner into one float (exact below 2^53), so a native
  // numeric sort orders the ring without a comparator call per comparison; 32-bit collisions go to
  // the lower index.
  const packed = new Float64Array(total);
  let t = 0;
  for (let i = 0; i < endpoints.length; i++) {
    const prefix = `${endpoints[i]!.key}_`;
    for (let j = 0; j < counts[i]!; j++) packed[t++] = hashString(prefix + j) * OWNER_SPACE + i;
  }
  packed.sort();
  const hashes = new Uint32Array(total);
  const owners = new Uint32Array(total);
  for (let k = 0; k < total; k++) {
    const v = packed[k]!;
    const h = Math.floor(v / OWNER_SPACE);
    hashes[k] = h;
    owners[k] = v - h * OWNER_SPACE;
  }
  return { hashes, owners };
}
