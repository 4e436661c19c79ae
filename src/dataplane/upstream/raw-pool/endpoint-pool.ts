// The connections to one endpoint under one set of connection settings (one pool key). Requests
// take the most recently used idle connection (the warmest, and the one least likely to have hit
// the server's idle timeout), else a new one up to the per-endpoint cap, else wait in FIFO order.
import type { EndpointState } from '../endpoint-state.js';
import type { UpstreamConnection } from '../transport.js';
import { connectSocket, type TlsSessionSlot } from './connect-socket.js';
import { PooledConnection, type ConnectionLimits, type ConnectionOwner } from './pooled-connection.js';
import type { RawRequest } from './raw-request.js';
import { upstreamError } from './upstream-error.js';

export interface EndpointPoolOptions {
  readonly maxConnections: number;
  readonly limits: ConnectionLimits;
}

export class EndpointPool implements ConnectionOwner {
  private readonly idle: PooledConnection[] = [];
  private readonly open = new Set<PooledConnection>();
  private connecting = 0;
  private readonly queue: RawRequest[] = [];
  /** retain() dropped this pool: finish what is running and queued, then close. */
  private closing = false;
  private readonly tlsSession: TlsSessionSlot = { session: undefined };

  constructor(
    private readonly endpoint: EndpointState,
    private readonly connection: UpstreamConnection,
    private readonly options: EndpointPoolOptions,
  ) {}

  get connectionKey(): string {
    return this.connection.key;
  }

  get endpointKey(): string {
    return this.endpoint.key;
  }

  send(req: RawRequest): void {
    // An idle connection may be on its way out (its idle timer fired, the server closed it) before
    // its 'close' event removed it from the list.
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
      if (conn.isOpen) return conn.run(req);
    }
    if (this.open.size + this.connecting < this.options.maxConnections) return this.connect(req);
    this.queue.push(req);
  }

  stats(): { connected: number; pending: number; running: number } {
    return { connected: this.open.size, pending: this.queue.length, running: this.open.size - this.idle.length };
  }

  /** True once nothing runs, waits or stays open. */
  get empty(): boolean {
    return this.open.size === 0 && this.connecting === 0 && this.queue.length === 0;
  }

  /** Stop keeping connections: idle ones close now, busy ones after their response and the queue. */
  close(): void {
    this.closing = true;
    for (const conn of this.idle.splice(0)) conn.destroy();
  }

  /** Close everything now; queued requests fail. */
  destroy(): void {
    this.closing = true;
    for (const req of this.queue.splice(0)) req.fail(upstreamError('UND_ERR_DESTROYED', 'upstream pool closed'));
    for (const conn of this.open) conn.destroy();
    this.idle.length = 0;
  }

  released(conn: PooledConnection, reusable: boolean): void {
    if (!reusable || !conn.isOpen) {
      conn.destroy();
      return;
    }
    const next = this.nextQueued();
    if (next !== undefined) return conn.run(next);
    if (this.closing) return conn.destroy();
    conn.park();
    this.idle.push(conn);
  }

  closed(conn: PooledConnection): void {
    this.open.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    // A slot freed up: the next waiting request gets a new connection.
    if (this.queue.length > 0 && this.open.size + this.connecting < this.options.maxConnections) {
      const next = this.nextQueued();
      if (next !== undefined) this.connect(next);
    }
  }

  retryFresh(req: RawRequest): void {
    // Past the cap for a moment at most: the connection that failed is on its way out.
    this.connect(req);
  }

  private nextQueued(): RawRequest | undefined {
    while (this.queue.length > 0) {
      const req = this.queue.shift()!;
      if (!req.done) return req;
    }
    return undefined;
  }

  /** A new connection, made for `req`; should it fail, `req` hears the error (no other request does). */
  private connect(req: RawRequest): void {
    this.connecting++;
    connectSocket(this.endpoint, this.connection, this.tlsSession, (err, socket) => {
      this.connecting--;
      if (err !== null) {
        req.fail(err);
        // A waiting request still deserves its own attempt (the endpoint may be back).
        if (this.queue.length > 0 && this.open.size + this.connecting < this.options.maxConnections) {
          const next = this.nextQueued();
          if (next !== undefined) this.connect(next);
        }
        return;
      }
      const conn = new PooledConnection(socket!, this, this.options.limits);
      this.open.add(conn);
      if (this.closing && this.queue.length === 0 && req.done) return conn.destroy();
      if (req.done) return this.released(conn, true);
      conn.run(req);
    });
  }
}
