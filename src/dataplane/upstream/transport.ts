// The one small upstream interface the request path talks to. It mirrors the callback shape of
// undici's dispatch handlers on purpose: the undici implementation is then a pass-through with no
// adapter objects per request, and a purpose-built socket pool can implement the same five
// callbacks later without touching routing, filters or load balancing.
import type { Readable } from 'node:stream';
import type { EndpointState } from './endpoint-state.js';
import type { UpstreamTls } from './upstream-tls.js';

export type UpstreamProtocol = 'http1' | 'h2c' | 'h2' | 'https';

/** How a cluster reaches its endpoints; compiled once per apply (cluster-runtime.ts). */
export interface UpstreamConnection {
  readonly protocol: UpstreamProtocol;
  readonly connectTimeoutMs: number;
  /** Only for https and h2; never undefined for them (absent IR policy still verifies). */
  readonly tls: UpstreamTls | undefined;
  /** A connection is closed after this many requests (Envoy max_requests_per_connection); absent: no limit. */
  readonly maxRequestsPerConnection?: number;
  /** An idle connection is closed after this long; absent: the transport's default. */
  readonly idleTimeoutMs?: number;
  /**
   * Everything a pooled connection was set up with: `https:5000ms:tls-<digest>`. Two clusters
   * reaching one address:port share a pool only when their keys agree, and a reload that changes
   * any of it gets new connections instead of warm ones made under the old settings.
   */
  readonly key: string;
}

export function connectionKeyOf(protocol: UpstreamProtocol, connectTimeoutMs: number, tls: UpstreamTls | undefined, maxRequestsPerConnection?: number, idleTimeoutMs?: number): string {
  return `${protocol}:${connectTimeoutMs}ms${tls === undefined ? '' : `:tls-${tls.digest}`}${maxRequestsPerConnection === undefined ? '' : `:max-${maxRequestsPerConnection}`}${idleTimeoutMs === undefined ? '' : `:idle-${idleTimeoutMs}ms`}`;
}

/** A pool's identity: the connection settings and the endpoint (`https:5000ms:tls-ab12…|10.0.0.5:8443`). */
export function poolKeyOf(connection: UpstreamConnection, endpoint: EndpointState): string {
  return `${connection.key}|${endpoint.key}`;
}

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

/**
 * A response's raw header names and values, alternating: undici hands over Buffers, the raw pool
 * latin1 strings (what the downstream side writes, so it makes no Buffer per field). Read them
 * with `rawHeaderText`.
 */
export type RawHeaders = readonly Buffer[] | readonly string[];

/** One entry of RawHeaders as text (latin1, as node's HTTP parser reads bytes). */
export function rawHeaderText(entry: Buffer | string): string {
  return typeof entry === 'string' ? entry : entry.toString('latin1');
}

export interface UpstreamHandler {
  /** Called once the request is assigned to a connection; `abort` cancels it. */
  onConnect(abort: (reason?: Error) => void): void;
  /** Raw header names and values alternate. Return false to pause until `resume` is called. */
  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void, statusText: string): boolean;
  /**
   * Return false to pause (backpressure) until `resume` from onHeaders is called. `last`: the body
   * ends with this chunk and onComplete follows at once, before anything else reaches the handler
   * (the raw pool says so for a Content-Length body; undici never does).
   */
  onData(chunk: Buffer, last?: boolean): boolean;
  /** Raw pairs from HTTP/1.1 (Buffers from undici, strings from the raw pool), a header object from HTTP/2. */
  onComplete(trailers: RawHeaders | Record<string, string | string[] | undefined> | null): void;
  onError(err: Error): void;
}

export interface UpstreamTransport {
  send(endpoint: EndpointState, connection: UpstreamConnection, request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Connection pools by pool key (poolKeyOf), for GET /api/upstreams. */
  stats(): Record<string, { connected: number; pending: number; running: number }>;
  /** Drop pools whose key (poolKeyOf) the configuration no longer uses (their in-flight requests finish first). */
  retain(poolKeys: ReadonlySet<string>): void;
  close(): Promise<void>;
}
