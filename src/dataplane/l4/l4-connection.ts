// One proxied TCP or TLS connection, through named phases (DESIGN: accept → handshake → route →
// pick endpoint → forward → log): readProxyHeader → readClientHello | terminateTls → selectRoute →
// connectUpstream (retrying endpoints not yet tried) → writeProxyHeader → splice → publish.
// Every phase ends the connection with a close reason instead of throwing.
import net from 'node:net';
import tls from 'node:tls';
import { channels, type L4CloseReason } from '../../core/channels.js';
import type { Clock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import { replaySocket } from '../listen/replay-socket.js';
import { parseClientHello } from './client-hello.js';
import { pickL4Endpoint, selectL4Route, type CompiledL4Listener, type L4Pick } from './compiled-listener.js';
import type { EndpointActivity } from './endpoint-activity.js';
import { encodeProxyHeader, parseProxyHeader, type ProxyAddress } from './proxy-protocol.js';
import { readPrefix } from './prefix-reader.js';
import { splice } from './splice.js';
import { UpstreamReads } from './upstream-reads.js';

export interface L4TlsCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface L4ConnectionDeps {
  readonly activity: EndpointActivity;
  readonly random: Random;
  readonly clock: Clock;
  /** How long a client may take to send its PROXY header or ClientHello (or finish a handshake). */
  readonly handshakeTimeoutMs: number;
  /** `terminate` listeners: the certificate the IR's reference names; undefined refuses the connection. */
  readonly resolveCertificate: (reference: string) => L4TlsCertificate | undefined;
}

export class L4Connection {
  /** The endpoint this connection is proxied to, once connected (draining looks at it). */
  endpointKey: string | undefined;
  drainTimer: NodeJS.Timeout | undefined;
  private upstream: net.Socket | undefined;
  private upstreamReads: UpstreamReads | undefined;
  private stream: net.Socket;
  private readonly startTime: number;
  private readonly startMono: number;
  private readonly counters = { bytesIn: 0, bytesOut: 0 };
  private client: ProxyAddress;
  private destination: ProxyAddress;
  private route: string | undefined;
  private backend: string | undefined;
  private serverName: string | undefined;
  private ended = false;
  private reason: L4CloseReason | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly current: () => CompiledL4Listener,
    private readonly deps: L4ConnectionDeps,
    private readonly onEnd: (c: L4Connection) => void,
    /** Bytes a front already read (an HTTPS bind that read the ClientHello to split by SNI). */
    private readonly initial: Buffer = Buffer.alloc(0),
  ) {
    this.stream = socket;
    this.startTime = deps.clock.now();
    this.startMono = deps.clock.monotonicMs();
    this.client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.destination = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    socket.on('error', () => this.close('client_closed'));
  }

  /** Ends it now with `reason` (draining, shutdown); a no-op once ended. */
  close(reason: L4CloseReason): void {
    if (this.ended) return;
    this.reason ??= reason;
    this.finish();
  }

  async run(): Promise<void> {
    const listener = this.current();
    this.socket.setNoDelay(true);
    let head: Buffer = this.initial;
    this.counters.bytesIn += head.length;
    // Untrusted peers never have a header parsed: their bytes are their protocol's. Nor does a
    // connection a front has read from: it read a ClientHello, so no PROXY header came first.
    if (head.length === 0 && listener.trusted?.contains(this.socket.remoteAddress ?? '')) {
      const read = await readPrefix(this.socket, head, parseProxyHeader, this.deps.handshakeTimeoutMs);
      this.counters.bytesIn += read.bytes.length;
      if (read.kind !== 'ok') return this.close(read.why === 'closed' ? 'client_closed' : 'proxy_protocol_error');
      if (read.value.source !== undefined) this.client = read.value.source;
      if (read.value.destination !== undefined) this.destination = read.value.destination;
      head = read.bytes.subarray(read.value.consumed);
    }
    if (this.ended) return;
    const tlsMode = listener.ir.protocol === 'TLS' ? (listener.ir.tls?.mode ?? 'passthrough') : undefined;
    if (tlsMode === 'passthrough') {
      const read = await readPrefix(this.socket, head, parseClientHello, this.deps.handshakeTimeoutMs);
      this.counters.bytesIn += read.bytes.length - head.length;
      if (read.kind !== 'ok') return this.close(read.why === 'closed' ? 'client_closed' : 'tls_error');
      this.serverName = read.value.serverName;
      head = read.bytes;
    } else if (tlsMode === 'terminate') {
      if (!(await this.terminateTls(listener, head))) return;
      head = Buffer.alloc(0);
    }
    if (this.ended) return;
    // Bytes the paused socket buffered after the prefix go first. Not when TLS was terminated:
    // the raw socket's bytes are ciphertext and belong to the TLS layer.
    if (tlsMode !== 'terminate') {
      const buffered = drainBuffered(this.socket);
      for (const chunk of buffered) this.counters.bytesIn += chunk.length;
      head = Buffer.concat([head, ...buffered]);
    }

    const now = this.current();
    const route = selectL4Route(now, this.serverName);
    if (route === undefined) return this.close('no_route');
    this.route = route.ir.name;
    const pick = await this.connectUpstream(now, route);
    if (pick === undefined) return this.close(this.ended ? (this.reason ?? 'client_closed') : 'connect_failed');
    const upstream = this.upstream!;
    if (pick.backend.ir.proxyProtocol !== undefined) upstream.write(encodeProxyHeader(pick.backend.ir.proxyProtocol, this.client, this.destination));
    if (head.length > 0) upstream.write(head);
    // net.Socket timeouts count reads and writes, so the client side alone sees every byte.
    this.stream.setTimeout(now.ir.idleTimeoutMs, () => this.close('idle_timeout'));
    const end = await splice(this.stream, upstream, this.counters, this.upstreamReads);
    this.close(end);
  }

  private async terminateTls(listener: CompiledL4Listener, head: Buffer): Promise<boolean> {
    const tlsConfig = listener.ir.tls;
    const cert = tlsConfig?.mode === 'terminate' ? this.deps.resolveCertificate(tlsConfig.certificate) : undefined;
    if (cert === undefined) {
      this.close('tls_error');
      return false;
    }
    const buffered = Buffer.concat([head, ...drainBuffered(this.socket)]);
    // Bytes already read out of the socket must reach the TLS engine first; tls reads a plain
    // net.Socket's native handle directly, so those go through a replaying duplex.
    const transport = buffered.length > 0 ? replaySocket(this.socket, buffered) : this.socket;
    const secure = new tls.TLSSocket(transport as net.Socket, { isServer: true, secureContext: secureContextFor(cert) });
    this.stream = secure;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.deps.handshakeTimeoutMs);
      secure.once('secure', () => {
        clearTimeout(timer);
        resolve(true);
      });
      secure.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      secure.once('close', () => resolve(false));
    });
    secure.on('error', () => this.close('client_closed'));
    if (!ok) this.close('tls_error');
    else this.serverName = typeof secure.servername === 'string' ? secure.servername : undefined;
    return ok;
  }

  /** Tries endpoints until one accepts, each within connectTimeoutMs; undefined when none did. */
  private async connectUpstream(listener: CompiledL4Listener, route: NonNullable<ReturnType<typeof selectL4Route>>): Promise<L4Pick | undefined> {
    const tried = new Set<string>();
    const ctx = { clientAddress: this.client.address, destinationAddress: this.destination.address };
    for (;;) {
      if (this.ended) return undefined;
      const pick = pickL4Endpoint(route, ctx, tried, this.deps.random);
      if (pick === undefined) return undefined;
      tried.add(pick.slot.key);
      this.backend = pick.backend.ir.name;
      this.endpointKey = pick.slot.key;
      // Counted from the attempt, so concurrent picks of lc/wlc/sed/nq see it at once.
      this.deps.activity.open(pick.slot.key);
      const reads = new UpstreamReads();
      const socket = await connectWithin(pick.slot.endpoint.address, pick.slot.endpoint.port, listener.ir.connectTimeoutMs, reads);
      if (socket !== undefined && !this.ended) {
        this.upstream = socket;
        this.upstreamReads = reads;
        return pick;
      }
      socket?.destroy();
      this.deps.activity.close(pick.slot.key);
    }
  }

  private finish(): void {
    this.ended = true;
    clearTimeout(this.drainTimer);
    this.stream.destroy();
    this.socket.destroy();
    if (this.upstream !== undefined) {
      this.upstream.destroy();
      if (this.endpointKey !== undefined) this.deps.activity.close(this.endpointKey);
    }
    this.onEnd(this);
    if (!channels.l4ConnectionEnd.hasSubscribers) return;
    const listener = this.current().ir;
    channels.l4ConnectionEnd.publish({
      listener: listener.name,
      protocol: listener.protocol,
      route: this.route,
      backend: this.backend,
      endpoint: this.endpointKey,
      clientAddress: this.client.address,
      clientPort: this.client.port,
      serverName: this.serverName,
      startTime: this.startTime,
      durationMs: this.deps.clock.monotonicMs() - this.startMono,
      bytesIn: this.counters.bytesIn,
      bytesOut: this.counters.bytesOut,
      reason: this.reason ?? 'client_closed',
    });
  }
}

/**
 * One secure context per certificate object the resolver hands out, not one per connection
 * (parsing the PEM and key every handshake costs more than the handshake's own work).
 */
const secureContexts = new WeakMap<L4TlsCertificate, tls.SecureContext>();

function secureContextFor(cert: L4TlsCertificate): tls.SecureContext {
  let context = secureContexts.get(cert);
  if (context === undefined) {
    context = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem });
    secureContexts.set(cert, context);
  }
  return context;
}

function drainBuffered(socket: net.Socket): Buffer[] {
  const out: Buffer[] = [];
  for (let chunk: Buffer | null = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) out.push(chunk);
  return out;
}

/** A connected socket, or undefined on refusal, unreachability or timeout. */
function connectWithin(host: string, port: number, timeoutMs: number, reads: UpstreamReads): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true, onread: reads.onread });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // Errors after connect end the splice through its own listeners; never an uncaught one.
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
