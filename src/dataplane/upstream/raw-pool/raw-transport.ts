// UpstreamTransport over raw net/tls sockets for HTTP/1.1 upstreams (http1 and https): one
// EndpointPool per pool key, living outside the configuration like undici's pools, so a reload that
// keeps a cluster's connection settings keeps its warm connections. h2c and h2 (gRPC) upstreams
// stay on undici, which speaks HTTP/2.
import type { EndpointState } from '../endpoint-state.js';
import { poolKeyOf, type UpstreamConnection, type UpstreamHandler, type UpstreamRequest, type UpstreamTransport } from '../transport.js';
import { UndiciTransport } from '../undici-transport.js';
import { EndpointPool } from './endpoint-pool.js';
import { RawRequest } from './raw-request.js';

export interface RawTransportOptions {
  /** Connections per endpoint pool; requests beyond wait in FIFO order. Default 256, as UndiciTransport. */
  readonly connectionsPerEndpoint?: number;
  /** Idle keep-alive when the cluster sets none; default 4 s (undici's keepAliveTimeout). */
  readonly keepAliveTimeoutMs?: number;
  /** The largest response head (status line and fields); default 64 KiB, as the downstream limit. */
  readonly maxHeadBytes?: number;
  /** Interim 1xx responses skipped before one counts as a flood; default 8. */
  readonly maxInterimResponses?: number;
  /** For h2 and h2c; default a new UndiciTransport. */
  readonly http2?: UpstreamTransport;
}

export class RawTransport implements UpstreamTransport {
  /** By pool key (poolKeyOf), for stats() and retain(). */
  private readonly pools = new Map<string, EndpointPool>();
  /**
   * The same pools by connection key, then endpoint key: what send() reads, so a request builds no
   * pool-key string (both keys live as long as the configuration, and V8 keeps their hashes).
   */
  private readonly byConnection = new Map<string, Map<string, EndpointPool>>();
  /** Pools retain() dropped that still finish their requests. */
  private readonly retiring = new Set<EndpointPool>();
  private readonly http2: UpstreamTransport;
  private readonly connections: number;
  private readonly keepAliveTimeoutMs: number;
  private readonly maxHeadBytes: number;
  private readonly maxInterimResponses: number;

  constructor(options: RawTransportOptions = {}) {
    this.connections = options.connectionsPerEndpoint ?? 256;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 4_000;
    this.maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
    this.maxInterimResponses = options.maxInterimResponses ?? 8;
    this.http2 = options.http2 ?? new UndiciTransport();
  }

  send(endpoint: EndpointState, connection: UpstreamConnection, request: UpstreamRequest, handler: UpstreamHandler): void {
    if (connection.protocol === 'h2' || connection.protocol === 'h2c') return this.http2.send(endpoint, connection, request, handler);
    let pool = this.byConnection.get(connection.key)?.get(endpoint.key);
    if (pool === undefined) {
      pool = this.createPool(endpoint, connection);
      this.pools.set(poolKeyOf(connection, endpoint), pool);
      let byEndpoint = this.byConnection.get(connection.key);
      if (byEndpoint === undefined) {
        byEndpoint = new Map();
        this.byConnection.set(connection.key, byEndpoint);
      }
      byEndpoint.set(endpoint.key, pool);
    }
    pool.send(new RawRequest(request, handler));
  }

  stats(): Record<string, { connected: number; pending: number; running: number }> {
    const out = this.http2.stats();
    for (const [key, pool] of this.pools) out[key] = pool.stats();
    return out;
  }

  retain(poolKeys: ReadonlySet<string>): void {
    this.http2.retain(poolKeys);
    for (const pool of this.retiring) if (pool.empty) this.retiring.delete(pool);
    for (const [key, pool] of this.pools) {
      if (poolKeys.has(key)) continue;
      this.pools.delete(key);
      this.forget(pool);
      pool.close();
      if (!pool.empty) this.retiring.add(pool);
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.destroy();
    for (const pool of this.retiring) pool.destroy();
    this.pools.clear();
    this.byConnection.clear();
    this.retiring.clear();
    await this.http2.close();
  }

  private forget(pool: EndpointPool): void {
    const byEndpoint = this.byConnection.get(pool.connectionKey);
    if (byEndpoint === undefined) return;
    byEndpoint.delete(pool.endpointKey);
    if (byEndpoint.size === 0) this.byConnection.delete(pool.connectionKey);
  }

  private createPool(endpoint: EndpointState, connection: UpstreamConnection): EndpointPool {
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    return new EndpointPool(endpoint, connection, {
      maxConnections: this.connections,
      limits: {
        maxHeadBytes: this.maxHeadBytes,
        maxInterimResponses: this.maxInterimResponses,
        // The cluster's idle timeout (Istio connectionPool.http.idleTimeout) or ours; a server's
        // Keep-Alive hint lowers it per connection.
        idleTimeoutMs: connection.idleTimeoutMs ?? this.keepAliveTimeoutMs,
        maxRequests: connection.maxRequestsPerConnection ?? Infinity,
        defaultHost: `${host}:${endpoint.port}`,
      },
    });
  }
}
