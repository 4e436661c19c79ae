// A bound TCP or TLS L4 listener: a net.Server whose connections are L4Connections over the
// compiled listener current at the time. apply() swaps the compiled listener in one assignment
// and starts draining connections to endpoints that are gone. A TLS listener that shares an HTTPS
// bind (`sharesBind`) has no socket of its own: the bind hands it connections through adopt().
import net from 'node:net';
import type { IrL4Listener } from '../../ir/l4.js';
import { compileL4Listener, type CompiledL4Listener } from './compiled-listener.js';
import { drainAll, drainRemovedEndpoints } from './drain.js';
import { L4Connection, type L4ConnectionDeps } from './l4-connection.js';

const EMPTY = Buffer.alloc(0);

export class TcpProxy {
  private compiled: CompiledL4Listener;
  private readonly server: net.Server | undefined;
  private readonly connections = new Set<L4Connection>();

  constructor(
    ir: IrL4Listener,
    private readonly deps: L4ConnectionDeps,
  ) {
    this.compiled = compileL4Listener(ir, deps.activity);
    // allowHalfOpen: a client's FIN must not end our side; splice passes it on to the upstream.
    this.server = ir.sharesBind !== undefined ? undefined : net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket, EMPTY));
  }

  get listener(): IrL4Listener {
    return this.compiled.ir;
  }

  /** The bound port (the listener's own, or the one the OS chose for port 0). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.compiled.ir.address, port: this.compiled.ir.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * A connection another listener accepted and read `head` from (the HTTPS bind that read its
   * ClientHello); the socket is paused with nothing else read.
   */
  adopt(socket: net.Socket, head: Buffer): void {
    // The bind's server did not open it half-open; a client's FIN must still only end one way.
    socket.allowHalfOpen = true;
    this.accept(socket, head);
  }

  apply(ir: IrL4Listener): void {
    this.compiled = compileL4Listener(ir, this.deps.activity);
    drainRemovedEndpoints(this.connections, this.compiled.endpointKeys, ir.drainTimeoutMs);
  }

  /** Stops accepting; open connections get `graceMs` (0: closed now), then close as drained. */
  close(graceMs = 0): Promise<void> {
    drainAll(this.connections, graceMs);
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket, head: Buffer): void {
    const connection = new L4Connection(socket, () => this.compiled, this.deps, (c) => this.connections.delete(c), head);
    this.connections.add(connection);
    // run() ends every path with a close reason; a bug that throws still closes this connection only.
    connection.run().catch(() => connection.close('client_closed'));
  }
}
