// The RateLimit-Policy and RateLimit response fields of draft-ietf-httpapi-ratelimit-headers-11
// (May 2026), which replaced the RateLimit-Limit / -Remaining / -Reset trio of drafts 00-06 with
// two Structured Field lists (RFC 9651):
//   RateLimit-Policy: "name";q=<quota>;w=<window seconds>      (§3: the item is a String)
//   RateLimit:        "name";r=<available>;t=<seconds>          (§4)
// Both are lists, so several filters (rate limits, quotas) may each add a field line of their own
// and a client joins them (RFC 9651 §3.1, draft §3 and §4).

/** An sf-string: printable ASCII with `"` and `\` escaped; anything else becomes `?` (names are ASCII in practice). */
export function sfString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${value[i]}`;
    else if (c < 0x20 || c > 0x7e) out += '?';
    else out += value[i];
  }
  return `${out}"`;
}

/** `"name";q=100;w=60`: w is whole seconds and at least 1 (draft §3.1.3: a non-zero integer). */
export function policyItem(name: string, quota: number, windowMs: number): string {
  return `${sfString(name)};q=${quota};w=${Math.max(1, Math.round(windowMs / 1000))}`;
}

/** Whole seconds for `t` and Retry-After: rounded up, so a client that waits that long is not early. */
export function ceilSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
