// Byte classes of node's HTTP/1.1 parser (llhttp 9 as built into Node 20), as 256-entry tables so a
// scan is one indexed load per byte. Where llhttp's loose build and its strict tables differ, these
// follow what Node 20 does, measured with raw requests (test/dataplane/http1-frontend/
// differential.test.ts): for example a TAB, a form feed or an 8-bit byte in the request-target is
// refused, and a header name is a strict token (no space).

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function inString(chars: string): (c: number) => boolean {
  const set = new Set([...chars].map((ch) => ch.charCodeAt(0)));
  return (c) => set.has(c);
}

/** tchar (a header name, a chunk-extension name or token value) and field-value bytes, as everywhere else. */
export { TOKEN_CHAR as TOKEN, FIELD_VALUE_CHAR as HEADER_CHAR } from '../../core/http-field-chars.js';

/** A request-target byte in the path, query or fragment (llhttp's strict URL_CHAR; `?` and `#` are handled apart). */
export const URL_CHAR = table((c) => isAlpha(c) || isDigit(c) || inString('!"$%&\'()*+,-./:;<=>@[\\]^_`{|}~')(c));

/** The authority of an absolute-form or CONNECT target: userinfo characters and IPv6 brackets. */
export const SERVER_CHAR = table((c) => isAlpha(c) || isDigit(c) || inString("-_.!~*'()%;:&=+$,[]")(c));

export const ALPHA = table(isAlpha);

/** Hex digit value, or 0xff for a byte that is not one. */
export const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(0xff);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** Inside a quoted chunk-extension value (RFC 9110 §5.6.4 qdtext). */
export const QDTEXT = table((c) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80);

/** After a backslash in a quoted value: HTAB, SP, VCHAR, obs-text. */
export const QUOTED_PAIR_CHAR = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COMMA = 0x2c;
export const COLON = 0x3a;
