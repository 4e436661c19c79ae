// The data plane: owns listeners, the upstream transport and endpoint state; `apply` compiles a new
// IR and swaps it in atomically. Requests already running keep the runtime they started with; open
// connections (WebSocket tunnels, long streams) are untouched unless their port disappears.
import type { IrCertificate, IrSnapshot } from '../ir/types.js';
import { L4Server } from './l4/l4-server.js';
import { httpsHostnamesOf } from './l4/sni-split.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { systemTimers, type Timers } from '../core/timers.js';
import { compileRuntime, type CompiledBind, type RuntimeConfig } from './compile.js';
import { localFilterDeps, type FilterDeps } from './filters/filter-deps.js';
import { EndpointRegistry } from './upstream/endpoint-registry.js';
import { ActiveHealthChecker } from './upstream/health/active-health.js';
import { poolKeyOf, type UpstreamTransport } from './upstream/transport.js';
import { describeTls } from './upstream/upstream-tls.js';
import { Router } from './http/router.js';
import type { RequestDeps } from './http/request-handler.js';
import { Listener, type ListenerLimits } from './listen/listener.js';
import { SecureContextCache, SniTable } from './listen/sni-table.js';
import { ClientConnectionLimit } from './listen/client-connection-limit.js';
import type { RouteDefaults } from './http/compiled-route.js';
import { isTrustedBy } from './trusted-proxies.js';

export interface DataPlaneOptions {
  // No listen address or port map here: the IR's binds are already real addresses and ports
  // (src/translate/binds/), so the data plane binds exactly what the IR says.
  readonly trustedProxies: readonly string[];
  readonly transport: UpstreamTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly limits?: Partial<DataPlaneLimits>;
  readonly routeDefaults?: Partial<RouteDefaults>;
  /** Per-try deadlines and retry backoffs; the real timers unless a test fires them. */
  readonly timers?: Timers;
  /** API-management state kept across reloads (JWKS caches, rate-limit counters, Redis); default in-process. */
  readonly filters?: FilterDeps;
}

export interface ApplyResult {
  readonly outcome: 'applied' | 'rejected';
  readonly diagnostics: readonly Diagnostic[];
  /** Rejected because this bind could not listen: what the CLI needs to name the port and its flag. */
  readonly failedBind?: FailedBind;
}

export interface FailedBind {
  /** The IR bind's name (`0.0.0.0:8080`, `127.0.0.1:0/80`). */
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly address: string;
  readonly port: number;
  /** The OS's error code (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`), when it gave one. */
  readonly errorCode?: string;
  /** The error's own words (`listen EADDRINUSE: address already in use 0.0.0.0:8080`). */
  readonly reason: string;
}

export interface DataPlaneLimits extends ListenerLimits {
  readonly maxUriBytes: number;
  /** Open connections one client address may hold across all listeners; 0 = no cap. */
  readonly maxConnectionsPerClient: number;
  /** How long a response may wait for the client to accept any of its bytes (nginx's send_timeout). */
  readonly sendTimeoutMs: number;
}

/** docs/security.md lists these and why each has its value. */
export const DEFAULT_LIMITS: DataPlaneLimits = {
  maxHeaderBytes: 32 * 1024,
  maxUriBytes: 8 * 1024,
  firstByteTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 60_000,
  maxConnectionsPerClient: 1024,
  maxConcurrentStreams: 100,
  sendTimeoutMs: 60_000,
};

export const DEFAULT_ROUTE: RouteDefaults = {
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  // Ingress: one retry, on another endpoint, when the connection fails; at once, as nginx's
  // proxy_next_upstream does, since the next endpoint has not failed yet.
  retry: { attempts: 1, retryOn: [{ kind: 'connect-failure' }], backoff: { baseMs: 0 } },
};

export class DataPlane {
  readonly registry = new EndpointRegistry();
  readonly activeHealth: ActiveHealthChecker;
  private readonly filterDeps: FilterDeps;
  private readonly listeners = new Map<string, Listener>();
  private readonly contexts = new SecureContextCache();
  private readonly deps: RequestDeps;
  private readonly limits: DataPlaneLimits;
  private readonly connections: ClientConnectionLimit;
  private readonly routeDefaults: RouteDefaults;
  private runtime: RuntimeConfig | undefined;
  private draining = false;
  private readonly inflight: { count: number; onIdle?: () => void } = { count: 0 };

