// The response side of one HTTP/1.1 connection: bytes in, head / body chunks / end out, with the
// framing of RFC 9112 §6.3 (no body for HEAD, 1xx, 204, 304; chunked; Content-Length; else until
// close). Interim 1xx responses are skipped, a bounded number of them. The parser can be paused
// (the handler's backpressure): what arrived meanwhile is kept and replayed on resume.
import { parseFieldLines, parseResponseHead, type ResponseHead } from './response-head.js';
import { protocolError } from './upstream-error.js';

export interface ParserSink {
  /** Return false to pause. */
  onHead(head: ResponseHead): boolean;
  /** Return false to pause. `last`: onEnd follows at once. */
  onBody(chunk: Buffer, last: boolean): boolean;
  onEnd(trailers: string[] | null): void;
  onError(err: Error): void;
}

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
  Failed,
}

/** A chunk-size line with extensions longer than this is refused (extensions are tolerated, not unbounded). */
const MAX_CHUNK_LINE_BYTES = 4096;

export class ResponseParser {
  private state = State.Idle;
  private buffered: Buffer | undefined;
  private paused = false;
  private noBody = false;
  private remaining = 0;
  private interim = 0;
  private trailerBudget = 0;
  /** Bytes of this response seen so far: zero means the upstream sent nothing (the keep-alive race). */
  bytesSeen = 0;
  /** Bytes arrived after the response ended: the connection cannot be trusted with another request. */
  trailingBytes = false;

  constructor(
    private readonly sink: ParserSink,
    private readonly maxHeadBytes: number,
    private readonly maxInterimResponses: number,
  ) {}

  /** A new request went out: expect its response. */
  start(method: string): void {
    this.state = State.Head;
    this.noBody = method === 'HEAD';
    this.buffered = undefined;
    this.paused = false;
    this.interim = 0;
    this.bytesSeen = 0;
    this.trailingBytes = false;
  }

  /** The handler asked for a pause and has not resumed. */
  get isPaused(): boolean {
    return this.paused;
  }

