// The bytes an HTTP/1.1 field may hold, as 256-entry tables (one indexed load per byte): shared by
// the downstream request checks, the lean front end's parser and the raw upstream pool's response
// parser, which must agree on what a header is.

/** RFC 9110 §5.6.2 tchar: 1 for a byte that may appear in a field name (or another token). */
export const TOKEN_CHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") t[c.charCodeAt(0)] = 1;
  return t;
})();

/** RFC 9110 §5.5 field-value bytes: HTAB, SP, VCHAR and obs-text; never another CTL or DEL. */
export const FIELD_VALUE_CHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = c === 0x09 || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
  return t;
})();
