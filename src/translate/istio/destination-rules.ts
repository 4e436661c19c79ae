// DestinationRules → the clusters VirtualService destinations reach. A destination without a
// DestinationRule uses the Service port's ordinary cluster (the one Ingress and Gateway API use);
// one with a rule gets a cluster of its own per (Service, port, subset), named after the rule
// (`destinationrule/<ns>/<rule>/<service-ns>/<service>/<port>[/subset/<name>]`), whose endpoints
// are the Service's whose Pods carry the subset's labels and whose load balancing, upstream TLS,
// connect timeout and passive health come from the merged traffic policy. Policies merge as in
// Istio: a subset's policy replaces the rule's field by field, and a portLevelSettings entry for
// the port replaces the policy it sits in, field by field.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrActiveHealthCheck, IrCertificate, IrCircuitBreakers, IrCluster, IrLoadBalancer, IrPassiveHealth, IrUpstreamTls } from '../../ir/types.js';
import { DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import { refOf, type DestinationRule, type Service } from '../../resources/resource.js';
import type { IstioPortTrafficPolicy, IstioTrafficPolicy } from '../../resources/istio-kinds.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../creation-order.js';
import { CA_BUNDLE_KEY } from '../services/ca-bundle.js';
import type { ClusterSet } from '../services/cluster-set.js';
import { defaultUpstreamServerName } from '../services/upstream-tls-annotations.js';
import { HEALTH_CHECK_ANNOTATION, healthCheckOf, type HealthCheckParse } from './health-check-annotation.js';
import { readIstioCa, readIstioKeyPair, type IstioKeyPair } from './istio-credentials.js';
import { parseIstioDuration } from './istio-durations.js';
import { serviceOfHost } from './istio-hosts.js';

type Policy = Omit<IstioPortTrafficPolicy, 'port'>;

interface Derivation {
  readonly base: string;
  readonly rule: DestinationRule;
  readonly service: Service;
  readonly port: number;
  readonly subset?: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly policy: Policy;
}

export type DestinationResolution = { readonly kind: 'ok'; readonly cluster: string } | { readonly kind: 'error'; readonly code: Diagnostic['code']; readonly message: string };

export interface IstioClusters {
  /** A destination (host, subset, port) written in `namespace` → a cluster name, or why not. */
  resolve(host: string, subset: string | undefined, port: number | undefined, namespace: string, listenerPort?: number): DestinationResolution;
  /** The final cluster list: derived clusters added, base clusters only Istio asked for and no route uses dropped. */
  finish(base: readonly IrCluster[], used: ReadonlySet<string>): IrCluster[];
  /** After `finish`: the client certificates of MUTUAL clusters (`IrUpstreamTls.clientCertificate`), for `IrSnapshot.certificates`. */
  certificates(): IrCertificate[];
}

function mergePolicy(under: Policy | undefined, over: Policy | undefined): Policy {
  return { ...(under ?? {}), ...Object.fromEntries(Object.entries(over ?? {}).filter(([, v]) => v !== undefined)) };
}

function atPort(policy: IstioTrafficPolicy | undefined, port: number): Policy {
  if (!policy) return {};
  const { portLevelSettings, ...rest } = policy;
  const level = portLevelSettings?.find((p) => p.port?.number === port);
  if (!level) return rest;
  const { port: _port, ...levelRest } = level;
  return mergePolicy(rest, levelRest);
}

function podLabelsOf(target: string | undefined, index: ResourceIndex): Readonly<Record<string, string>> | undefined {
  if (target === undefined || !target.startsWith('pod/')) return undefined;
  const [, ns, name] = target.split('/');
  return index.pods.get(namespacedKey(ns, name ?? ''))?.metadata.labels;
}

export function createIstioClusters(index: ResourceIndex, clusters: ClusterSet, diagnostics: Diagnostic[]): IstioClusters {
  // One rule per Service: the oldest (Istio merges rules for one host only in narrow cases).
  const ruleByService = new Map<string, DestinationRule>();
  const healthChecks = new Map<DestinationRule, Extract<HealthCheckParse, { kind: 'ok' }>['check']>();
  for (const rule of [...index.destinationRules].sort(compareByCreation)) {
    const ns = rule.metadata.namespace ?? 'default';
    const warn = (path: string, code: Diagnostic['code'], message: string, severity: Diagnostic['severity'] = 'warning'): void => {
      diagnostics.push({ severity, code, object: refOf(rule), source: rule.source, path, message });
    };
    if (rule.spec.host.includes('*')) {
      warn('spec.host', 'ERR_ISTIO_UNSUPPORTED', `wildcard hosts are not implemented yet; "${rule.spec.host}" applies to nothing`);
      continue;
    }
    const service = serviceOfHost(rule.spec.host, ns, index);
    if (!service) {
      warn('spec.host', 'ERR_POLICY_TARGET_NOT_FOUND', `"${rule.spec.host}" is not a Service Isthmus knows (ServiceEntry is not implemented yet); the rule applies to nothing`);
      continue;
    }
    const key = namespacedKey(service.metadata.namespace, service.metadata.name);
    const older = ruleByService.get(key);
    if (older) {
      warn('spec.host', 'ERR_POLICY_CONFLICTED', `DestinationRule ${older.metadata.namespace}/${older.metadata.name} already applies to Service ${key} (the older one wins)`);
      continue;
    }
    ruleByService.set(key, rule);
    reportUnsupported(rule, diagnostics);
    const check = healthCheckOf(rule.metadata.annotations, (severity, message) => warn(`metadata.annotations["${HEALTH_CHECK_ANNOTATION}"]`, 'ERR_HEALTH_CHECK_INVALID', message, severity));
    if (check?.kind === 'ok') healthChecks.set(rule, check.check);
  }

  const derivations = new Map<string, Derivation>();
  const requestedBases = new Set<string>();

  const resolve = (host: string, subset: string | undefined, port: number | undefined, namespace: string, listenerPort?: number): DestinationResolution => {
    const service = serviceOfHost(host, namespace, index);
    if (!service) return { kind: 'error', code: 'ERR_BACKEND_SERVICE_NOT_FOUND', message: `host "${host}" is not a Service in this configuration (ServiceEntry is not implemented yet)` };
    const svcNs = service.metadata.namespace ?? 'default';
    let number = port;
    // Without a port, a Service's only port; else the port the request came in on, as a sidecar
    // does (its listener port is the Service port), when the Service has it.
    if (number === undefined && service.spec.ports.length !== 1 && listenerPort !== undefined && service.spec.ports.some((p) => p.port === listenerPort)) number = listenerPort;
    if (number === undefined) {
      if (service.spec.ports.length !== 1) return { kind: 'error', code: 'ERR_BACKEND_PORT_NOT_FOUND', message: `Service ${svcNs}/${service.metadata.name} has ${service.spec.ports.length} ports; destination.port.number must say which (or the gateway port must be one of them)` };
      number = service.spec.ports[0]!.port;
    }
    const base = clusters.reference(svcNs, service.metadata.name, { kind: 'number', number });
    if (base.kind === 'error') return { kind: 'error', code: base.code, message: base.message };
    const rule = ruleByService.get(namespacedKey(svcNs, service.metadata.name));
    let subsetSpec: DestinationRule['spec']['subsets'][number] | undefined;
    if (subset !== undefined) {
      subsetSpec = rule?.spec.subsets.find((s) => s.name === subset);
      if (!subsetSpec) {
        return {
          kind: 'error',
          code: 'ERR_BACKEND_SUBSET_NOT_FOUND',
          message: rule
            ? `subset "${subset}" is not defined by DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} (subsets: ${rule.spec.subsets.map((s) => s.name).join(', ') || 'none'})`
            : `subset "${subset}" needs a DestinationRule for Service ${svcNs}/${service.metadata.name}, and there is none`,
        };
      }
    }
    if (!rule) return { kind: 'ok', cluster: base.cluster };
    const policy = mergePolicy(atPort(rule.spec.trafficPolicy, number), atPort(subsetSpec?.trafficPolicy, number));
    const tlsMode = policy.tls?.mode;
    if (tlsMode === 'ISTIO_MUTUAL') {
      return {
        kind: 'error',
        code: 'ERR_BACKEND_TLS_INVALID',
        message: `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} asks for tls.mode ISTIO_MUTUAL, which needs the mesh CA (istiod issues the workload certificates); never sent unencrypted or unverified`,
      };
    }
    if (tlsMode === 'MUTUAL') {
      // Without its client certificate the upstream would refuse the handshake anyway: say why once, here.
      const pair = mutualKeyPair(policy, rule, index);
      if (pair.kind === 'invalid') return { kind: 'error', code: 'ERR_BACKEND_TLS_INVALID', message: `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} tls.mode MUTUAL: ${pair.message}; never sent without the client certificate` };
    }
    const name = `destinationrule/${rule.metadata.namespace}/${rule.metadata.name}/${svcNs}/${service.metadata.name}/${number}${subsetSpec ? `/subset/${subsetSpec.name}` : ''}`;
    requestedBases.add(base.cluster);
    if (!derivations.has(name)) {
      derivations.set(name, { base: base.cluster, rule, service, port: number, policy, ...(subsetSpec ? { subset: { name: subsetSpec.name, labels: subsetSpec.labels } } : {}) });
    }
    return { kind: 'ok', cluster: name };
  };

  const clientCertificates = new Map<string, IrCertificate>();
  const finish = (base: readonly IrCluster[], used: ReadonlySet<string>): IrCluster[] => {
    const byName = new Map(base.map((c) => [c.name, c]));
    const derived: IrCluster[] = [];
    for (const [name, d] of derivations) {
      const from = byName.get(d.base);
      if (!from) continue;
      let endpoints = from.endpoints;
      if (d.subset) {
        const labels = d.subset.labels;
        endpoints = endpoints.filter((e) => {
          const podLabels = podLabelsOf(e.target, index);
          return podLabels !== undefined && Object.entries(labels).every(([k, v]) => podLabels[k] === v);
        });
        if (endpoints.length === 0) {
          diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_NO_ENDPOINTS', object: refOf(d.rule), source: d.rule.source, path: `spec.subsets[${d.rule.spec.subsets.findIndex((s) => s.name === d.subset!.name)}].labels`, message: `no ready endpoint of Service ${d.service.metadata.namespace}/${d.service.metadata.name} port ${d.port} runs in a Pod with these labels; requests to subset "${d.subset.name}" get 503` });
        }
      }
      const tls = upstreamTlsOf(d, index, diagnostics, clientCertificates);
      const protocol = tls === undefined ? from.protocol : from.protocol === 'http1' ? 'https' : from.protocol === 'h2c' ? 'h2' : from.protocol;
      const connectTimeoutMs = parseIstioDuration(String(d.policy.connectionPool?.tcp?.connectTimeout ?? '')) ?? from.connectTimeoutMs;
      const idleTimeoutMs = parseIstioDuration(String(d.policy.connectionPool?.http?.idleTimeout ?? '')) ?? from.idleTimeoutMs;
      const { tls: _baseTls, ...rest } = from;
      derived.push({
        ...rest,
        name,
        origin: refOf(d.rule),
        protocol,
        ...(tls !== undefined ? { tls } : tls === undefined && d.policy.tls?.mode !== 'DISABLE' && from.tls ? { tls: from.tls } : {}),
        lb: loadBalancerOf(d.policy) ?? from.lb,
        endpoints,
        ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
        // 0s would mean "never idle" in Envoy; keeping connections forever is not offered.
        ...(idleTimeoutMs !== undefined && idleTimeoutMs > 0 ? { idleTimeoutMs } : {}),
        passiveHealth: passiveHealthOf(d.policy) ?? from.passiveHealth ?? DEFAULT_PASSIVE_HEALTH,
        ...circuitBreakersOf(d.policy, from.circuitBreakers),
        ...activeHealthCheckOf(healthChecks.get(d.rule), d.service),
      });
    }
    const kept = base.filter((c) => !requestedBases.has(c.name) || used.has(c.name));
    return [...kept, ...derived].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const certificates = (): IrCertificate[] => [...clientCertificates.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resolve, finish, certificates };
}

/** MUTUAL: the client certificate and key, from `credentialName` (file paths are not read). */
function mutualKeyPair(policy: Policy, rule: DestinationRule, index: ResourceIndex): IstioKeyPair {
  const name = policy.tls?.credentialName;
  if (name === undefined) {
    return { kind: 'invalid', message: `needs tls.credentialName (a Secret with tls.crt and tls.key, or cert and key)${policy.tls?.clientCertificate !== undefined ? '; file paths (clientCertificate, privateKey) are not read' : ''}` };
  }
  return readIstioKeyPair(index, rule.metadata.namespace ?? 'default', name);
}

/** The rule's `isthmus.dev/health-check`; the probe's Host defaults to the Service's cluster FQDN. */
function activeHealthCheckOf(check: Extract<HealthCheckParse, { kind: 'ok' }>['check'] | undefined, service: Service): { activeHealthCheck?: IrActiveHealthCheck } {
  if (check === undefined) return {};
  return { activeHealthCheck: { ...check, host: check.host ?? `${service.metadata.name}.${service.metadata.namespace ?? 'default'}.svc.cluster.local` } };
}

function loadBalancerOf(policy: Policy): IrLoadBalancer | undefined {
  const lb = policy.loadBalancer;
  if (!lb) return undefined;
  const hash = lb.consistentHash;
  if (hash) {
    const ringSize = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize;
    const sized = ringSize !== undefined ? { ringSize } : {};
    if (hash.httpHeaderName !== undefined) return { kind: 'ring-hash', hashOn: { kind: 'header', name: hash.httpHeaderName.toLowerCase() }, ...sized };
    if (hash.httpCookie !== undefined) {
      const { name, ttl, path } = hash.httpCookie;
      // A ttl (0s included: a session cookie) makes the gateway generate the cookie, as Envoy does.
      const ttlMs = ttl === undefined ? undefined : parseIstioDuration(ttl);
      const generated = ttlMs === undefined ? {} : { ttlSeconds: Math.floor(ttlMs / 1000), ...(path !== undefined && path !== '' ? { path } : {}) };
      return { kind: 'ring-hash', hashOn: { kind: 'cookie', name, ...generated }, ...sized };
    }
    if (hash.useSourceIp === true) return { kind: 'ring-hash', hashOn: { kind: 'source-ip' }, ...sized };
    if (hash.httpQueryParameterName !== undefined) return { kind: 'ring-hash', hashOn: { kind: 'query-parameter', name: hash.httpQueryParameterName }, ...sized };
    return undefined;
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

/**
 * `connectionPool` → Envoy circuit breakers, as pilot's applyConnectionPool maps them: tcp
 * maxConnections → max_connections, http1MaxPendingRequests → max_pending_requests,
 * http2MaxRequests → max_requests, maxRequestsPerConnection. A limit left out stays unlimited
 * (pilot leaves Envoy's thresholds at their maximum). Values that are not positive integers are
 * ignored (the CRD requires int32 > 0; 0 means "unset" in proto3).
 */
function circuitBreakersOf(policy: Policy, inherited: IrCircuitBreakers | undefined): { circuitBreakers?: IrCircuitBreakers } {
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

function passiveHealthOf(policy: Policy): IrPassiveHealth | undefined {
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

function upstreamTlsOf(d: Derivation, index: ResourceIndex, diagnostics: Diagnostic[], clientCertificates: Map<string, IrCertificate>): IrUpstreamTls | undefined {
  const tls = d.policy.tls;
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return undefined;
  const ns = d.rule.metadata.namespace ?? 'default';
  const serverName = tls.sni ?? defaultUpstreamServerName(d.service, d.service.metadata.namespace ?? 'default');
  // MUTUAL: resolve() already refused a destination whose key pair is unusable.
  let clientCertificate: string | undefined;
  if (tls.mode === 'MUTUAL' && tls.credentialName !== undefined) {
    const pair = readIstioKeyPair(index, ns, tls.credentialName);
    if (pair.kind === 'ok') {
      clientCertificate = `destinationrule/${ns}/${d.rule.metadata.name}/client-certificate/${tls.credentialName}`;
      const secret = index.secrets.get(namespacedKey(ns, tls.credentialName));
      if (secret) clientCertificates.set(clientCertificate, { name: clientCertificate, origin: refOf(secret), serverNames: [], certPem: pair.certPem, keyPem: pair.keyPem });
    }
  }
  const client = clientCertificate !== undefined ? { clientCertificate } : {};
  if (tls.insecureSkipVerify === true) {
    diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_TLS_UNVERIFIED', object: refOf(d.rule), source: d.rule.source, path: 'trafficPolicy.tls.insecureSkipVerify', message: 'the upstream certificate is not verified (encrypted, not authenticated)' });
    return { serverName, verification: { kind: 'insecure-skip-verify' }, ...client };
  }
  let caPem: string | undefined;
  if (tls.credentialName !== undefined) {
    const ca = readIstioCa(index, ns, tls.credentialName);
    if (ca?.kind === 'ok') caPem = ca.pem;
    else {
      // Never fall back to "unverified": the default CA store is the stricter choice for a private CA.
      diagnostics.push({
        severity: 'error',
        code: 'ERR_BACKEND_TLS_INVALID',
        object: refOf(d.rule),
        source: d.rule.source,
        path: 'trafficPolicy.tls.credentialName',
        message: `${ca?.kind === 'invalid' ? ca.message : `no CA certificate ("${CA_BUNDLE_KEY}" or "cacert") in Secret ${ns}/${tls.credentialName} or ${ns}/${tls.credentialName}-cacert`}; the system CAs verify instead`,
      });
    }
  }
  const subjectAltNames = (tls.subjectAltNames ?? []).map((v) => ({ kind: v.includes('://') ? ('uri' as const) : ('dns' as const), value: v }));
  return {
    serverName,
    verification: { kind: 'verify', ...(caPem !== undefined ? { caPem } : {}), ...(subjectAltNames.length > 0 ? { subjectAltNames } : {}) },
    ...client,
  };
}

const SUPPORTED_TCP_POOL = new Set(['connectTimeout', 'maxConnections']);
const SUPPORTED_HTTP_POOL = new Set(['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'idleTimeout']);
// `interval`: Envoy ejects on consecutive errors at once, not at the interval (which paces
// success-rate analysis and un-ejection checks); here an ejection also ends exactly on time, so
// the interval changes nothing and is accepted without a word.
const SUPPORTED_OUTLIER = new Set(['consecutive5xxErrors', 'consecutiveErrors', 'consecutiveGatewayErrors', 'baseEjectionTime', 'interval', 'maxEjectionPercent', 'consecutiveLocalOriginFailures', 'splitExternalLocalOriginErrors']);

/** Settings read but not implemented: said once per rule, with the field. */
function reportUnsupported(rule: DestinationRule, diagnostics: Diagnostic[]): void {
  const warn = (path: string, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_UNSUPPORTED', object: refOf(rule), source: rule.source, path, message });
  };
  const check = (policy: IstioTrafficPolicy | Policy | undefined, at: string): void => {
    if (!policy) return;
    for (const key of Object.keys(policy.connectionPool?.tcp ?? {})) if (!SUPPORTED_TCP_POOL.has(key)) warn(`${at}.connectionPool.tcp.${key}`, 'not implemented yet; ignored');
    for (const key of Object.keys(policy.connectionPool?.http ?? {})) if (!SUPPORTED_HTTP_POOL.has(key)) warn(`${at}.connectionPool.http.${key}`, 'not implemented yet; ignored (maxConnections, http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection and idleTimeout are honoured)');
    for (const key of Object.keys(policy.outlierDetection ?? {})) if (!SUPPORTED_OUTLIER.has(key)) warn(`${at}.outlierDetection.${key}`, 'not implemented yet; consecutive errors, baseEjectionTime, maxEjectionPercent and splitExternalLocalOriginErrors with consecutiveLocalOriginFailures are honoured');
    const od = policy.outlierDetection;
    if (od?.maxEjectionPercent !== undefined && !(typeof od.maxEjectionPercent === 'number' && od.maxEjectionPercent >= 0 && od.maxEjectionPercent <= 100)) warn(`${at}.outlierDetection.maxEjectionPercent`, `expected a number from 0 to 100, found ${JSON.stringify(od.maxEjectionPercent)}; no cap`);
    if (od?.consecutiveLocalOriginFailures !== undefined && od.splitExternalLocalOriginErrors !== true) warn(`${at}.outlierDetection.consecutiveLocalOriginFailures`, 'has no effect without splitExternalLocalOriginErrors: true (as in Envoy); local-origin failures count with the others');
    const idle = policy.connectionPool?.http?.idleTimeout;
    if (idle !== undefined && parseIstioDuration(String(idle)) === undefined) warn(`${at}.connectionPool.http.idleTimeout`, `expected a duration such as "30s", found ${JSON.stringify(idle)}; the default applies`);
    const lb = policy.loadBalancer;
    if (lb?.simple === 'PASSTHROUGH') warn(`${at}.loadBalancer.simple`, 'PASSTHROUGH (original destination) is not implemented; round-robin is used');
    const ttl = lb?.consistentHash?.httpCookie?.ttl;
    if (ttl !== undefined && parseIstioDuration(ttl) === undefined) warn(`${at}.loadBalancer.consistentHash.httpCookie.ttl`, `expected a duration such as "3600s", found "${ttl}"; the cookie is hashed on when sent but not generated`);
    if (lb?.consistentHash?.maglev !== undefined) warn(`${at}.loadBalancer.consistentHash.maglev`, 'maglev is served as a ring hash');
    if (lb?.localityLbSetting !== undefined) warn(`${at}.loadBalancer.localityLbSetting`, 'not implemented yet; ignored');
    if (policy.tls?.caCertificates !== undefined) warn(`${at}.tls.caCertificates`, 'file paths are not read; use credentialName (a Secret with ca.crt)');
    if (policy.tls?.mode === 'ISTIO_MUTUAL') warn(`${at}.tls.mode`, 'ISTIO_MUTUAL needs the mesh CA (istiod issues the workload certificates), which Isthmus does not have; routes to this host answer 500');
    if (policy.tls?.mode === 'MUTUAL' && policy.tls.credentialName === undefined) warn(`${at}.tls.credentialName`, 'tls.mode MUTUAL needs credentialName (a Secret with the client certificate and key); file paths are not read; routes to this host answer 500');
    if (policy.tunnel !== undefined || policy.proxyProtocol !== undefined || policy.retryBudget !== undefined) warn(at, 'tunnel, proxyProtocol and retryBudget are not implemented; ignored');
    if ('portLevelSettings' in policy) (policy.portLevelSettings ?? []).forEach((p, i) => check(p, `${at}.portLevelSettings[${i}]`));
  };
  check(rule.spec.trafficPolicy, 'spec.trafficPolicy');
  rule.spec.subsets.forEach((s, i) => check(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`));
  if (rule.spec.workloadSelector !== undefined) warn('spec.workloadSelector', 'applies to sidecars only; ignored at the edge');
}
