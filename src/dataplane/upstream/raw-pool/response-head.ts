// Parses one complete response head (status line and header fields, without the final CRLF CRLF)
// strictly, per RFC 9112 §4 and §5: anything a lenient parser would guess at (obs-fold, a bare CR
// or LF, NUL, a space before the colon, a non-token name) is refused. A proxy that guesses differs
// from the next hop in where a message ends, which is how response splitting and desync start.
import { protocolError } from './upstream-error.js';
import { FIELD_VALUE_CHAR, TOKEN_CHAR } from '../../../core/http-field-chars.js';

export interface ResponseHead {
  readonly statusCode: number;
  readonly statusText: string;
  /** HTTP/1.0 responses are never kept alive here. */
  readonly minorVersion: number;
  /** Names and values alternate, as undici hands them over, but as latin1 strings rather than Buffers. */
  readonly rawHeaders: string[];
  /** Framing fields, already checked against each other (see `framingOf`). */
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  /** Transfer-Encoding present but not ending in chunked: the body runs until close (RFC 9112 §6.3). */
  readonly otherCoding: boolean;
  readonly connectionClose: boolean;
  readonly connectionKeepAlive: boolean;
  /** `Keep-Alive: timeout=N`, in ms. */
  readonly keepAliveTimeoutMs: number | undefined;
}


const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/**
 * Field lines of `text[start, end)` (the head as latin1 text, one char per byte), each ended by
 * CRLF; the last one's CRLF is at `end` and must be in `text`. Names and values come out as
 * slices of the text: what the downstream side writes anyway, so no Buffer is made per field,
 * and the bytes are decoded once per head. One pass per line: the name is checked up to its
 * colon, the value up to the CR that ends it.
 */
