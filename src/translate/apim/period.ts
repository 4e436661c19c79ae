// Durations of API management policies (`period`, `clockSkew`): one non-negative integer and one
// unit, no spaces and no compound forms, so `1m`, `90s`, `1h`, `1d`, `500ms`. The CRD schema
// checks the same grammar with a pattern (deploy/crds/*.yaml); this reads the value.
//   duration  = ("0" / %x31-39 0*8DIGIT) unit   ; no leading zeros; a rate-limit period is > 0
//   unit      = "ms" / "s" / "m" / "h" / "d"
// A day is 86 400 s (no calendar, no leap seconds): windows are fixed lengths.
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const GRAMMAR = /^(0|[1-9][0-9]{0,8})(ms|s|m|h|d)$/;

/** `1m` → 60000; undefined when the text is not in the grammar. */
export function parseDurationMs(text: string): number | undefined {
  const m = GRAMMAR.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A rate-limit period: in the grammar and longer than zero. */
export function parsePeriodMs(text: string): number | undefined {
  const ms = parseDurationMs(text);
  return ms === undefined || ms === 0 ? undefined : ms;
}
