// The L4 data plane's public surface: apply(listeners) binds what is new, re-applies what stays
// (same transport, address and port: no rebind, open connections keep going), and unbinds what
// went (its connections drain for the listener's drainTimeoutMs). The composition root builds one
// and hands it the IR's L4 listeners after each translate; nothing else here is exported for it.
import net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { systemRandom, type Random } from '../../core/random.js';
import type { IrL4Listener } from '../../ir/l4.js';
import { EndpointActivity } from './endpoint-activity.js';
import { sniSplit } from './sni-split.js';
import type { L4ConnectionDeps, L4TlsCertificate } from './l4-connection.js';
import { TcpProxy } from './tcp-proxy.js';
import { UdpProxy } from './udp-proxy.js';

export interface L4ServerDeps {
  readonly clock?: Clock;
  readonly random?: Random;
  /** Deadline for a PROXY header, a ClientHello or a terminated handshake; default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** `terminate` listeners: the certificate (PEM) their IR `certificate` reference names. */
  readonly resolveCertificate?: (reference: string) => L4TlsCertificate | undefined;
}

export interface ApplyResult {
  /** Listener names now bound for the first time. */
  readonly bound: readonly string[];
  /** Listener names whose bind was kept and whose routes and endpoints were swapped. */
  readonly updated: readonly string[];
  /** Listener names unbound (their connections drain). */
  readonly removed: readonly string[];
  /** Binds that failed (address in use, address not on this host): the listener is not served. */
  readonly failed: readonly { readonly listener: string; readonly message: string }[];
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

type Proxy = TcpProxy | UdpProxy;

export class L4Server {
  private readonly proxies = new Map<string, Proxy>();
  private readonly deps: L4ConnectionDeps;
  /** Active connections per endpoint, shared by every listener and kept across applies. */
  readonly activity = new EndpointActivity();

  constructor(deps: L4ServerDeps = {}) {
    this.deps = {
      activity: this.activity,
      clock: deps.clock ?? systemClock,
      random: deps.random ?? systemRandom,
      handshakeTimeoutMs: deps.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      resolveCertificate: deps.resolveCertificate ?? (() => undefined),
    };
  }

  async apply(listeners: readonly IrL4Listener[]): Promise<ApplyResult> {
    const bound: string[] = [];
    const updated: string[] = [];
    const removed: string[] = [];
    const failed: { listener: string; message: string }[] = [];
    const wanted = new Map<string, IrL4Listener>();
    for (const l of listeners) {
      const key = bindKey(l);
      // The translators report overlapping listeners (ERR_L4_LISTENER_CONFLICT); a hand-written
      // IR that still has two gets the first.
      if (wanted.has(key)) failed.push({ listener: l.name, message: `${key} is already taken by ${wanted.get(key)!.name}` });
      else wanted.set(key, l);
    }
    const closing: Promise<void>[] = [];
    for (const [key, proxy] of this.proxies) {
      if (wanted.has(key)) continue;
      this.proxies.delete(key);
      removed.push(proxy.listener.name);
      closing.push(proxy.close(proxy.listener.drainTimeoutMs));
    }
    for (const [key, ir] of wanted) {
      const existing = this.proxies.get(key);
      // A terminate listener whose certificate is not (yet) known cannot finish a handshake: it is
      // left unbound (or unbound, if it was) until an apply where the reference resolves.
      if (ir.tls?.mode === 'terminate' && this.deps.resolveCertificate(ir.tls.certificate) === undefined) {
        failed.push({ listener: ir.name, message: `the certificate "${ir.tls.certificate}" is not known: not served` });
        if (existing !== undefined) {
          this.proxies.delete(key);
          closing.push(existing.close(existing.listener.drainTimeoutMs));
        }
        continue;
      }
      if (existing !== undefined) {
        existing.apply(ir);
        updated.push(ir.name);
        continue;
      }
      const proxy = ir.protocol === 'UDP' ? new UdpProxy(ir, this.deps) : new TcpProxy(ir, this.deps);
      try {
        await proxy.listen();
        this.proxies.set(key, proxy);
        bound.push(ir.name);
      } catch (err) {
        failed.push({ listener: ir.name, message: `cannot bind ${key}: ${(err as Error).message}` });
      }
    }
    // Draining listeners finish in the background; apply does not wait for their grace.
    void Promise.all(closing);
    return { bound, updated, removed, failed };
  }

  /** The port a listener is bound to (the OS's choice when the IR says 0), by listener name. */
  portOf(name: string): number | undefined {
    for (const p of this.proxies.values()) if (p.listener.name === name) return p.port;
    return undefined;
  }

  /**
   * The TLS listener that shares an HTTPS bind (by the bind's name), as the divert that bind's
   * Listener runs on each connection; undefined when none shares it.
   */
  divertFor(bindName: string, httpsHostnames: readonly string[]): ReturnType<typeof sniSplit> | undefined {
    const proxy = this.proxies.get(sharedKey(bindName));
    if (!(proxy instanceof TcpProxy)) return undefined;
    return sniSplit({
      httpsHostnames,
      l4Routes: proxy.listener.routes,
      adopt: (socket, head) => proxy.adopt(socket, head),
      timeoutMs: this.deps.handshakeTimeoutMs,
    });
  }

  /** Open connections (TCP, TLS) or flows (UDP) of a listener, by name. */
  openConnectionsOf(name: string): number | undefined {
    for (const p of this.proxies.values()) if (p.listener.name === name) return p.openConnections;
    return undefined;
  }

  /** Unbinds everything and closes every connection now. */
  async close(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.close(0)));
  }
}

function sharedKey(bindName: string): string {
  return `shared-with-https://${bindName}`;
}

function bindKey(l: IrL4Listener): string {
  if (l.sharesBind !== undefined) return sharedKey(l.sharesBind);
  const host = net.isIPv6(l.address) ? `[${l.address}]` : l.address;
  // Port 0 (the OS picks one: tests, ephemeral listeners) is never shared, so the name tells them apart.
  return `${l.protocol === 'UDP' ? 'udp' : 'tcp'}://${host}:${l.port}${l.port === 0 ? `#${l.name}` : ''}`;
}
