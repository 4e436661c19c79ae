// One downstream HTTP/1.1 connection under the lean front end: socket bytes into the parser,
// requests to the data plane's handler one at a time (a pipelined request waits until the
// response before it is done), body backpressure both ways, keep-alive or close after each
// response, node's three timeouts as deadlines a sweep checks, and refusals answered as
// client-error.ts answers node's.
import type { Socket } from 'node:net';
import { answerClientError } from '../listen/client-error.js';
import { LeanRequest } from './lean-request.js';
import { LeanResponse } from './lean-response.js';
import type { Http1ParseError } from './parse-error.js';
import { RequestParser, type ParsedRequestHead, type RequestSink } from './request-parser.js';
import { checkServerRules } from './server-rules.js';

export interface LeanConnectionDeps {
  readonly onRequest: (req: LeanRequest, res: LeanResponse) => void;
  readonly onUpgrade: (req: LeanRequest, socket: Socket, head: Buffer) => void;
  readonly listenerName: () => string;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly onClosed: (connection: LeanConnection) => void;
}

export class LeanConnection implements RequestSink {
  private readonly parser: RequestParser;
  private req: LeanRequest | undefined;
  private res: LeanResponse | undefined;
  /** Epoch ms; 0 = not armed. */
  private headersDeadline: number;
  private requestDeadline: number;
  private idleDeadline = 0;
  /** The parser waits for the response in progress before reading the next request. */
  private heldForResponse = false;
  private bodyPaused = false;
  private clientEnded = false;
  private done = false;

  constructor(readonly socket: Socket, private readonly deps: LeanConnectionDeps) {
    this.parser = new RequestParser(this, { maxHeaderBytes: deps.maxHeaderBytes });
    const now = Date.now();
    this.headersDeadline = now + deps.headersTimeoutMs;
    this.requestDeadline = now + deps.requestTimeoutMs;
    socket.on('data', this.onData);
    socket.on('end', this.onSocketEnd);
    socket.once('close', this.onSocketClose);
  }

  /** No request in progress and none started: safe to close (draining, keep-alive idle). */
  get isIdle(): boolean {
    return this.res === undefined && this.parser.isIdle;
  }

  /** The sweep: node's headersTimeout and requestTimeout (408), and the keep-alive idle timeout. */
  checkDeadlines(now: number): void {
    if (this.done) return;
    if (this.idleDeadline !== 0 && now >= this.idleDeadline) {
      this.socket.destroy();
      return;
    }
    if (this.headersDeadline !== 0 && now >= this.headersDeadline) return this.refuse('HPE_HEADERS_TIMEOUT');
    if (this.requestDeadline !== 0 && now >= this.requestDeadline) return this.refuse('ERR_HTTP_REQUEST_TIMEOUT');
  }

