// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, section 3.4), populated as Envoy's MaglevLoadBalancer does. A lookup table
// of a prime size M is filled once per apply: each endpoint has a permutation of the slots,
// (offset + j * skip) mod M, with offset and skip from two hashes of its key; the endpoints take
// turns claiming the next free slot of their own permutation until the table is full. A pick is one
// hash of the request's key and one array read: table[hash mod M].
//
// Why this shape:
// - M prime and 1 <= skip < M make every permutation visit every slot, so the fill always ends.
// - Turn-taking gives each endpoint M/N slots (±1) whatever the hashes, so the spread is even
//   without ring hash's many virtual points; removing one endpoint of N moves its own keys and only
//   a few percent of the others (the paper's "minimal disruption" is approximate, not exact).
// - Weights as Envoy: an endpoint takes a turn on iteration i only once i * weight has reached
//   its running target, which grows by the largest weight per slot taken; so slot counts follow
//   weights. Weight 0: no slots, never picked by hash.
// - The turns go in the order of the endpoints' keys, not their order in the cluster, so the table
//   (and every key's endpoint) does not depend on the order discovery lists the endpoints in.
//   Envoy fills in host-set order; the tables differ, the properties do not.
//
// When the owner is unavailable (ejected by passive or active health) or excluded (already tried by
// this request), the pick walks on to the next slots until a distinct usable endpoint, as the ring
// hash walks its circle: deterministic per key, and since neighbouring slots belong to endpoints in
// no particular order, an ejected endpoint's keys spread over the others. Envoy instead rebuilds its
// table over the healthy hosts; here health changes between applies must not rebuild anything.
// A request without a key gets a random endpoint, as with the ring hash.
import { isPrime } from '../../../core/primes.js';
import type { Random } from '../../../core/random.js';
import { MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE } from '../../../ir/defaults.js';
import type { IrHashOn } from '../../../ir/types.js';
import type { EndpointState } from '../endpoint-state.js';
import { hashString } from './hash.js';
import { compileHashKey } from './hash-key.js';
import { pickRandom } from './random.js';
import type { IsAvailable, LbContext, LoadBalancer } from './types.js';
import { VisitMarks } from './visit-marks.js';
import { usableOwnerFrom } from './walk-owners.js';
import type { WeightedSampler } from './weighted-sampler.js';

/** Owner indices per slot: 16 bits when the cluster has fewer than 65536 endpoints. */
export type MaglevTable = Uint16Array | Uint32Array;

export class MaglevBalancer implements LoadBalancer {
  private readonly table: MaglevTable;
  private readonly marks: VisitMarks;
  private readonly owning: number;
  private readonly keyOf: (ctx: LbContext) => string | undefined;

  /**
   * `tableSize`: the translators warn about and drop sizes that are not primes up to the bound; a
   * hand-written IR that still carries one gets the default rather than a failed apply.
   */
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly sampler: WeightedSampler,
    hashOn: IrHashOn,
    tableSize: number | undefined,
    private readonly random: Random,
    private readonly isAvailable: IsAvailable,
  ) {
    const size = tableSize !== undefined && isPrime(tableSize) && tableSize <= MAGLEV_MAX_TABLE_SIZE ? tableSize : MAGLEV_DEFAULT_TABLE_SIZE;
    this.table = buildMaglevTable(endpoints, sampler.weights, size);
    this.owning = sampler.weights.reduce((count, w) => (w > 0 ? count + 1 : count), 0);
    this.marks = new VisitMarks(endpoints.length);
    this.keyOf = compileHashKey(hashOn);
  }

  pick(ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const key = this.keyOf(ctx);
    if (key === undefined) return pickRandom(this.endpoints, this.sampler, this.random, this.isAvailable, exclude);
    return this.pickByHash(hashString(key), exclude);
  }

  /** The owner of slot `hash mod M`, walking on past unusable endpoints. */
  pickByHash(hash: number, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const table = this.table;
    const len = table.length;
    if (len === 0) return undefined;
    return usableOwnerFrom(table, hash % len, this.endpoints, this.marks, this.owning, exclude, this.isAvailable);
  }
}

/**
 * The lookup table: slot → index into `endpoints`. Empty when no endpoint has a positive weight.
 * Cost: about M·ln M permutation steps (the last free slots are found late, as in coupon
 * collecting), whatever the number of endpoints; a few milliseconds for M = 65537.
 */
export function buildMaglevTable(endpoints: readonly EndpointState[], weights: Float64Array, tableSize: number): MaglevTable {
  // A prime size is what guarantees every permutation reaches every slot (the fill terminates).
  if (!isPrime(tableSize) || tableSize > MAGLEV_MAX_TABLE_SIZE) {
    throw new RangeError(`maglev table size must be a prime from 2 to ${MAGLEV_MAX_TABLE_SIZE}, found ${tableSize}`);
  }
  const m = tableSize;
  const order: number[] = [];
  let maxWeight = 0;
  for (let i = 0; i < endpoints.length; i++) {
    const w = weights[i]!;
    if (w > 0) {
      order.push(i);
      if (w > maxWeight) maxWeight = w;
    }
  }
  const table = endpoints.length < 0xffff ? new Uint16Array(order.length === 0 ? 0 : m) : new Uint32Array(order.length === 0 ? 0 : m);
  if (order.length === 0) return table;
  order.sort((a, b) => {
    const ka = endpoints[a]!.key;
    const kb = endpoints[b]!.key;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });

  const n = order.length;
  // pos[e] is the slot endpoint e's permutation tries next: offset, then + skip each step (mod M).
  const pos = new Float64Array(n);
  const skip = new Float64Array(n);
  const target = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const key = endpoints[order[e]!]!.key;
    pos[e] = hashString(key) % m;
    skip[e] = (hashString(`${key}\u0000skip`) % (m - 1)) + 1;
    weight[e] = weights[order[e]!]!;
  }
  const empty = table instanceof Uint16Array ? 0xffff : 0xffffffff;
  table.fill(empty);

  let filled = 0;
  for (let iteration = 1; filled < m; iteration++) {
    for (let e = 0; e < n && filled < m; e++) {
      // An endpoint of the largest weight takes a turn every iteration; one of a third of it,
      // every third iteration (Envoy's target_weight_).
      if (iteration * weight[e]! < target[e]!) continue;
      target[e] = target[e]! + maxWeight;
      const sk = skip[e]!;
      let slot = pos[e]!;
      // slot and skip are below M, so one subtraction does the modulo.
      while (table[slot] !== empty) if ((slot += sk) >= m) slot -= m;
      table[slot] = order[e]!;
      pos[e] = slot + sk >= m ? slot + sk - m : slot + sk;
      filled++;
    }
  }
  return table;
}
