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

/** A non-empty string of tchar (a field name, a method). Chars above 0xff are never tchar. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (TOKEN_CHAR[text.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A string every char of which is a field-value byte (a CR or LF in it would split the message). */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (FIELD_VALUE_CHAR[text.charCodeAt(i)] !== 1) return false;
  return true;
}
