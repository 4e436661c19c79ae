// One keep-alive HTTP/1.1 connection to an upstream, one request at a time (no pipelining, like
// undici's default). It writes the request, feeds the response to the parser and the parser's
// events to the request's handler, runs the headers and body timeouts, and tells its pool when it
// is free again, or that it must not be reused (Connection: close, HTTP/1.0, a response that came
// before the request body was sent, bytes after the response, the request limit).
import type { Socket } from 'node:net';
import type { ParserSink } from './response-parser.js';
import { ResponseParser } from './response-parser.js';
import type { ResponseHead } from './response-head.js';
import { framingOf, serializeHead, StreamedBody, writeWhole } from './request-writer.js';
import type { RawRequest, RequestHost } from './raw-request.js';
import { socketClosed, upstreamError } from './upstream-error.js';
import { DeadlineTimer } from './deadline-timer.js';

export interface ConnectionOwner {
  /** The response ended; `reusable`: the connection may take another request. */
  released(conn: PooledConnection, reusable: boolean): void;
  /** The socket is gone. */
  closed(conn: PooledConnection): void;
  /** The keep-alive race: this reused connection closed before any byte of `req`'s response; send it again on a fresh one. */
  retryFresh(req: RawRequest): void;
}

export interface ConnectionLimits {
  readonly maxHeadBytes: number;
  readonly maxInterimResponses: number;
  readonly idleTimeoutMs: number;
  readonly maxRequests: number;
  /** `host:port` for requests that carry no Host field. */
  readonly defaultHost: string;
}

/** A server's `Keep-Alive: timeout=N` is trusted minus this margin, so we close first (undici keeps a margin too). */
const KEEP_ALIVE_MARGIN_MS = 1_000;

export class PooledConnection implements ParserSink, RequestHost {
  /** Requests started on this socket; above one, the socket was reused. */
  requests = 0;
  private current: RawRequest | undefined;
  private readonly parser: ResponseParser;
  private body: StreamedBody | undefined;
  private bodyDone = true;
  private reusable = true;
  /** Set by onEnd: the pool hears about it once the parser has returned. */
  private finished = false;
  private written = false;
  /** The running exchange's deadline: response headers, then each gap between body chunks. */
  private readonly exchangeTimer: DeadlineTimer;
  /** Which of the two `exchangeTimer` is timing. */
  private timing: 'none' | 'headers' | 'body' = 'none';
  /** Parked: closes the connection once idle this long. */
  private readonly idleTimer: DeadlineTimer;
  private idleMs: number;
  private socketError: Error | undefined;
  private gone = false;

  constructor(
    readonly socket: Socket,
    private readonly owner: ConnectionOwner,
    private readonly limits: ConnectionLimits,
  ) {
    this.idleMs = limits.idleTimeoutMs;
    this.exchangeTimer = new DeadlineTimer(this.onExchangeTimeout);
    this.idleTimer = new DeadlineTimer(this.onIdleTimeout);
    this.parser = new ResponseParser(this, limits.maxHeadBytes, limits.maxInterimResponses);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    socket.on('close', this.onSocketClose);
  }

  get isOpen(): boolean {
    return !this.gone && !this.socket.destroyed;
  }

  run(req: RawRequest): void {
    this.current = req;
    req.host = this;
    this.requests++;
    this.finished = false;
    this.written = false;
    this.bodyDone = true;
    this.idleTimer.clear();
    this.parser.start(req.request.method);
    if (!req.connected) {
      req.connected = true;
      req.handler.onConnect(req.abort);
      if (this.current !== req) return; // aborted from onConnect
    }
    const { method, headers, body } = req.request;
    // A stream of unknown length is written a turn later: a small body has often ended by then,
    // and then goes with a Content-Length (framingOf) as it would through undici, which also
    // writes on a later turn.
    if (body !== null && !Buffer.isBuffer(body) && framingOf(method, headers, body).kind === 'chunked') {
      setImmediate(() => this.current === req && this.write(req));
      return;
    }
    this.write(req);
  }

  private write(req: RawRequest): void {
    const { method, path, headers, body, headersTimeoutMs } = req.request;
    let head: string;
    const framing = framingOf(method, headers, body);
    try {
      head = serializeHead(method, path, headers, framing, this.limits.defaultHost);
    } catch (err) {
      this.current = undefined;
      this.owner.released(this, true);
      req.fail(err as Error);
      return;
    }
    this.written = true;
    if (headersTimeoutMs > 0) this.startTiming('headers', headersTimeoutMs);
    if (body === null || Buffer.isBuffer(body)) return writeWhole(this.socket, head, body);
    this.socket.write(head, 'latin1');
    this.bodyDone = false;
    this.body = new StreamedBody(this.socket, body, framing, this.onBodySent, (err) => this.fail(err, false));
    this.body.start();
  }

  /** Parked in the pool's idle list. */
  park(): void {
    this.idleTimer.set(this.idleMs);
  }

  destroy(): void {
    this.gone = true;
    this.idleTimer.stop();
    this.exchangeTimer.stop();
    this.socket.destroy();
  }

  /** RequestHost: the handler aborted the running request. */
  abortCurrent(): void {
    const req = this.current;
    if (req === undefined) return;
    this.current = undefined;
    this.stopRequest();
    this.parser.fail();
    // Nothing written yet (aborted from onConnect): the connection is as good as it was.
    if (!this.written) this.owner.released(this, true);
    else this.destroy();
  }

