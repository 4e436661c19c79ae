// Shared counters for rate limits and quotas, behind one interface with two implementations: in
// this process (memory-counter-store.ts) and in Redis across every replica (redis-counter-store.ts).
// A filter holds one of each and picks by the limit's scope; the shared store may fail, the local
// one never does, which is what lets a global limit fall back to a local one.
//
// Rate limits use GCRA (the generic cell rate algorithm, ITU-T I.371; Brandur Leach's write-up for
// HTTP APIs) rather than fixed or sliding windows, because:
//   - it needs one key and one stored number per limit and key (the theoretical arrival time,
//     TAT), so a check is one GET and one SET, made atomic across replicas by one Lua script;
//   - it is exact: N requests per period, with no double burst at a window edge as a fixed window
//     allows, and it spreads requests smoothly instead of refilling all at once;
//   - `remaining`, `retry after` and `reset` fall out of the TAT arithmetic, which is what the
//     RateLimit and Retry-After response fields need.
// Quotas (requests per UTC day or month) are plain counters of a fixed, calendar-aligned period:
// clients and invoices reason about "this month", not a sliding 30 days.

/** One limit of `requests` per `periodMs`: a burst of `requests` is allowed from a full bucket. */
export interface RateParams {
  readonly requests: number;
  readonly periodMs: number;
}

/** The answer to one request against one rate limit. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Requests that could still be made right now (0 when refused). */
  readonly remaining: number;
  /** When refused: how long until one request would be allowed (> 0); 0 when allowed. */
  readonly retryAfterMs: number;
  /** How long until the bucket is full again (every request of the limit available). */
  readonly resetMs: number;
}

/** The answer to one request against one quota period. */
export interface QuotaDecision {
  readonly allowed: boolean;
  /** Requests left in the period after this one (0 when refused). */
  readonly remaining: number;
}

/** A quota period: `id` names it in keys (`2025-03-01`, `2025-03`); it ends at `endMs` (wall clock). */
export interface QuotaPeriod {
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Counters keyed by strings the caller builds (limit name + what is counted). A local store answers
 * synchronously, so a route with only local limits never makes the request phase asynchronous; a
 * shared store answers with a Promise that rejects when it cannot answer in time.
 */
export interface CounterStore {
  /** Takes one request from the GCRA bucket `key` if one is available; refusing changes nothing. */
  takeRate(key: string, params: RateParams): RateDecision | Promise<RateDecision>;
  /** Counts one request in `period` of quota `key` unless `limit` requests were already counted. */
  takeQuota(key: string, limit: number, period: QuotaPeriod): QuotaDecision | Promise<QuotaDecision>;
  close(): Promise<void>;
}

/**
 * GCRA in one place, for both stores (the Lua script of the Redis store is the same arithmetic):
 * each request moves the TAT on by the emission interval T = period / requests, from now if the
 * TAT is already past; a request is allowed while the new TAT stays within the tolerance ahead of
 * now. The tolerance is one period plus half an interval: the half interval absorbs floating-point
 * error (period / requests is rarely exact, and a TAT built by thousands of additions near 1.7e12 ms
 * drifts by fractions of a millisecond), so exactly `requests` pass from a full bucket, never one
 * fewer. The price is bounded: the bucket holds `requests` + ½, never a whole extra request, so at
 * most the first request after a drained bucket comes half an interval early. Any unit, as long as all
 * agree. `newTat` is undefined when refused (nothing to store).
 */
export function gcra(storedTat: number, now: number, params: RateParams): { readonly newTat: number | undefined; readonly decision: RateDecision } {
  const interval = params.periodMs / params.requests;
  const tolerance = params.periodMs + interval / 2;
  const tat = storedTat > now ? storedTat : now;
  const ahead = tat + interval - now;
  if (ahead > tolerance) {
    return { newTat: undefined, decision: { allowed: false, remaining: 0, retryAfterMs: ahead - tolerance, resetMs: tat - now } };
  }
  return { newTat: now + ahead, decision: { allowed: true, remaining: Math.floor((tolerance - ahead) / interval), retryAfterMs: 0, resetMs: ahead } };
}

/**
 * GCRA for `count` requests at once, as the Redis store's script computes it: one request after
 * another of gcra() above, taken until one would be refused (every later one would be too, at the same
 * now). `aheadMs` is how far the TAT stood ahead of now before the first (0 for a full bucket);
 * the answer is how many were taken. Multiplication instead of repeated addition differs from
 * gcra() only by floating-point error, which the tolerance's half interval absorbs.
 */
export function gcraTaken(aheadMs: number, count: number, params: RateParams): number {
  const interval = params.periodMs / params.requests;
  const tolerance = params.periodMs + interval / 2;
  return Math.max(0, Math.min(count, Math.floor((tolerance - aheadMs) / interval)));
}

/** The answer of the `index`-th (from 0) of requests taken together by gcraTaken(), of which `taken` passed. */
export function gcraDecisionAt(aheadMs: number, taken: number, index: number, params: RateParams): RateDecision {
  const interval = params.periodMs / params.requests;
  const tolerance = params.periodMs + interval / 2;
  if (index < taken) {
    const ahead = aheadMs + (index + 1) * interval;
    return { allowed: true, remaining: Math.floor((tolerance - ahead) / interval), retryAfterMs: 0, resetMs: Math.ceil(ahead) };
  }
  const ahead = aheadMs + (taken + 1) * interval;
  return { allowed: false, remaining: 0, retryAfterMs: Math.ceil(ahead - tolerance), resetMs: Math.ceil(aheadMs + taken * interval) };
}
