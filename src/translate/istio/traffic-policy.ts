// A DestinationRule traffic policy (merged for one subset and port) → the IR cluster settings it
// sets: load balancing, circuit breakers, passive health (outlier detection) and, from our
// annotation, active health checks. Pure: no I/O.
import type { IrActiveHealthCheck, IrCircuitBreakers, IrHashOn, IrLoadBalancer, IrPassiveHealth } from '../../ir/types.js';
import { isPrime } from '../../core/primes.js';
import { DEFAULT_PASSIVE_HEALTH, MAGLEV_MAX_TABLE_SIZE } from '../../ir/defaults.js';
import type { Service } from '../../resources/resource.js';
import type { IstioPortTrafficPolicy, IstioTrafficPolicy } from '../../resources/istio-kinds.js';
import type { HealthCheckParse } from './health-check-annotation.js';
import { parseIstioDuration } from './istio-durations.js';

/** A traffic policy once portLevelSettings and the subset's policy are merged in. */
export type Policy = Omit<IstioPortTrafficPolicy, 'port'>;

/** `over`'s set fields replace `under`'s, field by field (a subset's or a port's policy over the rule's). */
export function mergePolicy(under: Policy | undefined, over: Policy | undefined): Policy {
  return { ...(under ?? {}), ...Object.fromEntries(Object.entries(over ?? {}).filter(([, v]) => v !== undefined)) };
}

export function atPort(policy: IstioTrafficPolicy | undefined, port: number): Policy {
  if (!policy) return {};
  const { portLevelSettings, ...rest } = policy;
  const level = portLevelSettings?.find((p) => p.port?.number === port);
  if (!level) return rest;
  const { port: _port, ...levelRest } = level;
  return mergePolicy(rest, levelRest);
}

/** The rule's `isthmus.dev/health-check`; the probe's Host defaults to the Service's cluster FQDN. */
export function activeHealthCheckOf(check: Extract<HealthCheckParse, { kind: 'ok' }>['check'] | undefined, service: Service): { activeHealthCheck?: IrActiveHealthCheck } {
  if (check === undefined) return {};
  return { activeHealthCheck: { ...check, host: check.host ?? `${service.metadata.name}.${service.metadata.namespace ?? 'default'}.svc.cluster.local` } };
}

export function loadBalancerOf(policy: Policy): IrLoadBalancer | undefined {
  const lb = policy.loadBalancer;
  if (!lb) return undefined;
  const hash = lb.consistentHash;
  if (hash) {
    const hashOn = hashOnOf(hash);
    if (hashOn === undefined) return undefined;
    if (hash.maglev !== undefined) {
      // A tableSize Envoy would reject (not a prime, above its bound) keeps the default, with a
      // warning (destination-rule-warnings.ts); 0 is proto3's "unset".
      const tableSize = hash.maglev.tableSize;
      return { kind: 'maglev', hashOn, ...(tableSize !== undefined && isMaglevTableSize(tableSize) ? { tableSize } : {}) };
    }
    const ringSize = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize;
    return { kind: 'ring-hash', hashOn, ...(ringSize !== undefined ? { ringSize } : {}) };
  }
  switch (lb.simple) {
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return { kind: 'least-request' };
    case 'RANDOM':
      return { kind: 'random' };
    case 'ROUND_ROBIN':
    case 'UNSPECIFIED':
    case 'PASSTHROUGH':
      return { kind: 'round-robin' };
    case undefined:
      return undefined;
  }
}

type ConsistentHash = NonNullable<NonNullable<Policy['loadBalancer']>['consistentHash']>;

function hashOnOf(hash: ConsistentHash): IrHashOn | undefined {
  if (hash.httpHeaderName !== undefined) return { kind: 'header', name: hash.httpHeaderName.toLowerCase() };
  if (hash.httpCookie !== undefined) {
    const { name, ttl, path } = hash.httpCookie;
    // A ttl (0s included: a session cookie) makes the gateway generate the cookie, as Envoy does.
    const ttlMs = ttl === undefined ? undefined : parseIstioDuration(ttl);
    const generated = ttlMs === undefined ? {} : { ttlSeconds: Math.floor(ttlMs / 1000), ...(path !== undefined && path !== '' ? { path } : {}) };
    return { kind: 'cookie', name, ...generated };
  }
  if (hash.useSourceIp === true) return { kind: 'source-ip' };
  if (hash.httpQueryParameterName !== undefined) return { kind: 'query-parameter', name: hash.httpQueryParameterName };
  return undefined;
}

/** What Envoy accepts as `maglev_lb_config.table_size`: a prime, at most 5000011. */
export function isMaglevTableSize(size: number): boolean {
  return size <= MAGLEV_MAX_TABLE_SIZE && isPrime(size);
}

/**
 * `connectionPool` → Envoy circuit breakers, as pilot's applyConnectionPool maps them: tcp
 * maxConnections → max_connections, http1MaxPendingRequests → max_pending_requests,
 * http2MaxRequests → max_requests, maxRequestsPerConnection. A limit left out stays unlimited
 * (pilot leaves Envoy's thresholds at their maximum). Values that are not positive integers are
 * ignored (the CRD requires int32 > 0; 0 means "unset" in proto3).
 */
export function circuitBreakersOf(policy: Policy, inherited: IrCircuitBreakers | undefined): { circuitBreakers?: IrCircuitBreakers } {
  const pool = policy.connectionPool;
  const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  const limits: IrCircuitBreakers = {
    ...inherited,
    ...defined('maxConnections', positive(pool?.tcp?.maxConnections)),
    ...defined('maxPendingRequests', positive(pool?.http?.http1MaxPendingRequests)),
    ...defined('maxRequests', positive(pool?.http?.http2MaxRequests)),
    ...defined('maxRequestsPerConnection', positive(pool?.http?.maxRequestsPerConnection)),
  };
  return Object.keys(limits).length > 0 ? { circuitBreakers: limits } : {};
}

function defined<K extends keyof IrCircuitBreakers>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, number>>);
}

export function passiveHealthOf(policy: Policy): IrPassiveHealth | undefined {
  const od = policy.outlierDetection;
  if (!od) return undefined;
  const count = [od.consecutive5xxErrors, od.consecutiveErrors, od.consecutiveGatewayErrors].find((v): v is number => typeof v === 'number');
  const base = typeof od.baseEjectionTime === 'string' ? parseIstioDuration(od.baseEjectionTime) : undefined;
  const consecutiveFailures = count ?? DEFAULT_PASSIVE_HEALTH.consecutiveFailures;
  const baseEjectionMs = base ?? DEFAULT_PASSIVE_HEALTH.baseEjectionMs;
  const percent = typeof od.maxEjectionPercent === 'number' && od.maxEjectionPercent >= 0 && od.maxEjectionPercent <= 100 ? { maxEjectionPercent: od.maxEjectionPercent } : {};
  // Split mode only with splitExternalLocalOriginErrors, as in Envoy; its threshold defaults to 5.
  const threshold = typeof od.consecutiveLocalOriginFailures === 'number' && Number.isInteger(od.consecutiveLocalOriginFailures) && od.consecutiveLocalOriginFailures > 0 ? od.consecutiveLocalOriginFailures : 5;
  const local = od.splitExternalLocalOriginErrors === true ? { consecutiveLocalOriginFailures: threshold } : {};
  return { consecutiveFailures, baseEjectionMs, maxEjectionMs: Math.max(DEFAULT_PASSIVE_HEALTH.maxEjectionMs, baseEjectionMs), ...percent, ...local };
}
