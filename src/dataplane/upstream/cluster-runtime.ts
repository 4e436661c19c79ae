// A cluster as the request path sees it: endpoints (shared state from the registry), a compiled
// load balancer, passive health and the transport settings. Rebuilt on every apply; the endpoint
// state objects it points to are not.
import type { IrCertificate, IrCluster } from '../../ir/types.js';
import type { Clock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import type { EndpointState } from './endpoint-state.js';
import type { EndpointRegistry } from './endpoint-registry.js';
import type { IsAvailable, LoadBalancer } from './lb/types.js';
import type { ActiveHealthChecker, ActiveHealthStatus } from './health/active-health.js';
import { createLoadBalancer } from './lb/create-load-balancer.js';
import { PassiveHealth } from './health/passive-health.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import { connectionKeyOf, type UpstreamConnection } from './transport.js';
import { compileUpstreamTls, type UpstreamTls } from './upstream-tls.js';
import type { Diagnostic } from '../../core/diagnostic.js';


export interface ClusterRuntime {
  readonly name: string;
  readonly connection: UpstreamConnection;
  readonly endpoints: readonly EndpointState[];
  readonly lb: LoadBalancer;
  readonly health: PassiveHealth;
  /** Requests in flight and pending, against the cluster's circuit breakers (circuit-breaker.ts). */
  readonly breaker: CircuitBreaker;
  /** Ring hash reads headers, cookies or the client address; other policies need no context. */
  readonly needsLbContext: boolean;
  /** Active health checks: the probe key of each endpoint (empty without checks). */
  readonly activeProbes: ReadonlyMap<EndpointState, string>;
}

/**
 * A TLS cluster whose policy OpenSSL refuses (a hand-written IR with a broken CA bundle; the
 * translators check theirs) gets no endpoints: its requests answer 503, never unverified.
 */
export function compileCluster(
  cluster: IrCluster,
  deps: { registry: EndpointRegistry; clock: Clock; random: Random; certificates?: ReadonlyMap<string, IrCertificate>; activeHealth?: ActiveHealthChecker },
  diagnostics: Diagnostic[] = [],
): ClusterRuntime {
  const protocol = cluster.protocol;
  let tls: UpstreamTls | undefined;
  let usable = true;
  if (protocol === 'https' || protocol === 'h2') {
    const certName = cluster.tls?.clientCertificate;
    const clientCertificate = certName === undefined ? undefined : deps.certificates?.get(certName);
    try {
      // Mutual TLS asked for without its certificate would be refused by the upstream anyway;
      // saying so here beats a handshake failure per request.
      if (certName !== undefined && clientCertificate === undefined) throw new Error(`client certificate "${certName}" is not in the snapshot's certificates`);
      tls = compileUpstreamTls(cluster.tls, clientCertificate);
    } catch (err) {
      usable = false;
      diagnostics.push({
        severity: 'error',
        code: 'ERR_BACKEND_TLS_INVALID',
        object: cluster.origin,
        path: certName !== undefined ? 'tls.clientCertificate' : 'tls.verification.caPem',
        message: `cluster ${cluster.name}: the TLS settings cannot be loaded (${(err as Error).message}); its requests get 503`,
      });
    }
  }
  const connectTimeoutMs = cluster.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const maxRequestsPerConnection = cluster.circuitBreakers?.maxRequestsPerConnection;
  const idleTimeoutMs = cluster.idleTimeoutMs;
  const connection: UpstreamConnection = {
    protocol,
    connectTimeoutMs,
    tls,
    ...(maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection } : {}),
    ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
    key: connectionKeyOf(protocol, connectTimeoutMs, tls, maxRequestsPerConnection, idleTimeoutMs),
  };
  const irEndpoints = usable ? cluster.endpoints : [];
  const endpoints = irEndpoints.map((e) => deps.registry.acquire(e.address, e.port, e.weight ?? 1));
  const health = new PassiveHealth(cluster.passiveHealth ?? DEFAULT_PASSIVE_HEALTH, deps.clock, endpoints);
  // Active checks: one probe per endpoint; the load balancer reads each probe's status object.
  const check = cluster.activeHealthCheck;
  const probes = new Map<EndpointState, { key: string; status: ActiveHealthStatus }>();
  if (check !== undefined && deps.activeHealth !== undefined) for (const ep of endpoints) probes.set(ep, deps.activeHealth.acquire(ep, connection, check));
  const isAvailable: IsAvailable = probes.size === 0 ? health.isAvailable : (ep) => probes.get(ep)?.status.healthy !== false && health.isAvailable(ep);
  // An endpoint shared by two clusters may carry a different weight in each.
  const lbDeps = { random: deps.random, isAvailable, weights: irEndpoints.map((e) => e.weight ?? 1) };
  // Panic mode: when passive health leaves no endpoint (all ejected, or the rest already tried),
  // the same policy over every endpoint. Envoy does the same below 50 % healthy: ejection is a
  // guess from recent failures, and answering 503 for the whole ejection would turn a blip (a
  // retried 5xx) into an outage.
  const healthy = createLoadBalancer(cluster.lb, endpoints, lbDeps);
  const all = createLoadBalancer(cluster.lb, endpoints, { ...lbDeps, isAvailable: EVERY_ENDPOINT });
  const lb: LoadBalancer = { pick: (ctx, exclude) => healthy.pick(ctx, exclude) ?? all.pick(ctx, exclude) };
  return {
    name: cluster.name,
    connection,
    endpoints,
    lb,
    health,
    breaker: createCircuitBreaker(cluster),
    needsLbContext: cluster.lb.kind === 'ring-hash' || cluster.lb.kind === 'maglev',
    activeProbes: new Map([...probes].map(([ep, p]) => [ep, p.key])),
  };
}

const EVERY_ENDPOINT = (): boolean => true;
