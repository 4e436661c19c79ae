// One HTTP/1.1 connection's requests: bytes in, heads / body chunks / ends out, strict as node's
// own parser (llhttp) is with insecureHTTPParser off. Pipelined requests are read one after the
// other; the owner pauses the parser (for example until a response is done, or for backpressure)
// and what arrived meanwhile is kept and read on resume. After a request that does not keep the
// connection alive, any byte but CR/LF is refused, as llhttp's `closed` state does.
import { ChunkDecoder } from './chunk-decoder.js';
import { HeadFlags } from './framing-fields.js';
import { HeadScanner } from './head-scanner.js';
import { Http1ParseError } from './parse-error.js';
import type { BodyFraming, RequestHead } from './request-head.js';

export interface RequestSink {
  onHead(head: ParsedRequestHead): void;
  /** A view of the parser's input: the sink may keep it. */
  onBody(chunk: Buffer): void;
  onEnd(rawTrailers: string[]): void;
  /** CONNECT, or an accepted Upgrade: the parser is done; `rest` is what followed the head. */
  onUpgrade(head: ParsedRequestHead, rest: Buffer): void;
  onError(error: Http1ParseError): void;
}

export interface ParsedRequestHead extends RequestHead {
  /** llhttp's should_keep_alive at the end of the head: HTTP/1.1 without close, HTTP/1.0 with keep-alive. */
  readonly keepAlive: boolean;
}

const enum P { Head, Length, Chunked, Trailers, Closed, Upgraded, Failed }

export interface RequestParserOptions {
  /** node's maxHeaderSize: target, field names and values of one head (or of the trailers). */
  readonly maxHeaderBytes: number;
}

const EMPTY = Buffer.alloc(0);
const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

export class RequestParser {
  private phase = P.Head;
  private readonly scanner: HeadScanner;
  private readonly chunks = new ChunkDecoder();
  /** Bytes kept between reads (an unfinished head, or input that arrived while paused). */
  private pending: Buffer = EMPTY;
  private pendingLength = 0;
  /** Of the head at the start of `pending` (or of the current buffer), bytes already scanned. */
  private scanned = 0;
  private remaining = 0;
  /** Bytes of the stream consumed before the current buffer's position: for error offsets. */
  private consumed = 0;
  /** A head is refused once this many raw bytes are buffered, whatever llhttp's count says (see docs/http1-frontend.md). */
  private readonly maxRawHeadBytes: number;
  private paused = false;
  private readonly onData = (chunk: Buffer): void => this.sink.onBody(chunk);

  constructor(private readonly sink: RequestSink, options: RequestParserOptions) {
    this.scanner = new HeadScanner(options.maxHeaderBytes);
    this.maxRawHeadBytes = 4 * options.maxHeaderBytes + 1024;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** No request is in progress: nothing or only empty lines read since the last one ended. */
  get isIdle(): boolean {
    return (this.phase === P.Head && !this.scanner.started) || this.phase === P.Closed;
  }

  execute(chunk: Buffer): void {
    if (this.phase === P.Failed || this.phase === P.Upgraded || chunk.length === 0) return;
    if (this.pendingLength === 0 && !this.paused) return this.run(chunk, 0, chunk.length);
    this.append(chunk);
    if (!this.paused) this.run(this.pending, 0, this.pendingLength);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.pendingLength > 0 && this.phase !== P.Failed && this.phase !== P.Upgraded) this.run(this.pending, 0, this.pendingLength);
  }

