// A bound TCP or TLS L4 listener: a net.Server whose connections are L4Connections over the
// compiled listener current at the time. apply() swaps the compiled listener in one assignment
// and starts draining connections to endpoints that are gone.
import net from 'node:net';
import type { IrL4Listener } from '../../ir/l4.js';
import { compileL4Listener, type CompiledL4Listener } from './compiled-listener.js';
import { drainAll, drainRemovedEndpoints } from './drain.js';
import { L4Connection, type L4ConnectionDeps } from './l4-connection.js';

export class TcpProxy {
  private compiled: CompiledL4Listener;
  private readonly server: net.Server;
  private readonly connections = new Set<L4Connection>();

  constructor(
    ir: IrL4Listener,
    private readonly deps: L4ConnectionDeps,
  ) {
    this.compiled = compileL4Listener(ir, deps.activity);
    // allowHalfOpen: a client's FIN must not end our side; splice passes it on to the upstream.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  get listener(): IrL4Listener {
    return this.compiled.ir;
  }

  /** The bound port (the listener's own, or the one the OS chose for port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.compiled.ir.address, port: this.compiled.ir.port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  apply(ir: IrL4Listener): void {
    this.compiled = compileL4Listener(ir, this.deps.activity);
    drainRemovedEndpoints(this.connections, this.compiled.endpointKeys, ir.drainTimeoutMs);
  }

  /** Stops accepting; open connections get `graceMs` (0: closed now), then close as drained. */
  close(graceMs = 0): Promise<void> {
    drainAll(this.connections, graceMs);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = new L4Connection(socket, () => this.compiled, this.deps, (c) => this.connections.delete(c));
    this.connections.add(connection);
    // run() ends every path with a close reason; a bug that throws still closes this connection only.
    connection.run().catch(() => connection.close('client_closed'));
  }
}
