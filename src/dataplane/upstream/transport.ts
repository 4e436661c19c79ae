// The one small upstream interface the request path talks to. It mirrors the callback shape of
// undici's dispatch handlers on purpose: the undici implementation is then a pass-through with no
// adapter objects per request, and a purpose-built socket pool can implement the same five
// callbacks later without touching routing, filters or load balancing.
import type { Readable } from 'node:stream';
import type { EndpointState } from './endpoint-state.js';

export type UpstreamProtocol = 'http1' | 'h2c' | 'h2' | 'https';

export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Flat [name, value, name, value, ...]; hop-by-hop headers already removed. */
  readonly headers: string[];
  /** null when the downstream request has no body; a Buffer when it was kept for retries. */
  readonly body: Readable | Buffer | null;
  /** Until the response headers arrive; 0 disables. */
  readonly headersTimeoutMs: number;
  /** Longest gap between two body chunks; 0 disables. */
  readonly bodyTimeoutMs: number;
}

export interface UpstreamHandler {
  /** Called once the request is assigned to a connection; `abort` cancels it. */
  onConnect(abort: (reason?: Error) => void): void;
  /** Raw header names and values alternate. Return false to pause until `resume` is called. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  /** Return false to pause (backpressure) until `resume` from onHeaders is called. */
  onData(chunk: Buffer): boolean;
  /** Raw Buffer pairs from HTTP/1.1, a header object from HTTP/2 (undici's shapes). */
  onComplete(trailers: Buffer[] | Record<string, string | string[] | undefined> | null): void;
  onError(err: Error): void;
}

export interface UpstreamTransport {
  send(endpoint: EndpointState, protocol: UpstreamProtocol, connectTimeoutMs: number, request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Connection pools per endpoint, for GET /api/upstreams. */
  stats(): Record<string, { connected: number; pending: number; running: number }>;
  /** Drop pools of endpoints that left the configuration (their in-flight requests finish first). */
  retain(keys: ReadonlySet<string>): void;
  close(): Promise<void>;
}
