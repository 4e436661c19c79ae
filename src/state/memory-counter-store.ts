// Counters in this process: per-replica limits, and the fallback of global limits while the shared
// store is unreachable. GCRA times come from the monotonic clock (a wall-clock step must not refill
// or drain buckets); quota periods from the wall clock, the caller's business (quota-period.ts).
import type { Clock } from '../core/clock.js';
import { gcra, type CounterStore, type QuotaDecision, type QuotaPeriod, type RateDecision, type RateParams } from './counter-store.js';

/** How often (by the injected clock) expired entries are swept, so idle keys do not pile up. */
const SWEEP_EVERY_MS = 60_000;

interface QuotaCount {
  periodEndMs: number;
  count: number;
}

export class MemoryCounterStore implements CounterStore {
  /** key → TAT (monotonic ms); an entry with TAT ≤ now is a full bucket and can go. */
  readonly #tats = new Map<string, number>();
  readonly #quotas = new Map<string, QuotaCount>();
  #lastSweepMs: number;

  constructor(private readonly clock: Clock) {
    this.#lastSweepMs = clock.monotonicMs();
  }

  takeRate(key: string, params: RateParams): RateDecision {
    const now = this.clock.monotonicMs();
    this.#sweepIfDue(now);
    const { newTat, decision } = gcra(this.#tats.get(key) ?? 0, now, params);
    if (newTat !== undefined) this.#tats.set(key, newTat);
    return decision;
  }

  takeQuota(key: string, limit: number, period: QuotaPeriod): QuotaDecision {
    this.#sweepIfDue(this.clock.monotonicMs());
    let entry = this.#quotas.get(key);
    if (entry === undefined) this.#quotas.set(key, (entry = { periodEndMs: period.endMs, count: 0 }));
    else if (entry.periodEndMs !== period.endMs) {
      // A new period: the count starts over (also if the clock went back a period).
      entry.periodEndMs = period.endMs;
      entry.count = 0;
    }
    if (entry.count >= limit) return { allowed: false, remaining: 0 };
    entry.count++;
    return { allowed: true, remaining: limit - entry.count };
  }

  /** Entries held now (for tests and a gauge). */
  get size(): number {
    return this.#tats.size + this.#quotas.size;
  }

  async close(): Promise<void> {
    this.#tats.clear();
    this.#quotas.clear();
  }

  #sweepIfDue(now: number): void {
    if (now - this.#lastSweepMs < SWEEP_EVERY_MS) return;
    this.#lastSweepMs = now;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
    const wall = this.clock.now();
    for (const [key, q] of this.#quotas) if (q.periodEndMs <= wall) this.#quotas.delete(key);
  }
}
