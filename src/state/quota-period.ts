// Quota periods are UTC calendar days and months, as billing and API plans count them ("1,000 calls
// a day" resets at 00:00 UTC, not 24 hours after the first call). Pure functions of a timestamp.
import type { QuotaPeriod } from './counter-store.js';

export type QuotaPeriodKind = 'day' | 'month';

/** The UTC day or month holding `nowMs`. */
export function quotaPeriodAt(nowMs: number, kind: QuotaPeriodKind): QuotaPeriod {
  const d = new Date(nowMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  if (kind === 'day') {
    const startMs = Date.UTC(year, month, d.getUTCDate());
    return { id: `${year}-${pad(month + 1)}-${pad(d.getUTCDate())}`, startMs, endMs: startMs + 86_400_000 };
  }
  // Date.UTC normalises month 12 to January of the next year.
  return { id: `${year}-${pad(month + 1)}`, startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
