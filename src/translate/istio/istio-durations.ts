// Istio durations are protobuf Durations written as Go durations in YAML: `1s`, `0.5s`, `100ms`,
// `1m30s`, `1h`. Istio's validation (ValidateDuration) accepts Go's time.ParseDuration syntax.
const PART = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g;
const WHOLE = /^(\d+(?:\.\d+)?(h|ms|us|µs|ns|m|s))+$/;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Whole milliseconds (rounded up, so a non-zero duration never becomes "none"), or undefined. */
export function parseIstioDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.ceil(total);
}
