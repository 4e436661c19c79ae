// A bound UDP L4 listener. UDP has no connections, so a flow stands for one: the client's
// address:port maps to a connected upstream socket to one endpoint picked by the scheduler, and
// replies coming back on it are sent to that client from the listener's socket (so the client
// sees answers from the address it sent to). A flow is forgotten after idleTimeoutMs without a
// datagram either way, as kube-proxy's userspace UDP proxy and ipvs's UDP timeout do.
import dgram from 'node:dgram';
import net from 'node:net';
import { channels, type L4CloseReason } from '../../core/channels.js';
import type { IrL4Listener } from '../../ir/l4.js';
import { compileL4Listener, pickL4Endpoint, selectL4Route, type CompiledL4Listener } from './compiled-listener.js';
import { drainAll, drainRemovedEndpoints } from './drain.js';
import type { L4ConnectionDeps } from './l4-connection.js';

/** Datagrams a new flow holds while its upstream socket connects; more are dropped (UDP may drop). */
const MAX_PENDING_DATAGRAMS = 64;
/**
 * Each flow holds a socket (a file descriptor), and UDP sources are trivially spoofed: past this
 * many flows on one listener, datagrams from new clients are dropped rather than exhausting the
 * process's descriptors; existing flows go on.
 */
export const MAX_UDP_FLOWS_PER_LISTENER = 4096;

class UdpFlow {
  endpointKey: string | undefined;
  drainTimer: NodeJS.Timeout | undefined;
  bytesIn = 0;
  bytesOut = 0;
  replied = false;
  route: string | undefined;
  backend: string | undefined;
  readonly pending: Buffer[] = [];
  upstream: dgram.Socket | undefined;
  connected = false;
  idleTimer: NodeJS.Timeout | undefined;
  private ended = false;
  readonly startTime: number;
  readonly startMono: number;

  constructor(
    readonly clientAddress: string,
    readonly clientPort: number,
    private readonly owner: UdpProxy,
    private readonly deps: L4ConnectionDeps,
  ) {
    this.startTime = deps.clock.now();
    this.startMono = deps.clock.monotonicMs();
  }

  close(reason: L4CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.drainTimer);
    this.upstream?.close();
    if (this.endpointKey !== undefined && this.upstream !== undefined) this.deps.activity.close(this.endpointKey);
    this.owner.forget(this);
    if (!channels.l4ConnectionEnd.hasSubscribers) return;
    channels.l4ConnectionEnd.publish({
      listener: this.owner.listener.name,
      protocol: 'UDP',
      route: this.route,
      backend: this.backend,
      endpoint: this.endpointKey,
      clientAddress: this.clientAddress,
      clientPort: this.clientPort,
      startTime: this.startTime,
      durationMs: this.deps.clock.monotonicMs() - this.startMono,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      reason,
    });
  }
}

export class UdpProxy {
  private compiled: CompiledL4Listener;
  private readonly socket: dgram.Socket;
  private readonly flows = new Map<string, UdpFlow>();

  constructor(
    ir: IrL4Listener,
    private readonly deps: L4ConnectionDeps,
  ) {
    this.compiled = compileL4Listener(ir, deps.activity);
    this.socket = dgram.createSocket({ type: net.isIPv6(ir.address) ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // A send error to one client (ICMP unreachable reported late) must not stop the listener.
    this.socket.on('error', () => {});
  }

  get listener(): IrL4Listener {
    return this.compiled.ir;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get openConnections(): number {
    return this.flows.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.compiled.ir.address, port: this.compiled.ir.port }, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
  }

  apply(ir: IrL4Listener): void {
    this.compiled = compileL4Listener(ir, this.deps.activity);
    drainRemovedEndpoints(this.flows.values(), this.compiled.endpointKeys, ir.drainTimeoutMs);
  }

  async close(graceMs = 0): Promise<void> {
    drainAll([...this.flows.values()], graceMs);
    if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
    drainAll([...this.flows.values()], 0);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  forget(flow: UdpFlow): void {
    const key = `${flow.clientAddress}|${flow.clientPort}`;
    if (this.flows.get(key) === flow) this.flows.delete(key);
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.flows.size >= MAX_UDP_FLOWS_PER_LISTENER) return;
      flow = this.open(rinfo);
      if (flow === undefined) return;
    }
    flow.bytesIn += msg.length;
    flow.idleTimer?.refresh();
    if (flow.connected) flow.upstream!.send(msg);
    else if (flow.pending.length < MAX_PENDING_DATAGRAMS) flow.pending.push(msg);
  }

  private open(rinfo: dgram.RemoteInfo): UdpFlow | undefined {
    const listener = this.compiled;
    const flow = new UdpFlow(rinfo.address, rinfo.port, this, this.deps);
    const route = selectL4Route(listener, undefined);
    const pick = route && pickL4Endpoint(route, { clientAddress: rinfo.address, destinationAddress: listener.ir.address }, new Set(), this.deps.random);
    if (route === undefined || pick === undefined) {
      // Nothing to send it to: the datagram is dropped; the log still says so, once per datagram.
      flow.route = route?.ir.name;
      flow.close('no_route');
      return undefined;
    }
    this.flows.set(`${rinfo.address}|${rinfo.port}`, flow);
    flow.route = route.ir.name;
    flow.backend = pick.backend.ir.name;
    flow.endpointKey = pick.slot.key;
    this.deps.activity.open(pick.slot.key);
    const { address, port } = pick.slot.endpoint;
    const upstream = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    flow.upstream = upstream;
    // A connected UDP socket hears ICMP port unreachable as ECONNREFUSED: the endpoint is not there.
    upstream.on('error', () => flow.close(flow.replied ? 'upstream_closed' : 'connect_failed'));
    upstream.on('message', (reply) => {
      flow.replied = true;
      flow.bytesOut += reply.length;
      flow.idleTimer?.refresh();
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    upstream.connect(port, address, () => {
      flow.connected = true;
      for (const m of flow.pending.splice(0)) upstream.send(m);
    });
    flow.idleTimer = setTimeout(() => flow.close('idle_timeout'), listener.ir.idleTimeoutMs);
    return flow;
  }
}
