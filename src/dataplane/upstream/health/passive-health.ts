// Passive health (Envoy's outlier detection, consecutive-5xx flavour): the request path reports
// each upstream attempt's outcome, and an endpoint that fails `consecutiveFailures` times in a row
// is ejected for a while. No probes are sent; the traffic itself is the probe.
//
// Choices, against Envoy's outlier detection:
// - Back-off doubles: the n-th ejection in a row lasts baseEjectionMs * 2^(n-1), capped at
//   maxEjectionMs (the IR documents doubling). Envoy multiplies linearly (base * n); both cap.
// - When an ejection ends the endpoint is available again at once, and its consecutive-failure
//   count starts from zero, as in Envoy: it takes a full new run of failures to eject it again,
//   and that next ejection lasts twice as long.
// - Outcomes of requests that were already in flight while the endpoint is ejected only count in
//   the totals: they say nothing new about the endpoint and must not stretch the ejection.
// - The ejection count (the back-off exponent) is forgotten on the first success that comes at
//   least maxEjectionMs after the last ejection ended. Envoy decrements its multiplier once per
//   healthy interval; a single reset window is simpler to reason about and still damps flapping.
// - max-ejection-percent only when configured (Envoy and Istio default to 10 %); like Envoy, one
//   endpoint may always be ejected. Panic mode (cluster-runtime.ts) serves every endpoint when
//   none is left.
// - Split mode (consecutiveLocalOriginFailures): failures without a response and 5xx answers keep
//   separate counts, each against its own threshold, as Envoy's split_external_local_origin_errors.
//
// The state lives on EndpointState (shared by address, surviving reloads); this class holds only
// the per-cluster thresholds and the clock. `isAvailable` is an arrow property so it can be handed
// to createLoadBalancer as is, without a bind per cluster or a closure per request.
import type { Clock } from '../../../core/clock.js';
import type { IrPassiveHealth } from '../../../ir/types.js';
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable } from '../lb/types.js';

/** For clusters without passive health: every endpoint is always available. */
export const alwaysAvailable: IsAvailable = () => true;

/** Where a failure came from: a 5xx answer, or no answer at all (connect failure, reset, timeout). */
export type FailureOrigin = 'response' | 'local';

export class PassiveHealth {
  private readonly threshold: number;
  private readonly localThreshold: number | undefined;
  private readonly maxEjected: number | undefined;
  private readonly baseMs: number;
  private readonly maxMs: number;

  /** `endpoints`: the cluster's, for maxEjectionPercent. */
  constructor(
    config: IrPassiveHealth,
    private readonly clock: Clock,
    private readonly endpoints: readonly EndpointState[] = [],
  ) {
    this.threshold = Math.max(1, Math.floor(config.consecutiveFailures));
    this.localThreshold = config.consecutiveLocalOriginFailures === undefined ? undefined : Math.max(1, Math.floor(config.consecutiveLocalOriginFailures));
    const pct = config.maxEjectionPercent;
    this.maxEjected = pct === undefined ? undefined : Math.max(1, Math.floor((endpoints.length * Math.min(100, Math.max(0, pct))) / 100));
    this.baseMs = Math.max(0, config.baseEjectionMs);
    this.maxMs = Math.max(this.baseMs, config.maxEjectionMs);
  }

  /**
   * True unless the endpoint is inside an ejection. The common case (never ejected, or ejection
   * history already forgotten) reads one field and no clock.
   */
  readonly isAvailable: IsAvailable = (ep) => ep.ejectedUntilMs === 0 || this.clock.monotonicMs() >= ep.ejectedUntilMs;

  recordSuccess(ep: EndpointState): void {
    ep.totalRequests++;
    ep.consecutiveFailures = 0;
    ep.consecutiveLocalFailures = 0;
    if (ep.ejectedUntilMs !== 0 && this.clock.monotonicMs() - ep.ejectedUntilMs >= this.maxMs) {
      // Healthy for a whole reset window since the last ejection ended: forget the back-off.
      ep.ejections = 0;
      ep.ejectedUntilMs = 0;
    }
  }

  recordFailure(ep: EndpointState, origin: FailureOrigin = 'local'): void {
    ep.totalRequests++;
    ep.totalFailures++;
    if (ep.ejectedUntilMs !== 0 && this.clock.monotonicMs() < ep.ejectedUntilMs) return;
    // A local-origin failure counts apart in split mode; otherwise everything counts together.
    if (origin === 'local' && this.localThreshold !== undefined) {
      if (++ep.consecutiveLocalFailures >= this.localThreshold) this.eject(ep, this.clock.monotonicMs());
      return;
    }
    if (++ep.consecutiveFailures >= this.threshold) this.eject(ep, this.clock.monotonicMs());
  }

  /** How long the next ejection of `ep` would last (for GET /api/upstreams and tests). */
  nextEjectionMs(ep: EndpointState): number {
    return this.ejectionMs(ep.ejections + 1);
  }

  private eject(ep: EndpointState, now: number): void {
    ep.consecutiveFailures = 0;
    ep.consecutiveLocalFailures = 0;
    if (this.maxEjected !== undefined) {
      let ejected = 0;
      for (const other of this.endpoints) if (other !== ep && other.ejectedUntilMs > now) ejected++;
      // The cap is reached: this endpoint stays, and a new run of failures is needed to try again.
      if (ejected >= this.maxEjected) return;
    }
    ep.ejections++;
    // `|| 1`: an ejection must leave a non-zero mark even with baseEjectionMs 0 at time 0.
    ep.ejectedUntilMs = now + this.ejectionMs(ep.ejections) || 1;
  }

  private ejectionMs(n: number): number {
    // 2^(n-1) overflows to Infinity for large n, which Math.min caps.
    return Math.min(this.maxMs, this.baseMs * 2 ** (n - 1));
  }
}
