// UpstreamTransport over undici: one keep-alive Pool per endpoint and protocol. Pools live outside
// the configuration, so a reload does not drop warm connections.
import { Pool, type Dispatcher } from 'undici';
import type { EndpointState } from './endpoint-state.js';
import type { UpstreamHandler, UpstreamProtocol, UpstreamRequest, UpstreamTransport } from './transport.js';

export interface UndiciTransportOptions {
  /** Connections per endpoint pool (HTTP/1.1). */
  readonly connectionsPerEndpoint?: number;
  /** Idle upstream keep-alive; kept below common server defaults (nginx 75 s, node 5 s). */
  readonly keepAliveTimeoutMs?: number;
}

export class UndiciTransport implements UpstreamTransport {
  private readonly pools = new Map<string, Pool>();
  private readonly connections: number;
  private readonly keepAliveTimeoutMs: number;

  constructor(options: UndiciTransportOptions = {}) {
    this.connections = options.connectionsPerEndpoint ?? 256;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 4_000;
  }

  send(endpoint: EndpointState, protocol: UpstreamProtocol, connectTimeoutMs: number, request: UpstreamRequest, handler: UpstreamHandler): void {
    const key = protocol === 'http1' ? endpoint.key : `${protocol}|${endpoint.key}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = this.createPool(endpoint, protocol, connectTimeoutMs);
      this.pools.set(key, pool);
    }
    const options: Dispatcher.DispatchOptions = {
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.headersTimeoutMs,
      bodyTimeout: request.bodyTimeoutMs,
    };
    // undici calls these legacy-shaped callbacks natively in 7.x (newer-style handlers get wrapped).
    pool.dispatch(options, handler as unknown as Dispatcher.DispatchHandler);
  }

  stats(): Record<string, { connected: number; pending: number; running: number }> {
    const out: Record<string, { connected: number; pending: number; running: number }> = {};
    for (const [key, pool] of this.pools) {
      out[key] = { connected: pool.stats.connected, pending: pool.stats.pending, running: pool.stats.running };
    }
    return out;
  }

  retain(keys: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      const endpointKey = key.includes('|') ? key.slice(key.indexOf('|') + 1) : key;
      if (!keys.has(endpointKey)) {
        this.pools.delete(key);
        // close() lets queued and running requests finish before the sockets go.
        pool.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  private createPool(endpoint: EndpointState, protocol: UpstreamProtocol, connectTimeoutMs: number): Pool {
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    const scheme = protocol === 'https' || protocol === 'h2' ? 'https' : 'http';
    const origin = `${scheme}://${host}:${endpoint.port}`;
    const common = {
      connections: this.connections,
      keepAliveTimeout: this.keepAliveTimeoutMs,
      keepAliveMaxTimeout: this.keepAliveTimeoutMs,
      connectTimeout: connectTimeoutMs,
      // Upstream certificates are cluster-internal; verification is a later DestinationRule feature.
      connect: scheme === 'https' ? { rejectUnauthorized: false } : undefined,
    };
    if (protocol === 'h2c') {
      // Pool builds its own connector, so h2c prior knowledge goes in through `connect`.
      const connect = { useH2c: true } as unknown as Pool.Options['connect'];
      return new Pool(origin, { ...common, connections: 4, allowH2: true, pipelining: 100, connect });
    }
    if (protocol === 'h2') {
      return new Pool(origin, { ...common, connections: 4, allowH2: true, pipelining: 100 });
    }
    return new Pool(origin, common);
  }
}
