// UpstreamTransport over undici: one keep-alive Pool per endpoint and connection settings (protocol,
// connect timeout, TLS policy). Pools live outside the configuration, so a reload that keeps those
// settings does not drop warm connections; one that changes them gets a new pool.
import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { EndpointState } from './endpoint-state.js';
import { poolKeyOf, type UpstreamConnection, type UpstreamHandler, type UpstreamRequest, type UpstreamTransport } from './transport.js';
import { compileUpstreamTls, tlsConnectOptions, tlsNamesFor } from './upstream-tls.js';

export interface UndiciTransportOptions {
  /** Connections per endpoint pool (HTTP/1.1). */
  readonly connectionsPerEndpoint?: number;
  /** Idle upstream keep-alive; kept below common server defaults (nginx 75 s, node 5 s). */
  readonly keepAliveTimeoutMs?: number;
}

interface PoolEntry {
  readonly pool: Pool;
  /**
   * Given to every dispatch on a TLS pool. undici otherwise derives a server name from each
   * request's Host and reconnects whenever it changes; our connector sends the policy's name
   * whatever this says, so a constant keeps connections reusable across Hosts.
   */
  readonly servername: string | undefined;
}

export class UndiciTransport implements UpstreamTransport {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly connections: number;
  private readonly keepAliveTimeoutMs: number;

  constructor(options: UndiciTransportOptions = {}) {
    this.connections = options.connectionsPerEndpoint ?? 256;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 4_000;
  }

  send(endpoint: EndpointState, connection: UpstreamConnection, request: UpstreamRequest, handler: UpstreamHandler): void {
    const key = poolKeyOf(connection, endpoint);
    let entry = this.pools.get(key);
    if (entry === undefined) {
      entry = this.createPool(endpoint, connection);
      this.pools.set(key, entry);
    }
    const options: Dispatcher.DispatchOptions = {
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.headersTimeoutMs,
      bodyTimeout: request.bodyTimeoutMs,
      ...(entry.servername === undefined ? {} : { servername: entry.servername }),
    };
    // undici calls these legacy-shaped callbacks natively in 7.x (newer-style handlers get wrapped).
    entry.pool.dispatch(options, handler as unknown as Dispatcher.DispatchHandler);
  }

  stats(): Record<string, { connected: number; pending: number; running: number }> {
    const out: Record<string, { connected: number; pending: number; running: number }> = {};
    for (const [key, { pool }] of this.pools) {
      out[key] = { connected: pool.stats.connected, pending: pool.stats.pending, running: pool.stats.running };
    }
    return out;
  }

  retain(poolKeys: ReadonlySet<string>): void {
    for (const [key, { pool }] of this.pools) {
      if (!poolKeys.has(key)) {
        this.pools.delete(key);
        // close() lets queued and running requests finish before the sockets go.
        pool.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy().catch(() => undefined)));
  }

  private createPool(endpoint: EndpointState, connection: UpstreamConnection): PoolEntry {
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    const { protocol, connectTimeoutMs, tls, maxRequestsPerConnection } = connection;
    // The cluster's idle timeout (Istio connectionPool.http.idleTimeout) or the transport's; undici
    // takes the smaller of this and a server's Keep-Alive hint.
    const idleMs = connection.idleTimeoutMs ?? this.keepAliveTimeoutMs;
    const common = {
      connections: this.connections,
      // undici closes (resets) a connection after this many requests.
      ...(maxRequestsPerConnection !== undefined ? { maxRequestsPerClient: maxRequestsPerConnection } : {}),
      keepAliveTimeout: idleMs,
      keepAliveMaxTimeout: idleMs,
      connectTimeout: connectTimeoutMs,
    };
    if (protocol === 'http1') return { pool: new Pool(`http://${host}:${endpoint.port}`, common), servername: undefined };
    if (protocol === 'h2c') {
      // Pool builds its own connector, so h2c prior knowledge goes in through `connect`.
      const connect = { useH2c: true } as unknown as Pool.Options['connect'];
      return { pool: new Pool(`http://${host}:${endpoint.port}`, { ...common, connections: 4, allowH2: true, pipelining: 100, connect }), servername: undefined };
    }
    // https and h2: certificates are verified per the cluster's policy (upstream-tls.ts). One is
    // always compiled for these protocols; should it be missing, the IR's default (verify against
    // node's CAs) is the safe reading.
    const policy = tls ?? compileUpstreamTls(undefined);
    const allowH2 = protocol === 'h2';
    const { name, sni } = tlsNamesFor(policy, endpoint.address);
    const base = buildConnector({ ...tlsConnectOptions(policy, name), allowH2, timeout: connectTimeoutMs });
    // '' sends no SNI for an IP name (undici then derives none from the IP origin either).
    const connect: buildConnector.connector = (options, callback) => base({ ...options, servername: sni ?? '' }, callback);
    const origin = `https://${host}:${endpoint.port}`;
    const pool = allowH2 ? new Pool(origin, { ...common, connections: 4, allowH2: true, pipelining: 100, connect }) : new Pool(origin, { ...common, connect });
    return { pool, servername: name };
  }
}