  closeIfIdle(): void {
    if (this.isIdle) this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.idleDeadline !== 0) {
      // The first byte of the next request: its head and its whole must arrive in time.
      this.idleDeadline = 0;
      const now = Date.now();
      this.headersDeadline = now + this.deps.headersTimeoutMs;
      this.requestDeadline = now + this.deps.requestTimeoutMs;
    }
    this.parser.execute(chunk);
    if (this.parser.isPaused && !this.socket.isPaused()) this.socket.pause();
  };

  onHead(head: ParsedRequestHead): void {
    this.headersDeadline = 0;
    const verdict = checkServerRules(head);
    if (verdict.kind === 'refuse') {
      this.parser.pause();
      if (verdict.status === 400) return this.refuse('HPE_MISSING_HOST');
      this.finishConnection(`HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    if (verdict.expectsContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    const req = new LeanRequest(head, this.socket, this.onWantMore);
    const res = new LeanResponse(this.socket, {
      keepAlive: head.keepAlive,
      keepAliveTimeoutS: Math.floor(this.deps.keepAliveTimeoutMs / 1000),
      isHead: head.method === 'HEAD',
      http10: head.versionMajor === 1 && head.versionMinor === 0,
      onDone: this.onResponseDone,
    });
    this.req = req;
    this.res = res;
    this.deps.onRequest(req, res);
  }

  onBody(chunk: Buffer): void {
    const req = this.req;
    if (req === undefined || req.destroyed) return;
    if (!req.push(chunk) && !this.bodyPaused) {
      this.bodyPaused = true;
      this.parser.pause();
    }
  }

  onEnd(rawTrailers: string[]): void {
    this.requestDeadline = 0;
    const req = this.req;
    if (req !== undefined && !req.destroyed) req.finishBody(rawTrailers);
    // Pipelining: the next request is read once this one is answered.
    if (this.res !== undefined && !this.res.writableFinished) {
      this.heldForResponse = true;
      this.parser.pause();
    }
  }

  onUpgrade(head: ParsedRequestHead, rest: Buffer): void {
    this.done = true;
    this.detach();
    const req = new LeanRequest(head, this.socket, () => undefined);
    req.push(null);
    // Handed over as node hands an upgraded socket: not flowing, our listeners gone.
    this.socket.pause();
    if (head.method === 'CONNECT') {
      this.socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    this.deps.onUpgrade(req, this.socket, rest);
  }

  onError(error: Http1ParseError): void {
    this.req?.abort();
    const res = this.res;
    if (res !== undefined && !res.writableFinished) {
      // Bytes after a request that closes the connection: its response is still owed (RFC 9112 §9.6).
      if (error.code === 'HPE_CLOSED_CONNECTION') return;
      // A response already started cannot be replaced (node's answerClientError destroys too);
      // otherwise the 400 replaces it, and the handler's response goes nowhere.
      if (res.headersSent) {
        this.done = true;
        this.socket.destroy();
        return;
      }
      res.socketClosed();
    }
    this.refuse(error.code);
  }

  /** A refused request or a timeout: the JSON local reply client-error.ts writes, then close. */
  private refuse(code: string): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    this.req?.abort();
    answerClientError(Object.assign(new Error(code), { code }), this.socket, this.deps.listenerName());
  }

  private finishConnection(text: string): void {
    this.done = true;
    this.detach();
    this.socket.end(text);
  }

  private readonly onWantMore = (): void => {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (!this.heldForResponse) this.resumeReading();
  };

  private readonly onResponseDone = (res: LeanResponse): void => {
    if (res !== this.res) return;
    const req = this.req;
    this.res = undefined;
    this.req = undefined;
    if (!res.keepAlive || this.clientEnded) {
      // node's destroySoon: our FIN once the response is flushed, then the socket is gone.
      this.done = true;
      this.detach();
      this.socket.end();
      this.socket.once('finish', () => this.socket.destroy());
      return;
    }
    // A body nobody read is read and dropped, so the next request can be found (node's _dump).
    if (req !== undefined && !req.complete && !req.destroyed) {
      req.on('data', () => undefined);
      req.resume();
    }
    this.heldForResponse = false;
    this.bodyPaused = false;
    // The next request's clocks start now; reading it (it may be buffered whole) stops them again.
    const now = Date.now();
    this.headersDeadline = now + this.deps.headersTimeoutMs;
    this.requestDeadline = now + this.deps.requestTimeoutMs;
    this.resumeReading();
    if (this.res === undefined && this.parser.isIdle && !this.done) {
      this.headersDeadline = 0;
      this.requestDeadline = 0;
      this.idleDeadline = now + this.deps.keepAliveTimeoutMs;
    }
  };

  private resumeReading(): void {
    this.parser.resume();
    if (!this.parser.isPaused && this.socket.isPaused() && !this.done) this.socket.resume();
  }

  private readonly onSocketEnd = (): void => {
    this.clientEnded = true;
    this.parser.finish();
    if (!this.done && this.res === undefined) {
      this.done = true;
      this.socket.end();
    }
  };

  private readonly onSocketClose = (): void => {
    this.done = true;
    this.req?.abort();
    this.res?.socketClosed();
    this.deps.onClosed(this);
  };

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onSocketEnd);
    this.headersDeadline = 0;
    this.requestDeadline = 0;
    this.idleDeadline = 0;
  }
}
