// The request object the data plane's handler receives under the lean front end: a Readable of the
// body (so piping, pausing and backpressure behave as on node's IncomingMessage) with the fields
// the data plane reads (method, url, httpVersion*, rawHeaders, headers, socket). `headers` is built
// on first use only. Deliberately not an IncomingMessage: nothing of node's parser is involved.
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { buildHeaderObject } from './header-object.js';
import type { ParsedRequestHead } from './request-parser.js';

export class LeanRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  rawTrailers: string[] = [];
  trailers: Record<string, string> = {};
  complete = false;
  aborted = false;
  readonly upgrade: boolean;
  private headerObject: IncomingHttpHeaders | undefined;

  constructor(
    head: ParsedRequestHead,
    readonly socket: Socket,
    /** Called when the consumer wants more body after push() returned false. */
    private readonly onWantMore: () => void,
  ) {
    super();
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMajor = head.versionMajor;
    this.httpVersionMinor = head.versionMinor;
    this.httpVersion = `${head.versionMajor}.${head.versionMinor}`;
    this.rawHeaders = head.rawHeaders;
    this.upgrade = head.upgrade;
  }

  get headers(): IncomingHttpHeaders {
    return (this.headerObject ??= buildHeaderObject(this.rawHeaders));
  }

  /** node's IncomingMessage keeps `connection` as an alias of `socket`. */
  get connection(): Socket {
    return this.socket;
  }

  override _read(): void {
    this.onWantMore();
  }

  /** The body ended (with its trailers). */
  finishBody(rawTrailers: string[]): void {
    this.complete = true;
    this.rawTrailers = rawTrailers;
    for (let i = 0; i < rawTrailers.length; i += 2) this.trailers[rawTrailers[i]!.toLowerCase()] ??= rawTrailers[i + 1]!;
    this.push(null);
  }

  /** The connection went away before the body ended. */
  abort(): void {
    if (this.complete || this.destroyed) return;
    this.aborted = true;
    this.emit('aborted');
    // As node's IncomingMessage: the error is only emitted to someone listening for it.
    this.destroy(this.listenerCount('error') > 0 ? Object.assign(new Error('aborted'), { code: 'ECONNRESET' }) : undefined);
  }
}