  /** The client ended its side: a request cut short is an error (node's HPE_INVALID_EOF_STATE). */
  finish(): void {
    if (this.phase === P.Failed || this.phase === P.Upgraded || this.phase === P.Closed) return;
    if (this.phase === P.Head && !this.scanner.started) return;
    this.fail(new Http1ParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', this.consumed));
  }

  private run(buf: Buffer, pos: number, end: number): void {
    while (pos < end && !this.paused) {
      switch (this.phase) {
        case P.Head:
        case P.Trailers: {
          const stop = this.scanner.scan(buf, pos, pos + this.scanned, end, this.consumed - pos);
          if (stop < 0) return this.fail(this.scanner.error!);
          if (!this.scanner.done) {
            if (end - pos > this.maxRawHeadBytes) return this.fail(new Http1ParseError('HPE_HEADER_OVERFLOW', 'Header overflow', this.consumed + end - pos));
            this.scanned = end - pos;
            return this.keep(buf, pos, end);
          }
          this.scanned = 0;
          this.consumed += stop - pos;
          pos = stop;
          if (this.phase === P.Trailers) this.endMessage(this.scanner.rawHeaders);
          else if (!this.startBody()) return;
          else if ((this.phase as P) === P.Upgraded) return this.sink.onUpgrade(this.head(NO_BODY), Buffer.from(buf.subarray(pos, end)));
          break;
        }
        case P.Length: {
          const n = Math.min(this.remaining, end - pos);
          this.sink.onBody(buf.subarray(pos, pos + n));
          pos += n;
          this.consumed += n;
          this.remaining -= n;
          if (this.remaining === 0) this.endMessage([]);
          break;
        }
        case P.Chunked: {
          const stop = this.chunks.scan(buf, pos, end, this.consumed - pos, this.onData);
          if (stop < 0) return this.fail(this.chunks.error!);
          this.consumed += stop - pos;
          pos = stop;
          if (this.chunks.lastChunk) {
            this.phase = P.Trailers;
            this.scanner.startTrailers();
          }
          break;
        }
        case P.Closed: {
          const c = buf[pos]!;
          if (c !== 0x0d && c !== 0x0a) return this.fail(new Http1ParseError('HPE_CLOSED_CONNECTION', 'Data after `Connection: close`', this.consumed));
          pos++;
          this.consumed++;
          break;
        }
        default:
          return;
      }
    }
    if (pos < end && this.phase !== P.Failed && this.phase !== P.Upgraded) return this.keep(buf, pos, end);
    this.pendingLength = 0;
    // Body chunks handed out may point into it: never write into it again.
    if (buf === this.pending) this.pending = EMPTY;
  }

  /** The head is complete: decide the framing (RFC 9112 §6.3 as llhttp applies it). False: refused. */
  private startBody(): boolean {
    const s = this.scanner;
    const flags = s.flags;
    const upgrade = ((flags & HeadFlags.Upgrade) !== 0 && (flags & HeadFlags.ConnectionUpgrade) !== 0) || s.method === 'CONNECT';
    if (upgrade) {
      // node's server takes every upgrade (the listener has an 'upgrade' handler): no body is read.
      this.phase = P.Upgraded;
      return true;
    }
    if (flags & HeadFlags.Chunked) {
      this.sink.onHead(this.head(CHUNKED));
      this.phase = P.Chunked;
      this.chunks.reset();
      return true;
    }
    if (flags & HeadFlags.TransferEncoding) {
      // A request whose last coding is not chunked has no knowable length (RFC 9112 §6.3 ¶4).
      this.fail(new Http1ParseError('HPE_INVALID_TRANSFER_ENCODING', 'Request has invalid `Transfer-Encoding`', this.consumed));
      return false;
    }
    if (s.contentLength > 0) {
      this.sink.onHead(this.head({ kind: 'length', bytes: s.contentLength }));
      this.phase = P.Length;
      this.remaining = s.contentLength;
      return true;
    }
    this.sink.onHead(this.head(NO_BODY));
    this.endMessage([]);
    return true;
  }

  private head(framing: BodyFraming): ParsedRequestHead {
    const s = this.scanner;
    return {
      method: s.method,
      url: s.url,
      versionMajor: s.versionMajor,
      versionMinor: s.versionMinor,
      rawHeaders: s.rawHeaders,
      framing,
      upgrade: this.phase === P.Upgraded,
      keepAlive: keepsAlive(s.versionMajor, s.versionMinor, s.flags),
    };
  }

  private endMessage(trailers: string[]): void {
    const s = this.scanner;
    // Trailers may carry Connection too: llhttp reads them with the same flags.
    this.phase = keepsAlive(s.versionMajor, s.versionMinor, s.flags) ? P.Head : P.Closed;
    s.startRequest();
    this.sink.onEnd(trailers);
  }

  private fail(error: Http1ParseError): void {
    this.phase = P.Failed;
    this.pendingLength = 0;
    this.sink.onError(error);
  }

  /** Keeps `buf[pos, end)` for the next read, in a buffer no body chunk handed out points into. */
  private keep(buf: Buffer, pos: number, end: number): void {
    const length = end - pos;
    if (buf === this.pending && pos === 0) {
      // Nothing was handed out of this buffer in this run (it would lie before `pos`).
      this.pendingLength = length;
      return;
    }
    const next = Buffer.allocUnsafe(Math.max(length * 2, 1024));
    buf.copy(next, 0, pos, end);
    this.pending = next;
    this.pendingLength = length;
  }

  private append(chunk: Buffer): void {
    const need = this.pendingLength + chunk.length;
    if (need > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.pending.length * 2));
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    chunk.copy(this.pending, this.pendingLength);
    this.pendingLength = need;
  }
}

/** llhttp_should_keep_alive for a request (a request never needs EOF to end). */
function keepsAlive(major: number, minor: number, flags: number): boolean {
  if (major > 0 && minor > 0) return (flags & HeadFlags.ConnectionClose) === 0;
  return (flags & HeadFlags.ConnectionKeepAlive) !== 0;
}
