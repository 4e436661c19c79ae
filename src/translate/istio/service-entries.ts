// ServiceEntry → clusters for hosts outside (or beside) the Kubernetes Service registry. A
// VirtualService destination whose host no Service has is looked up here (destination-rules.ts
// asks), and a DestinationRule whose host a ServiceEntry declares shapes that entry's clusters
// (subsets by endpoint labels, load balancing, upstream TLS, connect timeout, passive health,
// circuit breakers), as it does for a Service.
// Resolution, as Istio defines it for the proxy that forwards:
// - STATIC: the `endpoints` addresses (IPs), each on its `ports[<port name>]`, else the port's
//   `targetPort`, else its number;
// - DNS / DNS_ROUND_ROBIN: the `endpoints` addresses (names or IPs) or, without endpoints, the host
//   itself; a name is resolved by DNS when a connection is made (as an ExternalName Service);
// - NONE: "forward to the address the client connected to"; a gateway has no such address other
//   than its own, so a destination on it answers 500 and says why.
// `location` changes nothing at the edge (it decides mTLS and telemetry in a mesh); `addresses`
// (VIPs a sidecar captures) are not used; `exportTo` is honoured (istio-visibility.ts): an entry
// not exported to the client's namespace (at the edge, the Gateway's) does not exist there, so a
// destination on its hosts answers 500 and says why, with a warning on the entry's spec.exportTo; `workloadSelector` (endpoints from Pods)
// is not implemented: the entry's destinations answer 500.
// Pure: no I/O, no clock.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCluster, IrEndpoint } from '../../ir/types.js';
import { isIP } from 'node:net';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import { refOf, type DestinationRule, type ServiceEntry } from '../../resources/resource.js';
import type { ServiceEntryPort } from '../../resources/istio-kinds.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { DestinationResolution } from './destination-resolution.js';
import { upstreamTlsOf } from './destination-rule-tls.js';
import { atPort, circuitBreakersOf, loadBalancerOf, mergePolicy, passiveHealthOf } from './traffic-policy.js';
import { parseIstioDuration } from './istio-durations.js';
import { istioHostCovers, resolveHost } from './istio-hosts.js';
import { describeExportTo, isExportedTo } from './istio-visibility.js';

export interface ServiceEntryHosts {
  /** Does a ServiceEntry declare this host (as written in `namespace`)? */
  declares(host: string, namespace: string): boolean;
  /** The name DestinationRules for this host are keyed by (the declared host, or the name under a wildcard entry); undefined when none declares it. */
  canonical(host: string, namespace: string): string | undefined;
  /** The namespace of the entry that declares this host, if any. */
  namespaceOf(host: string, namespace: string): string | undefined;
  /**
   * A destination whose host a ServiceEntry declares, used by a proxy in `clientNamespace` → its
   * cluster or why not; undefined when none declares it. `ruleFor` gives the DestinationRule that
   * client uses for a host (canonical) of an entry in a namespace.
   */
  resolve(host: string, subset: string | undefined, port: number | undefined, namespace: string, clientNamespace: string, ruleFor: (host: string, entryNamespace: string) => DestinationRule | undefined, listenerPort?: number): DestinationResolution | undefined;
  /** The clusters destinations resolved to, in name order. */
  clusters(): IrCluster[];
}

interface Declared {
  readonly entry: ServiceEntry;
  /** The host as the entry declares it, resolved (a short name is in the entry's namespace). */
  readonly host: string;
  readonly hostIndex: number;
}

