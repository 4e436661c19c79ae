// The request head, byte by byte, as llhttp walks it: the request line, then header lines until the
// empty line (or, for trailers, the field lines after the last chunk). Resumable at any byte, so a
// head split over many reads is refused at the same byte node would refuse it, and its size is
// bounded while it arrives. Strings are made once per field, from the buffer, as latin1 (as node).
import { ALPHA, COLON, CR, HEADER_CHAR, HTAB, LF, SERVER_CHAR, SP, TOKEN, URL_CHAR } from './char-classes.js';
import { Http1ParseError, type Http1ErrorCode } from './parse-error.js';
import { ALL_METHODS, HTTP_METHODS, ICE_METHODS, MAX_METHOD_BYTES, RTSP_METHODS } from './request-head.js';
import { applyFieldValue, startFieldValue, FieldKind, fieldKindOf, HeadFlags } from './framing-fields.js';

/** Buffer#latin1Slice: what toString('latin1', ...) calls, without its argument checks. */
const latin1 = (buf: Buffer, start: number, end: number): string => (buf as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(start, end);

const enum S {
  Start, Method, SpacesBeforeUrl, UrlStart, Schema, SchemaSlash1, SchemaSlash2, Server, ServerAt, Path,
  Query, Fragment, UrlCr, HttpStart, Protocol, Major, Dot, Minor, VersionCr, VersionLf, HeadersStart,
  FieldStart, Field, DiscardWs, DiscardWsCr, DiscardLws, Value, ValueCr, ValueLws, HeadersCr, Done,
}

export class HeadScanner {
  private state = S.Start;
  /** Bytes node counts against maxHeaderSize: the target, field names and values (not separators). */
  private counted = 0;
  private spanStart = 0;
  private valueEnd = 0;
  private fieldKind = FieldKind.Other;
  private name = '';
  method = '';
  url = '';
  versionMajor = 0;
  versionMinor = 0;
  protocol = '';
  rawHeaders: string[] = [];
  flags = 0;
  contentLength = 0;
  error: Http1ParseError | undefined;
  private streamOffset = 0;

  constructor(private readonly maxHeaderBytes: number) {}

  /** A new request: its line first. `flags` carry over into trailers, as llhttp's do. */
  startRequest(): void {
    this.state = S.Start;
    this.counted = 0;
    this.rawHeaders = [];
    this.flags = 0;
    this.contentLength = 0;
    this.url = '';
  }

  /** The field lines after the last chunk. */
  startTrailers(): void {
    this.state = S.FieldStart;
    this.counted = 0;
    this.rawHeaders = [];
  }

  get done(): boolean {
    return this.state === S.Done;
  }

  /** Whether any byte of a request has been read (leading empty lines do not count). */
  get started(): boolean {
    return this.state !== S.Start;
  }

  /**
   * Reads from `pos` to `end` of `buf`, where the head began at `base` (offsets kept are relative
   * to it, so the caller may move the head to another buffer between calls). Returns where it
   * stopped: at the first byte after the head when done, at `end` when it needs more, -1 on error.
   */
  scan(buf: Buffer, base: number, pos: number, end: number, streamOffset: number): number {
    this.streamOffset = streamOffset - base;
    while (pos < end) {
      const c = buf[pos]!;
      switch (this.state) {
        case S.Start:
          if (c === CR || c === LF) { pos++; break; }
          this.spanStart = pos - base;
          this.state = S.Method;
          break;
        case S.Method:
          if (c === SP) {
            this.method = latin1(buf, base + this.spanStart, pos);
            if (!ALL_METHODS.has(this.method)) return this.fail('HPE_INVALID_METHOD', 'Invalid method encountered', pos);
            this.state = S.SpacesBeforeUrl;
          } else if (c < 0x41 || c > 0x5a) {
            if (c !== 0x2d && c !== 0x5f) return this.fail('HPE_INVALID_METHOD', 'Invalid method encountered', pos);
          }
          if (pos - base - this.spanStart > MAX_METHOD_BYTES) return this.fail('HPE_INVALID_METHOD', 'Invalid method encountered', pos);
          pos++;
          break;
        case S.SpacesBeforeUrl:
          if (c === SP) { pos++; break; }
          this.spanStart = pos - base;
          this.state = this.method === 'CONNECT' ? S.Server : S.UrlStart;
          break;
        case S.UrlStart:
          if (c === 0x2f || c === 0x2a) this.state = S.Path;
          else if (ALPHA[c]) this.state = S.Schema;
          else return this.fail('HPE_INVALID_URL', 'Unexpected start char in url', pos);
          pos++;
          break;
        case S.Schema:
          if (c === COLON) this.state = S.SchemaSlash1;
          else if (!ALPHA[c]) return this.fail('HPE_INVALID_URL', 'Unexpected char in url schema', pos);
          pos++;
          break;
        case S.SchemaSlash1:
        case S.SchemaSlash2:
          if (c !== 0x2f) return this.fail('HPE_INVALID_URL', 'Unexpected char in url schema', pos);
          this.state = this.state === S.SchemaSlash1 ? S.SchemaSlash2 : S.Server;
          pos++;
          break;
        case S.Server:
        case S.ServerAt:
        case S.Path:
        case S.Query:
        case S.Fragment: {
          if (this.state === S.Path) {
            // The common case: a run of path bytes.
            while (pos < end && URL_CHAR[buf[pos]!]) pos++;
            if (pos === end) break;
          }
          const next = this.urlByte(buf[pos]!);
          const b = buf[pos]!;
          if (next === S.Done) {
            // The target ends: at SP a version follows; at CR LF or LF it was an HTTP/0.9 line.
            this.url = latin1(buf, base + this.spanStart, pos);
            this.counted += pos - base - this.spanStart;
            if (this.counted >= this.maxHeaderBytes) return this.fail('HPE_HEADER_OVERFLOW', 'Header overflow', pos);
            if (b === SP) this.state = S.HttpStart;
            else {
              this.versionMajor = 0;
              this.versionMinor = 9;
              this.state = b === CR ? S.UrlCr : S.HeadersStart;
            }
          } else if (next === S.Start) return this.fail('HPE_INVALID_URL', 'Invalid char in url', pos);
          else this.state = next;
          pos++;
          break;
        }
        case S.UrlCr:
          if (c !== LF) return this.fail('HPE_INVALID_URL', 'Expected CRLF', pos);
          this.state = S.HeadersStart;
          pos++;
          break;
        case S.HttpStart:
          if (c === SP) { pos++; break; }
          this.spanStart = pos - base;
          this.state = S.Protocol;
          break;
        case S.Protocol:
          if (c === 0x2f) {
            this.protocol = latin1(buf, base + this.spanStart, pos);
            const allowed = this.protocol === 'HTTP' ? HTTP_METHODS : this.protocol === 'RTSP' ? RTSP_METHODS : this.protocol === 'ICE' ? ICE_METHODS : undefined;
            if (allowed === undefined) return this.fail('HPE_INVALID_CONSTANT', 'Expected HTTP/, RTSP/ or ICE/', pos);
            if (!allowed.has(this.method)) return this.fail('HPE_INVALID_CONSTANT', `Invalid method for ${this.protocol}/x.x request`, pos);
            this.state = S.Major;
          } else if (pos - base - this.spanStart >= 4 || !ALPHA[c]) return this.fail('HPE_INVALID_CONSTANT', 'Expected HTTP/, RTSP/ or ICE/', pos);
          pos++;
          break;
        case S.Major:
          if (c < 0x30 || c > 0x39) return this.fail('HPE_INVALID_VERSION', 'Invalid major version', pos);
          this.versionMajor = c - 0x30;
          this.state = S.Dot;
          pos++;
          break;
        case S.Dot:
          if (c !== 0x2e) return this.fail('HPE_INVALID_VERSION', 'Expected dot', pos);
          this.state = S.Minor;
          pos++;
          break;
        case S.Minor: {
          if (c < 0x30 || c > 0x39) return this.fail('HPE_INVALID_VERSION', 'Invalid minor version', pos);
          this.versionMinor = c - 0x30;
          const v = this.versionMajor * 10 + this.versionMinor;
          // llhttp knows 0.9, 1.0, 1.1 and 2.0; PRI is only the HTTP/2 preface, which the listener diverts first.
          if (v !== 9 && v !== 10 && v !== 11 && v !== 20) return this.fail('HPE_INVALID_VERSION', 'Invalid HTTP version', pos);
          if (this.method === 'PRI') return this.fail('HPE_INVALID_VERSION', 'Expected HTTP/2 Connection Preface', pos);
          this.state = S.VersionCr;
          pos++;
          break;
        }
        case S.VersionCr:
          if (c !== CR) return this.fail('HPE_INVALID_VERSION', 'Expected CRLF after version', pos);
          this.state = S.VersionLf;
          pos++;
          break;
        case S.VersionLf:
          if (c !== LF) return this.fail('HPE_STRICT', 'Expected CRLF after version', pos);
          this.state = S.HeadersStart;
          pos++;
          break;
        case S.HeadersStart:
          // A line starting with whitespace right after the request line (RFC 9112 §2.2: reject).
          if (c === SP) return this.fail('HPE_UNEXPECTED_SPACE', 'Unexpected space after start line', pos);
          this.state = S.FieldStart;
          break;
        case S.FieldStart:
          if (c === CR) { this.state = S.HeadersCr; pos++; break; }
          if (c === LF || c === COLON) return this.fail('HPE_INVALID_HEADER_TOKEN', 'Invalid header token', pos);
          this.spanStart = pos - base;
          this.state = S.Field;
          break;
        case S.Field: {
          while (pos < end && TOKEN[buf[pos]!]) pos++;
          if (pos === end) break;
          if (buf[pos] !== COLON) return this.fail('HPE_INVALID_HEADER_TOKEN', 'Invalid header token', pos);
          const start = base + this.spanStart;
          this.name = latin1(buf, start, pos);
          this.counted += pos - start;
          if (this.counted >= this.maxHeaderBytes) return this.fail('HPE_HEADER_OVERFLOW', 'Header overflow', pos);
          this.fieldKind = fieldKindOf(this.name);
          // RFC 9112 §6.1: Content-Length and Transfer-Encoding together is refused, whichever came first.
          if (this.fieldKind === FieldKind.TransferEncoding && this.flags & HeadFlags.ContentLength) return this.fail('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length", pos);
          if (this.fieldKind === FieldKind.ContentLength && this.flags & HeadFlags.TransferEncoding) return this.fail('HPE_INVALID_CONTENT_LENGTH', "Content-Length can't be present with Transfer-Encoding", pos);
          this.state = S.DiscardWs;
          pos++;
          break;
        }
        case S.DiscardWs:
          if (c === SP || c === HTAB) { pos++; break; }
          if (c === CR) { this.state = S.DiscardWsCr; pos++; break; }
          if (c === LF) return this.fail('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char', pos);
          {
            const refused = startFieldValue(this, this.fieldKind);
            if (refused !== undefined) return this.fail(refused[0], refused[1], pos);
          }
          this.spanStart = pos - base;
          this.state = S.Value;
          break;
        case S.DiscardWsCr:
          if (c !== LF) return this.fail('HPE_STRICT', 'Expected LF after CR', pos);
          this.state = S.DiscardLws;
          pos++;
          break;
        case S.DiscardLws:
          // obs-fold (RFC 9112 §5.2): refused.
          if (c === SP || c === HTAB) return this.fail('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char', pos);
          if (this.fieldKind === FieldKind.ContentLength) return this.fail('HPE_INVALID_CONTENT_LENGTH', 'Empty Content-Length', pos);
          // An empty Transfer-Encoding is no coding at all: Node 20 reads the request as unframed.
          this.rawHeaders.push(this.name, '');
          this.state = S.FieldStart;
          break;
        case S.Value:
          while (pos < end && HEADER_CHAR[buf[pos]!]) pos++;
          if (pos === end) break;
          if (buf[pos] !== CR) return this.fail(buf[pos] === LF ? 'HPE_CR_EXPECTED' : 'HPE_INVALID_HEADER_TOKEN', 'Invalid header value char', pos);
          this.valueEnd = pos - base;
          this.state = S.ValueCr;
          pos++;
          break;
        case S.ValueCr:
          if (c !== LF) return this.fail('HPE_LF_EXPECTED', 'Missing expected LF after header value', pos);
          this.state = S.ValueLws;
          pos++;
          break;
        case S.ValueLws: {
          if (c === SP || c === HTAB) return this.fail('HPE_INVALID_HEADER_TOKEN', 'Unexpected whitespace after header value', pos);
          const start = base + this.spanStart;
          const stop = base + this.valueEnd;
          this.counted += stop - start;
          if (this.counted >= this.maxHeaderBytes) return this.fail('HPE_HEADER_OVERFLOW', 'Header overflow', pos);
          const refused = applyFieldValue(this, this.fieldKind, buf, start, stop);
          if (refused !== undefined) return this.fail(refused[0], refused[1], pos);
          // node trims trailing SP and HTAB from values (leading ones were never part of the span).
          let trimmed = stop;
          while (trimmed > start && (buf[trimmed - 1] === SP || buf[trimmed - 1] === HTAB)) trimmed--;
          this.rawHeaders.push(this.name, latin1(buf, start, trimmed));
          this.state = S.FieldStart;
          break;
        }
        case S.HeadersCr:
          if (c !== LF) return this.fail('HPE_STRICT', 'Expected LF after headers', pos);
          this.state = S.Done;
          return pos + 1;
        case S.Done:
          return pos;
      }
    }
    // A span still open at the end of what arrived counts already, as node counts it per read.
    const open = this.state === S.Field || this.state === S.Value || (this.state >= S.UrlStart && this.state <= S.Fragment);
    if (open && this.counted + (end - base - this.spanStart) >= this.maxHeaderBytes) return this.fail('HPE_HEADER_OVERFLOW', 'Header overflow', end);
    return end;
  }

  private fail(code: Http1ErrorCode, reason: string, at: number): number {
    this.error = new Http1ParseError(code, reason, this.streamOffset + at);
    return -1;
  }

  /** The next state of the request-target for byte `c`; S.Done ends the target, S.Start refuses it. */
  private urlByte(c: number): S {
    const state = this.state;
    if (c === SP || c === CR || c === LF) return S.Done;
    if (state === S.Server || state === S.ServerAt) {
      if (c === 0x2f) return S.Path;
      if (c === 0x3f) return S.Query;
      if (c === 0x40) return state === S.ServerAt ? S.Start : S.ServerAt;
      return SERVER_CHAR[c] ? S.Server : S.Start;
    }
    if (URL_CHAR[c]) return state;
    if (c === 0x3f) return state === S.Path ? S.Query : state;
    if (c === 0x23) return S.Fragment;
    return S.Start;
  }
}
