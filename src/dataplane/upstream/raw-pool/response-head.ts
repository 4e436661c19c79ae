// Parses one complete response head (status line and header fields, without the final CRLF CRLF)
// strictly, per RFC 9112 §4 and §5: anything a lenient parser would guess at (obs-fold, a bare CR
// or LF, NUL, a space before the colon, a non-token name) is refused. A proxy that guesses differs
// from the next hop in where a message ends, which is how response splitting and desync start.
import { protocolError } from './upstream-error.js';

export interface ResponseHead {
  readonly statusCode: number;
  readonly statusText: string;
  /** HTTP/1.0 responses are never kept alive here. */
  readonly minorVersion: number;
  /** Names and values alternate, as undici hands them over (views into the received bytes). */
  readonly rawHeaders: Buffer[];
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

/** tchar (RFC 9110 §5.6.2): 1 when the byte may appear in a field name. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let b = 0x30; b <= 0x39; b++) TCHAR[b] = 1;
for (let b = 0x41; b <= 0x5a; b++) TCHAR[b] = 1;
for (let b = 0x61; b <= 0x7a; b++) TCHAR[b] = 1;
/** field-vchar, SP and HTAB (RFC 9110 §5.5), obs-text included: 1 when the byte may appear in a value. */
const VALUE = new Uint8Array(256);
VALUE[0x09] = 1;
for (let b = 0x20; b <= 0x7e; b++) VALUE[b] = 1;
for (let b = 0x80; b <= 0xff; b++) VALUE[b] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** Field lines of `buf[start, end)`, each ended by CRLF (the last one's CRLF is at `end`). */
export function parseFieldLines(buf: Buffer, start: number, end: number, out: Buffer[], onField?: (name: Buffer, value: Buffer) => void): void {
  let pos = start;
  while (pos < end) {
    const lineEnd = buf.indexOf('\r\n', pos);
    const stop = lineEnd === -1 || lineEnd > end ? end : lineEnd;
    const first = buf[pos]!;
    if (first === SP || first === HTAB) throw protocolError('INVALID_HEADER_TOKEN', 'obs-fold (a header line starting with whitespace)');
    let colon = -1;
    for (let i = pos; i < stop; i++) {
      const b = buf[i]!;
      if (b === 0x3a) {
        colon = i;
        break;
      }
      if (TCHAR[b] === 0) throw protocolError('INVALID_HEADER_TOKEN', `invalid byte 0x${b.toString(16)} in a header name`);
    }
    if (colon <= pos) throw protocolError('INVALID_HEADER_TOKEN', colon === pos ? 'empty header name' : 'header line without a colon');
    let vStart = colon + 1;
    let vEnd = stop;
    for (let i = vStart; i < vEnd; i++) {
      const b = buf[i]!;
      if (VALUE[b] === 0) throw protocolError('INVALID_HEADER_TOKEN', b === CR || b === LF ? 'bare CR or LF in a header' : `invalid byte 0x${b.toString(16)} in a header value`);
    }
    while (vStart < vEnd && (buf[vStart] === SP || buf[vStart] === HTAB)) vStart++;
    while (vEnd > vStart && (buf[vEnd - 1] === SP || buf[vEnd - 1] === HTAB)) vEnd--;
    const name = buf.subarray(pos, colon);
    const value = buf.subarray(vStart, vEnd);
    out.push(name, value);
    onField?.(name, value);
    pos = stop + 2;
  }
}

/** `head` holds the status line and fields, `end` the index of the CRLF CRLF that ends them. */
export function parseResponseHead(head: Buffer, end: number): ResponseHead {
  const lineEnd = head.indexOf('\r\n');
  const statusEnd = lineEnd === -1 || lineEnd > end ? end : lineEnd;
  const { statusCode, statusText, minorVersion } = parseStatusLine(head, statusEnd);
  const rawHeaders: Buffer[] = [];
  const framing = new FramingFields();
  if (statusEnd < end) parseFieldLines(head, statusEnd + 2, end, rawHeaders, framing.take);
  return { statusCode, statusText, minorVersion, rawHeaders, ...framing.result() };
}

function parseStatusLine(buf: Buffer, end: number): { statusCode: number; statusText: string; minorVersion: number } {
  // "HTTP/1.1 200" is 12 bytes; the reason phrase (and the space before it) may be absent.
  if (end < 12 || buf.toString('latin1', 0, 7) !== 'HTTP/1.' || buf[8] !== SP) throw protocolError('INVALID_CONSTANT', 'not an HTTP/1.x status line');
  const minor = buf[7]! - 0x30;
  if (minor !== 0 && minor !== 1) throw protocolError('INVALID_VERSION', 'HTTP version other than 1.0 or 1.1');
  let statusCode = 0;
  for (let i = 9; i < 12; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) throw protocolError('INVALID_STATUS', 'status code is not three digits');
    statusCode = statusCode * 10 + d;
  }
  if (statusCode < 100) throw protocolError('INVALID_STATUS', `status code ${statusCode}`);
  if (end > 12 && buf[12] !== SP) throw protocolError('INVALID_STATUS', 'status code is not three digits');
  for (let i = 13; i < end; i++) {
    if (VALUE[buf[i]!] === 0) throw protocolError('INVALID_STATUS', 'invalid byte in the reason phrase');
  }
  return { statusCode, statusText: end > 13 ? buf.toString('latin1', 13, end) : '', minorVersion: minor };
}

/** Collects Content-Length, Transfer-Encoding, Connection and Keep-Alive while the fields are parsed. */
class FramingFields {
  private contentLength: number | undefined;
  private transferEncoding: string | undefined;
  private connection = '';
  private keepAlive: string | undefined;

  readonly take = (name: Buffer, value: Buffer): void => {
    const len = name.length;
    if (len !== 10 && len !== 14 && len !== 17) return;
    const lower = name.toString('latin1', 0, len).toLowerCase();
    if (lower === 'content-length') this.addContentLength(value.toString('latin1'));
    else if (lower === 'transfer-encoding') this.transferEncoding = this.transferEncoding === undefined ? value.toString('latin1') : `${this.transferEncoding},${value.toString('latin1')}`;
    else if (lower === 'connection') this.connection += `,${value.toString('latin1').toLowerCase()}`;
    else if (lower === 'keep-alive') this.keepAlive = value.toString('latin1');
  };

  /** One value, or repeats (fields or list members) of the same value; anything else is ambiguous. */
  private addContentLength(raw: string): void {
    for (const part of raw.split(',')) {
      const v = part.trim();
      if (!/^[0-9]{1,15}$/.test(v)) throw protocolError('INVALID_CONTENT_LENGTH', `invalid Content-Length "${raw}"`);
      const n = Number(v);
      if (this.contentLength !== undefined && this.contentLength !== n) throw protocolError('UNEXPECTED_CONTENT_LENGTH', 'conflicting Content-Length values');
      this.contentLength = n;
    }
  }

  result(): Pick<ResponseHead, 'contentLength' | 'chunked' | 'otherCoding' | 'connectionClose' | 'connectionKeepAlive' | 'keepAliveTimeoutMs'> {
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
    const tokens = this.connection.split(',').map((t) => t.trim());
    const m = this.keepAlive === undefined ? null : /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(this.keepAlive);
    return {
      contentLength: this.contentLength,
      chunked,
      otherCoding,
      connectionClose: tokens.includes('close'),
      connectionKeepAlive: tokens.includes('keep-alive'),
      keepAliveTimeoutMs: m === null ? undefined : Number(m[1]) * 1000,
    };
  }
}