  constructor(private readonly options: DataPlaneOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.connections = new ClientConnectionLimit(this.limits.maxConnectionsPerClient);
    this.routeDefaults = { ...DEFAULT_ROUTE, ...options.routeDefaults };
    // Created once: counters and cached keys must outlive every configuration.
    const isTrustedProxy = isTrustedBy(options.trustedProxies);
    // The same long-lived parts (JWKS cache, counters), with this data plane's trusted proxies added.
    this.filterDeps = { ...(options.filters ?? localFilterDeps(options.clock, options.random)), isTrustedProxy };
    this.activeHealth = new ActiveHealthChecker(options.transport, options.timers ?? systemTimers);
    this.l4 = new L4Server({
      clock: options.clock,
      random: options.random,
      resolveCertificate: (name) => {
        const c = this.#certificates.get(name);
        return c === undefined ? undefined : { certPem: c.certPem, keyPem: c.keyPem };
      },
    });
    this.deps = {
      transport: options.transport,
      inflight: this.inflight,
      draining: () => this.draining,
      isTrustedProxy,
      maxUriBytes: this.limits.maxUriBytes,
      sendTimeoutMs: this.limits.sendTimeoutMs,
      timers: options.timers ?? systemTimers,
      random: options.random,
    };
  }

  /** The L4 listeners (TCP, UDP, TLS passthrough): bound beside the HTTP binds, applied after them. */
  readonly l4: L4Server;
  /** Certificates of the applied IR by name: L4 `terminate` listeners resolve theirs here. */
  #certificates = new Map<string, IrCertificate>();

  get current(): RuntimeConfig | undefined {
    return this.runtime;
  }

  /** Real bound ports by bind name (`0.0.0.0:8080`, `127.0.0.1:0/80`), with the bind's protocol. */
  boundPorts(): { bind: string; protocol: 'http' | 'https'; port: number }[] {
    return [...this.listeners].map(([key, l]) => ({ bind: key.slice(key.indexOf('|') + 1), protocol: l.protocol, port: l.localPort }));
  }

  async apply(ir: IrSnapshot): Promise<ApplyResult> {
    const { runtime, diagnostics } = compileRuntime(ir, {
      registry: this.registry,
      activeHealth: this.activeHealth,
      clock: this.options.clock,
      random: this.options.random,
      routeDefaults: this.routeDefaults,
      filters: this.filterDeps,
    });
    // One socket per bind. The key holds the protocol too: a bind that changes protocol is a new
    // socket (net.Server vs tls.Server) on the same address:port.
    const keyOf = (b: CompiledBind): string => `${b.protocol}|${b.name}`;
    const wanted = new Map(runtime.binds.map((b) => [keyOf(b), b]));
    // A socket this config no longer wants but whose address:port a new bind needs (a protocol
    // change, a wildcard taking over specific addresses) must stop listening first, or the new
    // bind meets EADDRINUSE. If the new bind then fails, that port stays closed until the next apply.
    for (const [key, listener] of this.listeners) {
      if (wanted.has(key)) continue;
      const needed = runtime.binds.some((b) => !this.listeners.has(keyOf(b)) && overlaps(b, listener));
      if (!needed) continue;
      this.listeners.delete(key);
      await listener.stopAccepting();
    }
    // Bind new ports first: if one fails, nothing is swapped and the last good config serves on.
    const created: Listener[] = [];
    for (const [key, bind] of wanted) {
      if (this.listeners.has(key)) continue;
      const slot = { runtime: { name: bind.name, scheme: bind.protocol, router: new Router([]), routersByAddress: new Map() } };
      const listener = new Listener(bind.protocol, bind.address, bind.port, slot, this.deps, this.limits, this.connections);
      try {
        await listener.listen();
        created.push(listener);
        this.listeners.set(key, listener);
      } catch (err) {
        for (const c of created) {
          await c.stopAccepting();
          c.destroyAll();
        }
        for (const [k, l] of this.listeners) if (created.includes(l)) this.listeners.delete(k);
        const { code: errorCode, message: reason } = err as NodeJS.ErrnoException;
        return {
          outcome: 'rejected',
          diagnostics: [...diagnostics, ...bindFailure(ir, bind.name, bind.protocol, reason)],
          failedBind: { name: bind.name, protocol: bind.protocol, address: bind.address, port: bind.port, reason, ...(errorCode === undefined ? {} : { errorCode }) },
        };
      }
    }
    // Swap: each socket's slot gets the new routers (and certificates) in one assignment.
    for (const [key, bind] of wanted) {
      const listener = this.listeners.get(key)!;
      let sni: SniTable | undefined;
      if (bind.protocol === 'https') {
        sni = new SniTable(bind.certificates, this.contexts);
        listener.setSniTable(sni);
      }
      listener.slot.runtime = {
        name: bind.name,
        scheme: bind.protocol,
        router: bind.router,
        routersByAddress: bind.routersByAddress,
        ...(sni === undefined ? {} : { sni }),
      };
    }
    this.contexts.sweep();
    // Ports no longer declared: stop accepting; open connections finish on their own.
    for (const [key, listener] of this.listeners) {
      if (wanted.has(key)) continue;
      this.listeners.delete(key);
      void listener.stopAccepting();
    }
    this.runtime = runtime;
    const keys = new Set<string>();
    const poolKeys = new Set<string>();
    const probeKeys = new Set<string>();
    for (const c of runtime.clusters.values()) {
      for (const e of c.endpoints) {
        keys.add(e.key);
        poolKeys.add(poolKeyOf(c.connection, e));
      }
      for (const key of c.activeProbes.values()) probeKeys.add(key);
    }
    this.registry.retain(keys);
    // Before the pools are retained: a stopped probe's in-flight request is aborted first.
    this.activeHealth.commit(probeKeys);
    this.options.transport.retain(poolKeys);
    // L4 after HTTP: an L4 bind that fails leaves that listener out (a diagnostic) and never holds
    // back the HTTP configuration, which is already serving.
    this.#certificates = new Map(ir.certificates.map((c) => [c.name, c]));
    const l4 = await this.l4.apply(ir.l4Listeners ?? []);
    // HTTPS binds a TLS listener shares read each ClientHello and hand that listener its names.
    for (const [key, bind] of wanted) {
      if (bind.protocol !== 'https') continue;
      this.listeners.get(key)!.setDivert(this.l4.divertFor(bind.name, httpsHostnamesOf(ir, bind.name)));
    }
    const l4Failures: Diagnostic[] = l4.failed.map((f) => {
      const origin = ir.l4Listeners?.find((l) => l.name === f.listener)?.origin;
      return { severity: 'error', code: 'ERR_LISTENER_BIND', ...(origin !== undefined ? { object: origin } : {}), message: `L4 listener ${f.listener}: ${f.message}` };
    });
    return { outcome: 'applied', diagnostics: l4Failures.length === 0 ? diagnostics : [...diagnostics, ...l4Failures] };
  }

