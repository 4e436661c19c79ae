// One request's life in the raw pool, across the connection it runs on and, after a keep-alive
// race, the fresh one it is sent again on. The handler hears onConnect once and exactly one of
// onComplete / onError, whatever happens underneath.
import type { UpstreamHandler, UpstreamRequest } from '../transport.js';
import { ABORTED_CODE, upstreamError } from './upstream-error.js';

/** What a request needs from the connection it runs on. */
export interface RequestHost {
  /** Cut the running request: nothing more reaches its handler. */
  abortCurrent(): void;
}

export class RawRequest {
  /** onConnect has been called (a retry on a fresh connection does not call it again). */
  connected = false;
  /** onComplete or onError has been called, or the request was aborted. */
  done = false;
  /** Sent again once after a keep-alive race; never twice. */
  retried = false;
  host: RequestHost | undefined;

  constructor(
    readonly request: UpstreamRequest,
    readonly handler: UpstreamHandler,
  ) {}

  /** The body can be sent again: none, or one held in memory. A stream was (partly) consumed. */
  get replayable(): boolean {
    const body = this.request.body;
    return body === null || Buffer.isBuffer(body);
  }

  /** Given to the handler in onConnect (undici's abort: the handler hears onError with the reason). */
  readonly abort = (reason?: Error): void => {
    if (this.done) return;
    this.done = true;
    const host = this.host;
    this.host = undefined;
    host?.abortCurrent();
    this.handler.onError(reason ?? upstreamError(ABORTED_CODE, 'request aborted'));
  };

  /** Ends the request with an error (once). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.host = undefined;
    this.handler.onError(err);
  }
}
