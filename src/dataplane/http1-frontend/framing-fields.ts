// The header fields that decide framing and connection reuse, read as llhttp reads them:
// Content-Length (digits, once), Transfer-Encoding (chunked only as the final coding of a request),
// Connection / Proxy-Connection (close, keep-alive, upgrade tokens) and Upgrade. Each answers a
// refusal as [code, reason], or undefined.
import { COMMA, HEADER_CHAR, HTAB, SP } from './char-classes.js';
import type { Http1ErrorCode } from './parse-error.js';

export const enum FieldKind {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  Upgrade,
}

export const enum HeadFlags {
  ContentLength = 1,
  TransferEncoding = 2,
  Chunked = 4,
  ConnectionClose = 8,
  ConnectionKeepAlive = 16,
  ConnectionUpgrade = 32,
  Upgrade = 64,
}

export interface FramingState {
  flags: number;
  contentLength: number;
}

export type Refusal = readonly [Http1ErrorCode, string];

/** Only names of a special field's length are compared, without a lower-case copy. */
export function fieldKindOf(name: string): FieldKind {
  switch (name.length) {
    case 7:
      return equalsIgnoringCase(name, 'upgrade') ? FieldKind.Upgrade : FieldKind.Other;
    case 10:
      return equalsIgnoringCase(name, 'connection') ? FieldKind.Connection : FieldKind.Other;
    case 14:
      return equalsIgnoringCase(name, 'content-length') ? FieldKind.ContentLength : FieldKind.Other;
    case 16:
      // llhttp treats Proxy-Connection as Connection: `Proxy-Connection: close` closes.
      return equalsIgnoringCase(name, 'proxy-connection') ? FieldKind.Connection : FieldKind.Other;
    case 17:
      return equalsIgnoringCase(name, 'transfer-encoding') ? FieldKind.TransferEncoding : FieldKind.Other;
    default:
      return FieldKind.Other;
  }
}

/** At the first byte of a non-empty value. */
export function startFieldValue(state: FramingState, kind: FieldKind): Refusal | undefined {
  switch (kind) {
    case FieldKind.ContentLength:
      // RFC 9110 §8.6 would allow identical repeats; node refuses any second line, and so do we.
      if (state.flags & HeadFlags.ContentLength) return ['HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length'];
      return undefined;
    case FieldKind.TransferEncoding:
      // RFC 9112 §6.1: once chunked, no other coding may follow in a request.
      if (state.flags & HeadFlags.Chunked) return ['HPE_INVALID_TRANSFER_ENCODING', 'Invalid `Transfer-Encoding` header value'];
      state.flags |= HeadFlags.TransferEncoding;
      return undefined;
    case FieldKind.Upgrade:
      state.flags |= HeadFlags.Upgrade;
      return undefined;
    default:
      return undefined;
  }
}

/** At the end of a value: `buf[start, end)`, trailing whitespace included, as llhttp's value span. */
export function applyFieldValue(state: FramingState, kind: FieldKind, buf: Buffer, start: number, end: number): Refusal | undefined {
  switch (kind) {
    case FieldKind.ContentLength:
      return readContentLength(state, buf, start, end);
    case FieldKind.TransferEncoding: {
      const chunked = readTransferEncoding(buf, start, end);
      if (chunked === 'refused') return ['HPE_INVALID_TRANSFER_ENCODING', 'Invalid `Transfer-Encoding` header value'];
      if (chunked === 'chunked') state.flags |= HeadFlags.Chunked;
      return undefined;
    }
    case FieldKind.Connection:
      state.flags |= readConnectionTokens(buf, start, end);
      return undefined;
    default:
      return undefined;
  }
}

const MAX_U64 = 2n ** 64n - 1n;

/** 1*DIGIT then optional SP; more than 2^64-1 overflows (llhttp's u64). */
function readContentLength(state: FramingState, buf: Buffer, start: number, end: number): Refusal | undefined {
  let i = start;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
  const digitsEnd = i;
  // Only spaces may follow (a tab is refused, as Node 20's llhttp does).
  while (i < end && buf[i] === SP) i++;
  if (i !== end || digitsEnd === start) return ['HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length'];
  const digits = buf.toString('latin1', start, digitsEnd);
  if (digitsEnd - start > 15 && BigInt(digits) > MAX_U64) return ['HPE_INVALID_CONTENT_LENGTH', 'Content-Length overflow'];
  state.contentLength = Number(digits);
  state.flags |= HeadFlags.ContentLength;
  return undefined;
}

/**
 * llhttp's reading of a Transfer-Encoding list: `chunked` (any case) followed only by spaces ends
 * it as chunked; `chunked` followed by a comma is refused in a request; anything else makes the
 * value "not chunked" (a request so framed is refused once its head is complete).
 */
function readTransferEncoding(buf: Buffer, start: number, end: number): 'chunked' | 'other' | 'refused' {
  let i = start;
  for (;;) {
    if (matchesLower(buf, i, end, 'chunked')) {
      let j = i + 7;
      while (j < end && buf[j] === SP) j++;
      if (j === end) return 'chunked';
      if (buf[j] === COMMA) return 'refused';
      i = j;
    }
    while (i < end && buf[i] !== COMMA && HEADER_CHAR[buf[i]!]) i++;
    if (i < end && buf[i] === COMMA) {
      i++;
      while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
      continue;
    }
    return 'other';
  }
}

const CONNECTION_TOKENS: readonly (readonly [string, number])[] = [
  ['close', HeadFlags.ConnectionClose],
  ['keep-alive', HeadFlags.ConnectionKeepAlive],
  ['upgrade', HeadFlags.ConnectionUpgrade],
];

/** The connection options llhttp acts on: a known token that ends at a comma or the value's end. */
function readConnectionTokens(buf: Buffer, start: number, end: number): number {
  let flags = 0;
  let i = start;
  for (;;) {
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    for (const [token, flag] of CONNECTION_TOKENS) {
      if (!matchesLower(buf, i, end, token)) continue;
      let j = i + token.length;
      while (j < end && (buf[j] === SP || buf[j] === HTAB)) j++;
      if (j === end || buf[j] === COMMA) flags |= flag;
      i = j;
      break;
    }
    while (i < end && buf[i] !== COMMA) i++;
    if (i === end) return flags;
    i++;
  }
}

/** ASCII letters compared without case; other bytes exactly (llhttp's toLower transform). */
function matchesLower(buf: Buffer, at: number, end: number, lower: string): boolean {
  if (end - at < lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    let c = buf[at + k]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function equalsIgnoringCase(name: string, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = name.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}