/** HTTP-family protocols the edge forwards; others (TCP, TLS, MONGO, ...) are L4. */
function clusterProtocolOf(port: ServiceEntryPort): IrCluster['protocol'] | undefined {
  const p = (port.protocol ?? 'TCP').toUpperCase();
  if (p === 'HTTP') return 'http1';
  if (p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB') return 'h2c';
  // Istio would send cleartext to an HTTPS port unless a DestinationRule originates TLS; Isthmus
  // never sends cleartext to a port declared HTTPS, and verifies the certificate against the host.
  if (p === 'HTTPS') return 'https';
  return undefined;
}

export function createServiceEntryHosts(index: ResourceIndex, diagnostics: Diagnostic[]): ServiceEntryHosts {
  const exact = new Map<string, Declared>();
  const wildcards: Declared[] = [];
  for (const entry of [...index.serviceEntries].sort(compareByCreation)) {
    const warn = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
      diagnostics.push({ severity, code, object: refOf(entry), source: entry.source, path, message });
    };
    if (entry.spec.workloadSelector !== undefined) warn('error', 'ERR_ISTIO_UNSUPPORTED', 'spec.workloadSelector', 'endpoints selected from Pods are not implemented; destinations on these hosts answer 500');
    if (entry.spec.addresses !== undefined) warn('warning', 'ERR_ISTIO_UNSUPPORTED', 'spec.addresses', 'virtual IPs are captured by sidecars; not used at the edge');
    (entry.spec.endpoints ?? []).forEach((e, k) => {
      const why = endpointProblem(e.address, entry.spec.resolution ?? 'NONE');
      if (why !== undefined) warn('warning', 'ERR_RESOURCE_INVALID', `spec.endpoints[${k}].address`, `${why}; this endpoint is not used`);
    });
    entry.spec.hosts.forEach((raw, i) => {
      // Taken as written, as pilot does for ServiceEntry hosts (no short-name expansion).
      const host = raw.toLowerCase();
      if (host.includes('*') && (entry.spec.resolution === 'DNS' || entry.spec.resolution === 'DNS_ROUND_ROBIN') && (entry.spec.endpoints ?? []).length === 0) {
        warn('error', 'ERR_RESOURCE_INVALID', `spec.hosts[${i}]`, `a wildcard host cannot be resolved by DNS without endpoints; "${raw}" is not declared`);
        return;
      }
      const older = host.includes('*') ? wildcards.find((d) => d.host === host) : exact.get(host);
      if (older) {
        warn('warning', 'ERR_POLICY_CONFLICTED', `spec.hosts[${i}]`, `ServiceEntry ${older.entry.metadata.namespace}/${older.entry.metadata.name} already declares "${host}" (the older one is used)`);
        return;
      }
      const declared = { entry, host, hostIndex: i };
      if (host.includes('*')) wildcards.push(declared);
      else exact.set(host, declared);
    });
  }

  // A destination host as written first (`localhost` names the entry for `localhost`), then
  // expanded in the writer's namespace, as a VirtualService's short names are.
  const find = (host: string, namespace: string): Declared | undefined => {
    const lower = host.toLowerCase();
    const fqdn = resolveHost(host, namespace);
    return exact.get(lower) ?? exact.get(fqdn) ?? wildcards.find((d) => istioHostCovers(d.host, lower) || istioHostCovers(d.host, fqdn));
  };
  /** The name a rule or a destination is keyed by: the declared host, or under a wildcard entry the name written. */
  const keyOf = (declared: Declared, host: string): string => (declared.host.includes('*') ? host.toLowerCase() : declared.host);

  const built = new Map<string, IrCluster>();

  const toldHidden = new Set<string>();
  const resolve = (host: string, subset: string | undefined, port: number | undefined, namespace: string, clientNamespace: string, ruleFor: (host: string, entryNamespace: string) => DestinationRule | undefined, listenerPort?: number): DestinationResolution | undefined => {
    const declared = find(host, namespace);
    if (!declared) return undefined;
    const { entry } = declared;
    const entryNs = entry.metadata.namespace ?? 'default';
    const label = `ServiceEntry ${entryNs}/${entry.metadata.name}`;
    if (!isExportedTo(entry.spec.exportTo, entryNs, clientNamespace)) {
      if (!toldHidden.has(`${entryNs}/${entry.metadata.name}|${clientNamespace}`)) {
        toldHidden.add(`${entryNs}/${entry.metadata.name}|${clientNamespace}`);
        diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_NOT_EXPORTED', object: refOf(entry), source: entry.source, path: 'spec.exportTo', message: `not exported to namespace ${clientNamespace} (${describeExportTo(entry.spec.exportTo)}); its hosts are unknown to clients there` });
      }
      return { kind: 'error', code: 'ERR_BACKEND_SERVICE_NOT_FOUND', message: `${label} declares "${host}" but is not exported to namespace ${clientNamespace} (its spec.exportTo)` };
    }
    if (entry.spec.workloadSelector !== undefined) return { kind: 'error', code: 'ERR_ISTIO_UNSUPPORTED', message: `${label} selects workloads (workloadSelector), which is not implemented` };
    const resolution = entry.spec.resolution ?? 'NONE';
    if (resolution === 'NONE') {
      return { kind: 'error', code: 'ERR_ISTIO_UNSUPPORTED', message: `${label} has resolution NONE (forward to the address the client connected to), which has no meaning at a gateway; use STATIC or DNS` };
    }
    const ports = entry.spec.ports;
    let sePort = port !== undefined ? ports.find((p) => p.number === port) : ports.length === 1 ? ports[0] : ports.find((p) => p.number === listenerPort);
    if (!sePort) {
      const have = ports.map((p) => p.number).join(', ') || 'none';
      return { kind: 'error', code: 'ERR_BACKEND_PORT_NOT_FOUND', message: port !== undefined ? `${label} has no port ${port} (ports: ${have})` : `${label} has ${ports.length} ports (${have}); destination.port.number must say which` };
    }
    const baseProtocol = clusterProtocolOf(sePort);
    if (baseProtocol === undefined) return { kind: 'error', code: 'ERR_ISTIO_UNSUPPORTED', message: `${label} port ${sePort.number} is ${sePort.protocol ?? 'TCP'}, not an HTTP protocol (HTTP, HTTP2, GRPC, HTTPS); L4 is not implemented` };
    // Wildcard entries: the destination's own host is the name to connect to (DNS) or to verify (TLS).
    const connectHost = keyOf(declared, host);
    const rule = ruleFor(connectHost, entryNs);
    const subsetSpec = subset === undefined ? undefined : rule?.spec.subsets.find((s) => s.name === subset);
    if (subset !== undefined && !subsetSpec) {
      return {
        kind: 'error',
        code: 'ERR_BACKEND_SUBSET_NOT_FOUND',
        message: rule ? `subset "${subset}" is not defined by DestinationRule ${rule.metadata.namespace}/${rule.metadata.name}` : `subset "${subset}" needs a DestinationRule for "${connectHost}", and there is none`,
      };
    }
    const policy = rule ? mergePolicy(atPort(rule.spec.trafficPolicy, sePort.number), atPort(subsetSpec?.trafficPolicy, sePort.number)) : {};
    if (policy.tls?.mode === 'MUTUAL' || policy.tls?.mode === 'ISTIO_MUTUAL') {
      return { kind: 'error', code: 'ERR_BACKEND_TLS_INVALID', message: `DestinationRule ${rule!.metadata.namespace}/${rule!.metadata.name} asks for tls.mode ${policy.tls.mode}, which is not implemented here; never sent unencrypted or unverified` };
    }
    const seName = `serviceentry/${entryNs}/${entry.metadata.name}/${connectHost}/${sePort.number}`;
    const name = rule ? `destinationrule/${rule.metadata.namespace}/${rule.metadata.name}/${seName}${subsetSpec ? `/subset/${subsetSpec.name}` : ''}` : seName;
    if (built.has(name)) return { kind: 'ok', cluster: name };

    let endpoints = endpointsOf(entry, sePort, connectHost, resolution);
    if (subsetSpec) endpoints = endpoints.filter((e) => Object.entries(subsetSpec.labels).every(([k, v]) => e.labels?.[k] === v));
    if (endpoints.length === 0) {
      diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_NO_ENDPOINTS', object: refOf(entry), source: entry.source, path: 'spec.endpoints', message: `no endpoint for "${connectHost}" port ${sePort.number}${subsetSpec ? ` with the labels of subset "${subsetSpec.name}"` : ''}; requests to it get 503` });
    }
    // A DestinationRule SIMPLE TLS originates TLS; its SNI defaults to the host (not a Service name).
    const tls = rule && policy.tls?.mode === 'SIMPLE' ? upstreamTlsOf({ ...policy.tls, sni: policy.tls.sni ?? connectHost }, { rule }, index, diagnostics) : undefined;
    const protocol: IrCluster['protocol'] = tls === undefined ? baseProtocol : baseProtocol === 'http1' ? 'https' : baseProtocol === 'h2c' ? 'h2' : baseProtocol;
    const entryTls = protocol === 'https' || protocol === 'h2' ? { serverName: connectHost, verification: { kind: 'verify' as const, ...(entry.spec.subjectAltNames ? { subjectAltNames: entry.spec.subjectAltNames.map((v) => ({ kind: v.includes('://') ? ('uri' as const) : ('dns' as const), value: v })) } : {}) } } : undefined;
    const connectTimeoutMs = parseIstioDuration(String(policy.connectionPool?.tcp?.connectTimeout ?? '')) ?? DEFAULT_CONNECT_TIMEOUT_MS;
    built.set(name, {
      name,
      origin: refOf(rule ?? entry),
      protocol,
      ...((tls ?? entryTls) !== undefined ? { tls: (tls ?? entryTls)! } : {}),
      lb: loadBalancerOf(policy) ?? { kind: 'round-robin' },
      endpoints: endpoints.map(({ labels: _labels, ...e }) => e),
      connectTimeoutMs,
      passiveHealth: passiveHealthOf(policy) ?? DEFAULT_PASSIVE_HEALTH,
      ...circuitBreakersOf(policy, undefined),
    });
    return { kind: 'ok', cluster: name };
  };

  return {
    declares: (host, namespace) => find(host, namespace) !== undefined,
    namespaceOf: (host, namespace) => {
      const declared = find(host, namespace);
      return declared ? (declared.entry.metadata.namespace ?? 'default') : undefined;
    },
    canonical: (host, namespace) => {
      const declared = find(host, namespace);
      return declared ? keyOf(declared, host) : undefined;
    },
    resolve,
    clusters: () => [...built.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

type LabelledEndpoint = IrEndpoint & { readonly labels?: Readonly<Record<string, string>> };

function endpointsOf(entry: ServiceEntry, port: ServiceEntryPort, host: string, resolution: 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN'): LabelledEndpoint[] {
  const listed = entry.spec.endpoints ?? [];
  const portOf = (ports: Readonly<Record<string, number>> | undefined): number => ports?.[port.name] ?? port.targetPort ?? port.number;
  // DNS without endpoints: the host itself, resolved when a connection is made.
  if (listed.length === 0) return resolution === 'STATIC' ? [] : [{ address: host, port: portOf(undefined), weight: 1 }];
  return listed.flatMap((e): LabelledEndpoint[] => {
    if (e.address === undefined || endpointProblem(e.address, resolution) !== undefined || e.weight === 0) return [];
    return [{ address: e.address, port: portOf(e.ports), weight: e.weight ?? 1, ...(e.labels ? { labels: e.labels } : {}) }];
  });
}

/** Why an endpoint address cannot be used (reported once per entry), or undefined. */
function endpointProblem(address: string | undefined, resolution: string): string | undefined {
  if (address === undefined) return 'an endpoint without an address (a network-only endpoint) cannot be reached from the edge';
  if (address.startsWith('unix://')) return 'unix-domain socket endpoints are not implemented';
  // Istio's validation: STATIC endpoints are IP addresses; DNS ones may be names.
  if (resolution === 'STATIC' && isIP(address) === 0) return `resolution STATIC needs an IP address, found "${address}"`;
  return undefined;
}
