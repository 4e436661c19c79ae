// The lean HTTP/1.1 front end of one listener (`--http1-frontend lean`): takes plain sockets the
// listener accepted, keeps their connections, and sweeps their deadlines on one interval, as
// node's server does with connectionsCheckingInterval (so a request pays for no timer of its own).
import type { Socket } from 'node:net';
import { LeanConnection, type LeanConnectionDeps } from './lean-connection.js';

export type Http1Frontend = 'node' | 'lean';

export interface LeanFrontendOptions extends Omit<LeanConnectionDeps, 'onClosed'> {
  /** How often deadlines are checked: the slack on every timeout. */
  readonly checkIntervalMs: number;
}

export class LeanFrontend {
  private readonly connections = new Set<LeanConnection>();
  private sweep: NodeJS.Timeout | undefined;
  private readonly deps: LeanConnectionDeps;

  constructor(private readonly options: LeanFrontendOptions) {
    this.deps = { ...options, onClosed: (c) => this.connections.delete(c) };
  }

  /** A new connection; `head` is what the listener already read from it (its first bytes). */
  accept(socket: Socket, head: Buffer): void {
    const connection = new LeanConnection(socket, this.deps);
    this.connections.add(connection);
    this.sweep ??= setInterval(() => this.checkDeadlines(), this.options.checkIntervalMs).unref();
    if (head.length > 0) socket.emit('data', head);
  }

  /** Closes idle keep-alive connections (draining); busy ones close after their response. */
  closeIdle(): void {
    for (const c of this.connections) c.closeIfIdle();
  }

  close(): void {
    this.closeIdle();
    if (this.sweep !== undefined) clearInterval(this.sweep);
    this.sweep = undefined;
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const c of this.connections) c.checkDeadlines(now);
  }
}
