// The request side of one HTTP/1.1 exchange: the head (request line and fields) as one string,
// written together with a small in-memory body in one corked write, or followed by a streamed body
// that moves only as fast as the upstream socket takes it.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { upstreamError } from './upstream-error.js';

/** How the body is delimited on the wire. */
export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly bytes: number } | { readonly kind: 'chunked' };

/** Methods whose requests are defined to carry content: without a body they say `content-length: 0` (as undici does). */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** A control byte or space in the target, a CR, LF or NUL in a field: never written, whoever put it there. */
const BAD_TARGET = /[\x00-\x20\x7f]/;
const BAD_FIELD = /[\r\n\0]/;

const NO_BODY: BodyFraming = { kind: 'none' };
const EMPTY_BODY: BodyFraming = { kind: 'length', bytes: 0 };

/**
 * The framing of a request body: a Buffer gets its own length (any Content-Length it came with is
 * dropped), a stream keeps a declared Content-Length or goes chunked.
 */
export function framingOf(method: string, headers: readonly string[], body: Readable | Buffer | null): BodyFraming {
  if (Buffer.isBuffer(body)) return { kind: 'length', bytes: body.length };
  // No body (most requests): only a payload method's declared length matters, so a GET scans nothing.
  if (body === null) return PAYLOAD_METHODS.has(method) && declaredLength(headers) === undefined ? EMPTY_BODY : NO_BODY;
  const declared = declaredLength(headers);
  if (declared !== undefined) return { kind: 'length', bytes: declared };
  // A stream whose source already ended holds the whole body: its length is known, so it goes with
  // a Content-Length rather than chunked. undici does the same (its bodyLength reads this state),
  // and a body the gateway held and passed on unchanged keeps "its own length" either way.
  const state = (body as Readable & { _readableState?: { ended?: boolean; objectMode?: boolean } })._readableState;
  if (state?.ended === true && state.objectMode !== true) return { kind: 'length', bytes: body.readableLength };
  return { kind: 'chunked' };
}

function declaredLength(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(headers[i + 1]);
  }
  return undefined;
}

/** The head as latin1 text (node's HTTP parser decodes bytes as latin1, so this writes them back unchanged). */
export function serializeHead(method: string, path: string, headers: readonly string[], framing: BodyFraming, defaultHost: string): string {
  if (BAD_TARGET.test(path) || BAD_TARGET.test(method)) throw upstreamError('UND_ERR_INVALID_ARG', 'invalid request target or method');
  let out = `${method} ${path} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    const len = name.length;
    if (len === 14 && framing.kind !== 'none' && name.toLowerCase() === 'content-length') continue;
    if (len === 4 && !hasHost && name.toLowerCase() === 'host') hasHost = true;
    if (BAD_FIELD.test(name) || BAD_FIELD.test(value) || len === 0) throw upstreamError('UND_ERR_INVALID_ARG', `invalid request header "${name}"`);
    out += `${name}: ${value}\r\n`;
  }
  if (!hasHost) out += `host: ${defaultHost}\r\n`;
  if (framing.kind === 'length') out += `content-length: ${framing.bytes}\r\n`;
  else if (framing.kind === 'chunked') out += 'transfer-encoding: chunked\r\n';
  return out + '\r\n';
}

/** Head and in-memory body in one write: one syscall and, for small requests, one TCP segment. */
export function writeWhole(socket: Socket, head: string, body: Buffer | null): void {
  if (body === null || body.length === 0) {
    socket.write(head, 'latin1');
    return;
  }
  socket.cork();
  socket.write(head, 'latin1');
  socket.write(body);
  socket.uncork();
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/**
 * A streamed body: read from `body` only while the socket accepts writes (write() returning false
 * pauses the source until 'drain'), so a slow upstream never makes us buffer the client's upload.
 */
export class StreamedBody {
  private written = 0;
  private stopped = false;

  constructor(
    private readonly socket: Socket,
    private readonly body: Readable,
    private readonly framing: BodyFraming,
    private readonly onDone: () => void,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.body.on('data', this.onData);
    this.body.once('end', this.onEnd);
    this.body.once('error', this.onSourceError);
    this.body.once('close', this.onClose);
    this.body.resume();
  }

  /** Stop sending (a response came first, or the request ended): the source stays paused. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('error', this.onSourceError);
    this.body.off('close', this.onClose);
    this.socket.off('drain', this.onDrain);
    this.body.pause();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    this.written += buf.length;
    let ok: boolean;
    if (this.framing.kind === 'chunked') {
      if (buf.length === 0) return;
      this.socket.cork();
      this.socket.write(`${buf.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(buf);
      ok = this.socket.write(CRLF);
      this.socket.uncork();
    } else {
      if (this.framing.kind === 'length' && this.written > this.framing.bytes) return this.fail(upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'request body longer than its Content-Length'));
      ok = this.socket.write(buf);
    }
    if (!ok) {
      this.body.pause();
      this.socket.once('drain', this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    if (!this.stopped) this.body.resume();
  };

  private readonly onEnd = (): void => {
    if (this.framing.kind === 'length' && this.written !== this.framing.bytes) return this.fail(upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'request body shorter than its Content-Length'));
    if (this.framing.kind === 'chunked') this.socket.write(LAST_CHUNK);
    this.stop();
    this.onDone();
  };

  private readonly onSourceError = (err: Error): void => this.fail(err);

  /** The source closed without ending: the client went away mid-upload. */
  private readonly onClose = (): void => {
    if (!this.body.readableEnded) this.fail(upstreamError('UND_ERR_ABORTED', 'request body aborted'));
  };

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onError(err);
  }
}