  execute(chunk: Buffer): void {
    if (this.state === State.Idle || this.state === State.Done) {
      if (chunk.length > 0) this.trailingBytes = true;
      return;
    }
    if (this.state === State.Failed) return;
    this.bytesSeen += chunk.length;
    this.buffered = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    if (!this.paused) this.run();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.buffered !== undefined) this.run();
  }

  /** The upstream closed its side: true when that ended the response (a body read until close). */
  endOfStream(): boolean {
    if (this.state !== State.UntilClose || this.buffered !== undefined) return false;
    this.state = State.Done;
    this.sink.onEnd(null);
    return true;
  }

  private run(): void {
    try {
      while (this.buffered !== undefined && !this.paused && this.step(this.buffered)) {
        // step() consumed what it could; loop while bytes remain.
      }
    } catch (err) {
      this.state = State.Failed;
      this.buffered = undefined;
      this.sink.onError(err as Error);
    }
  }

  /** Consumes from `buf`; false when it needs more bytes. */
  private step(buf: Buffer): boolean {
    switch (this.state) {
      case State.Head:
        return this.readHead(buf);
      case State.Length: {
        const n = Math.min(this.remaining, buf.length);
        this.remaining -= n;
        this.consume(buf, n);
        const last = this.remaining === 0;
        if (!this.sink.onBody(n === buf.length ? buf : buf.subarray(0, n), last)) this.paused = true;
        if (last) this.finish(null);
        return true;
      }
      case State.ChunkSize:
        return this.readChunkSize(buf);
      case State.ChunkData: {
        const n = Math.min(this.remaining, buf.length);
        this.remaining -= n;
        this.consume(buf, n);
        if (this.remaining === 0) this.state = State.ChunkDataEnd;
        if (!this.sink.onBody(n === buf.length ? buf : buf.subarray(0, n), false)) this.paused = true;
        return true;
      }
      case State.ChunkDataEnd:
        if (buf.length < 2) return false;
        if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw protocolError('STRICT', 'chunk data not followed by CRLF');
        this.consume(buf, 2);
        this.state = State.ChunkSize;
        return true;
      case State.Trailers:
        return this.readTrailers(buf);
      case State.UntilClose:
        this.buffered = undefined;
        if (!this.sink.onBody(buf, false)) this.paused = true;
        return true;
      default:
        // Done (or failed) while bytes remain: they belong to no request.
        this.buffered = undefined;
        this.trailingBytes = true;
        return false;
    }
  }

  private consume(buf: Buffer, n: number): void {
    this.buffered = n >= buf.length ? undefined : buf.subarray(n);
  }

  private readHead(buf: Buffer): boolean {
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) {
      if (buf.length > this.maxHeadBytes) throw protocolError('HEADER_OVERFLOW', `response head larger than ${this.maxHeadBytes} bytes`);
      return false;
    }
    if (end + 4 > this.maxHeadBytes) throw protocolError('HEADER_OVERFLOW', `response head larger than ${this.maxHeadBytes} bytes`);
    const head = parseResponseHead(buf, end);
    this.consume(buf, end + 4);
    const status = head.statusCode;
    if (status < 200) {
      if (status === 101) throw protocolError('UNEXPECTED_SPACE', '101 Switching Protocols to a request that asked for no upgrade');
      if (++this.interim > this.maxInterimResponses) throw protocolError('CB_HEADERS_COMPLETE', `more than ${this.maxInterimResponses} interim (1xx) responses`);
      return true;
    }
    this.trailerBudget = this.maxHeadBytes - end;
    let next: State;
    if (this.noBody || status === 204 || status === 304) next = State.Done;
    else if (head.chunked) next = State.ChunkSize;
    else if (head.contentLength !== undefined) {
      this.remaining = head.contentLength;
      next = head.contentLength === 0 ? State.Done : State.Length;
    } else next = State.UntilClose;
    const goOn = this.sink.onHead(head);
    // The handler may have aborted the request from onHead.
    if (this.state !== State.Head) return false;
    if (next === State.Done) this.finish(null);
    else this.state = next;
    if (!goOn) this.paused = true;
    return true;
  }

  /** The request was aborted or its connection failed: ignore whatever else arrives. */
  fail(): void {
    this.state = State.Failed;
    this.buffered = undefined;
  }

  private readChunkSize(buf: Buffer): boolean {
    const lineEnd = buf.indexOf('\r\n');
    if (lineEnd === -1) {
      if (buf.length > MAX_CHUNK_LINE_BYTES) throw protocolError('INVALID_CHUNK_SIZE', 'chunk-size line too long');
      return false;
    }
    let size = 0;
    let i = 0;
    for (; i < lineEnd; i++) {
      const b = buf[i]!;
      const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
      if (d === -1) break;
      if (i >= 12) throw protocolError('INVALID_CHUNK_SIZE', 'chunk size too large');
      size = size * 16 + d;
    }
    if (i === 0) throw protocolError('INVALID_CHUNK_SIZE', 'chunk size is not hexadecimal');
    // chunk-ext (RFC 9112 §7.1.1): BWS ";" ...; tolerated and ignored, but only printable bytes.
    let j = i;
    while (j < lineEnd && (buf[j] === 0x20 || buf[j] === 0x09)) j++;
    if (j < lineEnd && buf[j] !== 0x3b) throw protocolError('INVALID_CHUNK_SIZE', 'invalid byte after the chunk size');
    for (; j < lineEnd; j++) {
      const b = buf[j]!;
      if (b !== 0x09 && (b < 0x20 || b === 0x7f)) throw protocolError('INVALID_CHUNK_SIZE', 'control byte in a chunk extension');
    }
    this.consume(buf, lineEnd + 2);
    if (size === 0) this.state = State.Trailers;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return true;
  }

  private readTrailers(buf: Buffer): boolean {
    if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
      this.consume(buf, 2);
      this.finish(null);
      return true;
    }
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) {
      if (buf.length > this.trailerBudget) throw protocolError('HEADER_OVERFLOW', 'trailers larger than the head limit');
      return false;
    }
    if (end + 4 > this.trailerBudget) throw protocolError('HEADER_OVERFLOW', 'trailers larger than the head limit');
    const trailers: string[] = [];
    parseFieldLines(buf.toString('latin1', 0, end + 2), 0, end, trailers);
    this.consume(buf, end + 4);
    this.finish(trailers);
    return true;
  }

  private finish(trailers: string[] | null): void {
    if (this.state === State.Done || this.state === State.Failed) return;
    this.state = State.Done;
    if (this.buffered !== undefined) this.trailingBytes = true;
    this.sink.onEnd(trailers);
  }
}
