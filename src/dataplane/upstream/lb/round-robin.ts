// Round robin, weighted when endpoint weights differ. The order is compiled once into a schedule
// of endpoint indices (earliest deadline first, as Envoy does, in stride-scheduling form: the k-th
// of endpoint i's c_i turns per pass is due at (k + 1/2) / c_i, turns sorted by due time, ties by
// index), so a pick is one array read and a cursor increment. Equal weights give the plain rotation
// [0, 1, ..., n-1]; weights 5:1:1 give a a a b c a a, interleaved like nginx's smooth weighted
// round robin rather than a burst of five a's, and without its O(n) work per pick.
//
// Unavailable or excluded endpoints are skipped. Each endpoint still gets its share of every pass
// over the schedule, so the remaining endpoints keep their relative weights.
import type { Random } from '../../../core/random.js';
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable, LbContext, LoadBalancer } from './types.js';
import { VisitMarks } from './visit-marks.js';
import { isUsable } from './weighted-sampler.js';

/** Upper bound of the schedule length; bigger weight sums are scaled down to fit. */
export const MAX_SCHEDULE_LENGTH = 8192;

export class RoundRobinBalancer implements LoadBalancer {
  private readonly schedule: Uint32Array;
  private cursor: number;
  private readonly marks: VisitMarks;
  /** Endpoints that appear in the schedule (weight > 0). */
  private readonly scheduled: number;

  constructor(
    private readonly endpoints: readonly EndpointState[],
    weights: Float64Array,
    random: Random,
    private readonly isAvailable: IsAvailable,
  ) {
    this.schedule = buildSchedule(weights);
    this.scheduled = weights.reduce((count, w) => (w > 0 ? count + 1 : count), 0);
    // A random start, as Envoy does, so that many gateway processes (or clusters sharing the same
    // endpoints) do not all send their first requests to the same endpoint.
    this.cursor = Math.floor(random.next() * this.schedule.length);
    this.marks = new VisitMarks(endpoints.length);
  }

  pick(_ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined {
    const schedule = this.schedule;
    const len = schedule.length;
    if (len === 0) return undefined;
    let c = this.cursor;
    let index = schedule[c]!;
    let ep = this.endpoints[index]!;
    c = c + 1 === len ? 0 : c + 1;
    this.cursor = c;
    if (isUsable(ep, exclude, this.isAvailable)) return ep;

    // Slow path: walk on, checking each distinct endpoint at most once.
    const marks = this.marks;
    marks.begin();
    marks.mark(index);
    let rejected = 1;
    for (let step = 1; step < len && rejected < this.scheduled; step++) {
      index = schedule[c]!;
      c = c + 1 === len ? 0 : c + 1;
      if (!marks.mark(index)) continue;
      ep = this.endpoints[index]!;
      if (isUsable(ep, exclude, this.isAvailable)) {
        this.cursor = c;
        return ep;
      }
      rejected++;
    }
    return undefined;
  }
}

/**
 * EDF order of integer turn counts derived from the weights: counts are the weights reduced by
 * their greatest common divisor (integers) or scaled to integers (fractions), then scaled down to
 * MAX_SCHEDULE_LENGTH when needed, keeping at least one turn per endpoint of positive weight.
 */
export function buildSchedule(weights: Float64Array): Uint32Array {
  const counts = turnCounts(weights);
  let total = 0;
  for (const c of counts) total += c;
  const turnIndex = new Uint32Array(total);
  const due = new Float64Array(total);
  let t = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    for (let k = 0; k < c; k++, t++) {
      turnIndex[t] = i;
      due[t] = (k + 0.5) / c;
    }
  }
  const order = Array.from({ length: total }, (_, j) => j);
  order.sort((a, b) => due[a]! - due[b]! || turnIndex[a]! - turnIndex[b]!);
  return Uint32Array.from(order, (j) => turnIndex[j]!);
}

function turnCounts(weights: Float64Array): Float64Array {
  const counts = new Float64Array(weights.length);
  const allIntegers = weights.every((w) => Number.isInteger(w));
  // Fractions: two decimals of precision is plenty for relative weights.
  const scale = allIntegers ? 1 : 100;
  let divisor = 0;
  for (let i = 0; i < weights.length; i++) {
    counts[i] = Math.round(weights[i]! * scale) || (weights[i]! > 0 ? 1 : 0);
    divisor = gcd(divisor, counts[i]!);
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] = divisor > 1 ? counts[i]! / divisor : counts[i]!;
  if (total > MAX_SCHEDULE_LENGTH) {
    const factor = MAX_SCHEDULE_LENGTH / total;
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) counts[i] = Math.max(1, Math.round(counts[i]! * factor));
  }
  return counts;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
