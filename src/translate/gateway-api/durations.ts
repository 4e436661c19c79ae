// Gateway API Duration (GEP-2257): one or more `<number><unit>` with units h, m, s, ms, e.g.
// `1h`, `10s`, `500ms`, `1m30s`. A subset of Go's time.ParseDuration.
const PART = /(\d+)(h|ms|m|s)/g;
const WHOLE = /^(\d+(h|ms|m|s))+$/;
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** Milliseconds, or undefined when the text is not a GEP-2257 duration. */
export function parseGatewayDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}