  onHead(head: ResponseHead): boolean {
    const req = this.current!;
    this.stopTiming();
    if (head.connectionClose || (head.minorVersion === 0 && !head.connectionKeepAlive)) this.reusable = false;
    if (head.keepAliveTimeoutMs !== undefined) {
      const hinted = head.keepAliveTimeoutMs - KEEP_ALIVE_MARGIN_MS;
      if (hinted <= 0) this.reusable = false;
      else this.idleMs = Math.min(this.idleMs, hinted);
    }
    if (!this.bodyDone) {
      // The upstream answered before taking the whole body (RFC 9112 §9.5 lets it): stop sending,
      // relay the response, and close afterwards, since the framing of what we sent is unfinished.
      this.body?.stop();
      this.reusable = false;
    }
    const goOn = req.handler.onHeaders(head.statusCode, head.rawHeaders, this.resumeFor(req), head.statusText);
    if (this.current !== req) return false;
    const bodyMs = req.request.bodyTimeoutMs;
    // Armed once this socket chunk is consumed (armBodyGap): a body that came with its head, as
    // most do, never touches the timer.
    if (bodyMs > 0 && goOn !== false) this.timing = 'body';
    if (goOn === false) this.socket.pause();
    return goOn !== false;
  }

  onBody(chunk: Buffer, last: boolean): boolean {
    const req = this.current!;
    if (req.handler.onData(chunk, last) !== false) return true;
    if (this.current !== req) return false;
    // Backpressure: stop reading the upstream until the handler resumes; the body timeout waits too.
    this.stopTiming();
    this.socket.pause();
    return false;
  }

  onEnd(trailers: string[] | null): void {
    const req = this.current!;
    this.current = undefined;
    this.stopTiming();
    this.finished = true;
    req.done = true;
    req.host = undefined;
    req.handler.onComplete(trailers);
  }

  onError(err: Error): void {
    this.fail(err, false);
  }

  private resumeFor(req: RawRequest): () => void {
    return () => {
      if (this.current !== req) return;
      const bodyMs = req.request.bodyTimeoutMs;
      if (bodyMs > 0 && this.timing === 'none') this.startTiming('body', bodyMs);
      this.parser.resume();
      this.afterParse();
      // What was held may have filled the handler again: read on only if it did not pause.
      if (this.current === req && !this.parser.isPaused) this.socket.resume();
    };
  }

  private readonly onBodySent = (): void => {
    this.bodyDone = true;
    this.body = undefined;
  };

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.current === undefined) {
      // Bytes nobody asked for on an idle connection: it is out of step, never reuse it.
      this.reusable = false;
      this.destroy();
      return;
    }
    this.parser.execute(chunk);
    this.afterParse();
    this.armBodyGap();
  };

  /** A socket chunk was consumed and the body goes on: the gap timer runs until the next one. */
  private armBodyGap(): void {
    const req = this.current;
    if (req !== undefined && this.timing === 'body') this.exchangeTimer.set(req.request.bodyTimeoutMs);
  }

  /** After the parser returned: a finished response hands the connection back. */
  private afterParse(): void {
    if (!this.finished) return;
    this.finished = false;
    const reusable = this.reusable && this.bodyDone && !this.parser.trailingBytes && this.requests < this.limits.maxRequests && this.isOpen;
    this.owner.released(this, reusable);
  }

  private readonly onSocketEnd = (): void => {
    // A body read until close ends here; anything else is cut short.
    if (this.current !== undefined && this.parser.endOfStream()) {
      this.reusable = false;
      this.afterParse();
    }
    this.socket.destroy();
  };

  private readonly onSocketClose = (): void => {
    this.gone = true;
    this.idleTimer.stop();
    this.exchangeTimer.stop();
    if (this.current !== undefined) this.fail(this.socketError ?? socketClosed(), true);
    this.owner.closed(this);
  };

  private readonly onExchangeTimeout = (): void => {
    const timing = this.timing;
    this.timing = 'none';
    if (timing === 'headers') this.fail(upstreamError('UND_ERR_HEADERS_TIMEOUT', 'headers timeout'), false);
    else if (timing === 'body') this.fail(upstreamError('UND_ERR_BODY_TIMEOUT', 'body timeout'), false);
  };

  private readonly onIdleTimeout = (): void => {
    if (this.current === undefined) this.destroy();
  };

  /**
   * The running request failed. `byPeer`: the socket closed or reset under it. On a reused socket
   * with no byte of the response yet, that is the keep-alive race (the server closed the idle
   * connection as we wrote): nothing was processed, so the request goes again on a fresh
   * connection, once, if its body can be sent again.
   */
  private fail(err: Error, byPeer: boolean): void {
    const req = this.current;
    if (req === undefined) return;
    this.current = undefined;
    this.stopRequest();
    this.parser.fail();
    this.destroy();
    if (byPeer && this.requests > 1 && this.parser.bytesSeen === 0 && !req.retried && req.replayable) {
      req.retried = true;
      req.host = undefined;
      this.owner.retryFresh(req);
      return;
    }
    req.fail(err);
  }

  private stopRequest(): void {
    this.stopTiming();
    this.body?.stop();
    this.body = undefined;
  }

  private startTiming(timing: 'headers' | 'body', ms: number): void {
    this.timing = timing;
    this.exchangeTimer.set(ms);
  }

  private stopTiming(): void {
    if (this.timing === 'none') return;
    this.timing = 'none';
    this.exchangeTimer.clear();
  }
}