  /** For GET /api/upstreams: clusters, endpoints with health, and pool stats. */
  upstreams(): unknown {
    const now = this.options.clock.monotonicMs();
    const clusters = [...(this.runtime?.clusters.values() ?? [])].map((c) => ({
      name: c.name,
      protocol: c.connection.protocol,
      ...(c.connection.tls === undefined ? {} : { tls: describeTls(c.connection.tls) }),
      circuitBreakers: c.breaker.stats(),
      endpoints: c.endpoints.map((e) => ({
        address: e.address,
        port: e.port,
        weight: e.weight,
        healthy: c.health.isAvailable(e) && this.activeHealth.describe(c.activeProbes.get(e) ?? '')?.healthy !== false,
        ...(c.activeProbes.has(e) ? { activeHealthCheck: this.activeHealth.describe(c.activeProbes.get(e)!) } : {}),
        ejectedForMs: e.ejectedUntilMs > now ? Math.round(e.ejectedUntilMs - now) : 0,
        consecutiveFailures: e.consecutiveFailures,
        inFlight: e.inFlight,
        totalRequests: e.totalRequests,
        totalFailures: e.totalFailures,
      })),
    }));
    return { clusters, pools: this.options.transport.stats() };
  }

  /**
   * SIGTERM: stop accepting, let in-flight requests finish within `graceMs`, then cut what is left.
   * Resolves with the number of requests that were still running at the deadline.
   */
  async drain(graceMs: number): Promise<number> {
    this.draining = true;
    // A draining gateway takes no new traffic, so probes have nothing left to decide; their timers would also keep the process alive.
    this.activeHealth.close();
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.race([Promise.all(listeners.map((l) => l.stopAccepting())), delay(10)]);
    const idle = new Promise<void>((resolve) => {
      if (this.inflight.count === 0) resolve();
      else this.inflight.onIdle = resolve;
    });
    const interval = setInterval(() => listeners.forEach((l) => l.closeIdle()), 100);
    const left = await Promise.race([idle.then(() => 0), delay(graceMs).then(() => this.inflight.count)]);
    clearInterval(interval);
    for (const l of listeners) l.destroyAll();
    await this.l4.close();
    await this.options.transport.close();
    return left;
  }
}

/** Whether two sockets would contend for one address:port (Linux: a wildcard takes every address). */
function overlaps(bind: CompiledBind, listener: Listener): boolean {
  if (bind.port === 0 || bind.port !== listener.port) return false;
  const wild = (a: string): boolean => a === '0.0.0.0' || a === '::';
  return bind.address === listener.address || wild(bind.address) || wild(listener.address);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A bind that cannot listen, told once per object that declared a listener on it (a Gateway's
 * listener, an Ingress port), so the error, and the status built from it, name what to fix.
 */
function bindFailure(ir: IrSnapshot, bindName: string, protocol: string, why: string): Diagnostic[] {
  const message = `bind ${bindName} (${protocol}) cannot listen: ${why}`;
  const names = new Set(ir.binds.find((b) => b.name === bindName)?.listeners.map((l) => l.listener) ?? []);
  const declared = ir.listeners.filter((l) => names.has(l.name) && l.declaredBy !== undefined).map((l) => l.declaredBy!);
  if (declared.length === 0) return [{ severity: 'error', code: 'ERR_LISTENER_BIND', message }];
  return declared.map((d) => ({ severity: 'error', code: 'ERR_LISTENER_BIND', object: d.object, path: d.path, ...(d.source !== undefined ? { source: d.source } : {}), message }));
}