export function parseFieldLines(text: string, start: number, end: number, out: string[], framing?: FramingFields): void {
  let pos = start;
  while (pos < end) {
    const first = text.charCodeAt(pos);
    if (first === SP || first === HTAB) throw protocolError('INVALID_HEADER_TOKEN', 'obs-fold (a header line starting with whitespace)');
    let colon = pos;
    for (; ; colon++) {
      const b = text.charCodeAt(colon);
      if (b === 0x3a) break;
      if (TOKEN_CHAR[b] === 0) {
        // All tchar up to the line's CRLF: a line without a colon.
        if (b === CR && text.charCodeAt(colon + 1) === LF) throw protocolError('INVALID_HEADER_TOKEN', 'header line without a colon');
        throw protocolError('INVALID_HEADER_TOKEN', `invalid byte 0x${b.toString(16)} in a header name`);
      }
    }
    if (colon === pos) throw protocolError('INVALID_HEADER_TOKEN', 'empty header name');
    // The value runs to the CR of the line's CRLF; `end` holds one, so the scan stops there at the latest.
    let stop = colon + 1;
    for (; ; stop++) {
      const b = text.charCodeAt(stop);
      if (FIELD_VALUE_CHAR[b] !== 0) continue;
      if (b === CR && text.charCodeAt(stop + 1) === LF) break;
      throw protocolError('INVALID_HEADER_TOKEN', b === CR || b === LF ? 'bare CR or LF in a header' : `invalid byte 0x${b.toString(16)} in a header value`);
    }
    let vStart = colon + 1;
    let vEnd = stop;
    while (vStart < vEnd && isOws(text.charCodeAt(vStart))) vStart++;
    while (vEnd > vStart && isOws(text.charCodeAt(vEnd - 1))) vEnd--;
    const name = text.slice(pos, colon);
    const value = text.slice(vStart, vEnd);
    out.push(name, value);
    if (framing !== undefined) {
      const len = colon - pos;
      if (len === 10 || len === 14 || len === 17) framing.take(name, value);
    }
    pos = stop + 2;
  }
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** `head` holds the status line and fields, `end` the index of the CRLF CRLF that ends them. */
export function parseResponseHead(head: Buffer, end: number): ResponseHead {
  // One decode of the whole head, its final CRLF included (parseFieldLines stops at it).
  const text = head.toString('latin1', 0, end + 2);
  const lineEnd = text.indexOf('\r\n');
  const statusEnd = lineEnd === -1 || lineEnd > end ? end : lineEnd;
  // "HTTP/1.1 200" is 12 bytes; the reason phrase (and the space before it) may be absent.
  if (statusEnd < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== SP) throw protocolError('INVALID_CONSTANT', 'not an HTTP/1.x status line');
  const minorVersion = text.charCodeAt(7) - 0x30;
  if (minorVersion !== 0 && minorVersion !== 1) throw protocolError('INVALID_VERSION', 'HTTP version other than 1.0 or 1.1');
  let statusCode = 0;
  for (let i = 9; i < 12; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw protocolError('INVALID_STATUS', 'status code is not three digits');
    statusCode = statusCode * 10 + d;
  }
  if (statusCode < 100) throw protocolError('INVALID_STATUS', `status code ${statusCode}`);
  if (statusEnd > 12 && text.charCodeAt(12) !== SP) throw protocolError('INVALID_STATUS', 'status code is not three digits');
  for (let i = 13; i < statusEnd; i++) {
    if (FIELD_VALUE_CHAR[text.charCodeAt(i)] === 0) throw protocolError('INVALID_STATUS', 'invalid byte in the reason phrase');
  }
  const statusText = statusEnd > 13 ? text.slice(13, statusEnd) : '';
  const rawHeaders: string[] = [];
  const framing = new FramingFields();
  if (statusEnd < end) parseFieldLines(text, statusEnd + 2, end, rawHeaders, framing);
  return framing.head(statusCode, statusText, minorVersion, rawHeaders);
}

/** Collects Content-Length, Transfer-Encoding, Connection and Keep-Alive while the fields are parsed. */
class FramingFields {
  private contentLength: number | undefined;
  private transferEncoding: string | undefined;
  private connection = '';
  private keepAlive: string | undefined;

  /** A field whose name has the length of one of the four (10, 14 or 17). */
  take(name: string, value: string): void {
    const lower = name.toLowerCase();
    if (lower === 'content-length') this.addContentLength(value);
    else if (lower === 'transfer-encoding') this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding},${value}`;
    else if (lower === 'connection') this.connection += `,${value.toLowerCase()}`;
    else if (lower === 'keep-alive') this.keepAlive = value;
  }

  /** One value, or repeats (fields or list members) of the same value; anything else is ambiguous. */
  private addContentLength(raw: string): void {
    // The usual field: 1 to 15 digits and nothing else.
    if (isDigits(raw)) return this.setContentLength(Number(raw));
    for (const part of raw.split(',')) {
      const v = part.trim();
      if (!isDigits(v)) throw protocolError('INVALID_CONTENT_LENGTH', `invalid Content-Length "${raw}"`);
      this.setContentLength(Number(v));
    }
  }

  private setContentLength(n: number): void {
    if (this.contentLength !== undefined && this.contentLength !== n) throw protocolError('UNEXPECTED_CONTENT_LENGTH', 'conflicting Content-Length values');
    this.contentLength = n;
  }

  head(statusCode: number, statusText: string, minorVersion: number, rawHeaders: string[]): ResponseHead {
    let chunked = false;
    let otherCoding = false;
    if (this.transferEncoding !== undefined) {
      // Content-Length and Transfer-Encoding together is the classic smuggling shape (RFC 9112 §6.1 lets a
      // recipient refuse it; a proxy must, since the next hop may pick the other one).
      if (this.contentLength !== undefined) throw protocolError('UNEXPECTED_CONTENT_LENGTH', 'both Content-Length and Transfer-Encoding');
      const codings = this.transferEncoding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
      const chunkedAt = codings.indexOf('chunked');
      if (chunkedAt !== -1 && chunkedAt !== codings.length - 1) throw protocolError('INVALID_TRANSFER_ENCODING', 'chunked is not the final transfer coding');
      chunked = chunkedAt !== -1;
      otherCoding = !chunked;
    }
    let connectionClose = false;
    let connectionKeepAlive = false;
    if (this.connection !== '') {
      const tokens = this.connection.split(',').map((t) => t.trim());
      connectionClose = tokens.includes('close');
      connectionKeepAlive = tokens.includes('keep-alive');
    }
    const m = this.keepAlive === undefined ? null : /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(this.keepAlive);
    return {
      statusCode,
      statusText,
      minorVersion,
      rawHeaders,
      contentLength: this.contentLength,
      chunked,
      otherCoding,
      connectionClose,
      connectionKeepAlive,
      keepAliveTimeoutMs: m === null ? undefined : Number(m[1]) * 1000,
    };
  }
}

/** 1 to 15 ASCII digits (`/^[0-9]{1,15}$/` without the regex). */
function isDigits(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
