// What kube-proxy programs, as data: one entry per Service port and IP family, with the Service's
// virtual addresses (cluster IP, node port, external and load-balancer IPs), its traffic policies
// and session affinity, and every endpoint of its EndpointSlices with the conditions kube-proxy
// reads. The renderers (iptables, nftables, ipvs), `kube-proxy apply`, the L4 listeners of
// NodePort / LoadBalancer Services and `explain` all start from this one reading, so they agree.
// Pure: a ResourceIndex in, ports and diagnostics out.
import { sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import type { EndpointSlice } from '../resources/endpoint-slice.js';
import type { Service, ServicePort } from '../resources/service.js';
import type { ResourceIndex } from '../store/resource-index.js';
import { namespacedKey } from '../store/resource-index.js';
import { compareByCreation } from '../resources/creation-order.js';

export type IpFamily = 'IPv4' | 'IPv6';
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

/** kube-proxy's default `--service-node-port-range` (the API server's too). */
export const DEFAULT_NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export interface KpEndpoint {
  readonly address: string;
  /** The EndpointSlice port for this Service port (the targetPort, resolved). */
  readonly port: number;
  /** `ready` absent means ready (EndpointSlice API). */
  readonly ready: boolean;
  /** `serving` absent means the value of ready. */
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  /** `pod/<ns>/<name>` when the endpoint names a Pod. */
  readonly target?: string;
}

export interface KpServicePort {
  readonly namespace: string;
  readonly service: string;
  /** The Service port's name; '' for a Service's single unnamed port. */
  readonly portName: string;
  /** kube-proxy's ServicePortName string: `ns/svc:port`, or `ns/svc` for an unnamed port. */
  readonly servicePortName: string;
  readonly protocol: L4Protocol;
  readonly family: IpFamily;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** Undefined for a headless Service (`None`) or one without an allocated address. */
  readonly clusterIP: string | undefined;
  readonly port: number;
  /** Only for NodePort and LoadBalancer Services, and only when valid (diagnostics say otherwise). */
  readonly nodePort: number | undefined;
  readonly externalIPs: readonly string[];
  /** From `status.loadBalancer.ingress[].ip` (and the deprecated `spec.loadBalancerIP` when no status). */
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly sessionAffinity: { readonly kind: 'None' } | { readonly kind: 'ClientIP'; readonly timeoutSeconds: number };
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly healthCheckNodePort: number | undefined;
  /** Every endpoint of the port's family, in slice then endpoint order. */
  readonly endpoints: readonly KpEndpoint[];
}

export interface ServicePortsResult {
  readonly ports: readonly KpServicePort[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface ServicePortsOptions {
  readonly nodePortRange?: { readonly min: number; readonly max: number };
  /**
   * Reuse between calls (`kube-proxy apply`): a Service whose object, EndpointSlice objects and
   * node ports are the same as last time keeps the same KpServicePort objects, so the renderers'
   * per-port caches and the diffs can skip it by identity. The file source hands unchanged files'
   * objects over as the same objects. The output is the same with or without it.
   */
  readonly memo?: ServicePortsMemo;
}

interface MemoEntry {
  readonly svc: Service;
  readonly slices: readonly EndpointSlice[];
  readonly nodePorts: readonly (number | undefined)[];
  readonly ports: readonly KpServicePort[];
}

/** What collectServicePorts keeps between calls: per Service, its inputs and the ports built from them. */
export class ServicePortsMemo {
  entries = new Map<Service, MemoEntry>();
}

function sameInputs(e: MemoEntry | undefined, slices: readonly EndpointSlice[], nodePorts: readonly (number | undefined)[]): e is MemoEntry {
  return e !== undefined && e.slices.length === slices.length && e.slices.every((s, i) => s === slices[i]) && e.nodePorts.every((n, i) => n === nodePorts[i]);
}

/** Kubernetes' default for ClientIP affinity (`sessionAffinityConfig.clientIP.timeoutSeconds`). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

export function familyOf(address: string): IpFamily {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * The Service ports kube-proxy would program, sorted by namespace, Service, port name and family.
 * ExternalName Services have no rules; a Service whose nodePort is invalid keeps its other rules.
 */
export function collectServicePorts(index: ResourceIndex, options: ServicePortsOptions = {}): ServicePortsResult {
  const range = options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  const diagnostics: Diagnostic[] = [];
  const ports: KpServicePort[] = [];
  // Node ports are one namespace across Services: the older Service keeps a contested one.
  const nodePortOwner = new Map<string, string>();
  const services = [...index.services.values()].sort(compareByCreation);
  // Only this call's Services are kept: a deleted one's entry goes.
  const next = options.memo !== undefined ? new Map<Service, MemoEntry>() : undefined;
  for (const svc of services) {
    if (svc.spec.type === 'ExternalName') continue;
    const families = familiesOf(svc);
    const namespace = svc.metadata.namespace ?? 'default';
    const slices = index.endpointSlicesByService.get(namespacedKey(namespace, svc.metadata.name)) ?? [];
    reportFamilyMismatches(svc, slices, families, diagnostics);
    // Checked for every Service every time: a node port's owner depends on the other Services.
    const nodePorts = svc.spec.ports.map((sp, i) => checkNodePort(svc, sp, i, range, nodePortOwner, diagnostics));
    const known = options.memo?.entries.get(svc);
    if (sameInputs(known, slices, nodePorts)) {
      ports.push(...known.ports);
      next?.set(svc, known);
      continue;
    }
    const built: KpServicePort[] = [];
    svc.spec.ports.forEach((sp, i) => {
      for (const family of families) built.push(servicePort(svc, sp, family, nodePorts[i], slices));
    });
    ports.push(...built);
    next?.set(svc, { svc, slices, nodePorts, ports: built });
  }
  if (options.memo !== undefined && next !== undefined) options.memo.entries = next;
  ports.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.service, b.service) || cmp(a.portName, b.portName) || cmp(a.protocol, b.protocol) || cmp(a.family, b.family));
  return { ports, diagnostics: sortDiagnostics(diagnostics) };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The Service's families: `ipFamilies`, else those of its cluster IPs, else IPv4 (a single-stack default). */
function familiesOf(svc: Service): readonly IpFamily[] {
  if (svc.spec.ipFamilies !== undefined && svc.spec.ipFamilies.length > 0) return [...new Set(svc.spec.ipFamilies)];
  const ips = clusterIPsOf(svc);
  if (ips.length > 0) return [...new Set(ips.map(familyOf))];
  return ['IPv4'];
}

function clusterIPsOf(svc: Service): readonly string[] {
  const ips = svc.spec.clusterIPs ?? (svc.spec.clusterIP !== undefined ? [svc.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== 'None' && ip !== '');
}

function servicePort(svc: Service, sp: ServicePort, family: IpFamily, nodePort: number | undefined, slices: readonly EndpointSlice[]): KpServicePort {
  const namespace = svc.metadata.namespace ?? 'default';
  const portName = sp.name ?? '';
  const protocol = sp.protocol as L4Protocol;
  const lbStatus = (svc.status?.loadBalancer.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => ip !== undefined);
  const lbIPs = lbStatus.length > 0 ? lbStatus : svc.spec.loadBalancerIP !== undefined ? [svc.spec.loadBalancerIP] : [];
  const affinity = svc.spec.sessionAffinity === 'ClientIP' ? { kind: 'ClientIP' as const, timeoutSeconds: svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS } : { kind: 'None' as const };
  const external = svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer';
  return {
    namespace,
    service: svc.metadata.name,
    portName,
    servicePortName: `${namespace}/${svc.metadata.name}${portName === '' ? '' : `:${portName}`}`,
    protocol,
    family,
    type: svc.spec.type === 'ExternalName' ? 'ClusterIP' : svc.spec.type,
    clusterIP: clusterIPsOf(svc).find((ip) => familyOf(ip) === family),
    port: sp.port,
    nodePort,
    externalIPs: (svc.spec.externalIPs ?? []).filter((ip) => familyOf(ip) === family),
    loadBalancerIPs: svc.spec.type === 'LoadBalancer' ? lbIPs.filter((ip) => familyOf(ip) === family) : [],
    loadBalancerSourceRanges: (svc.spec.loadBalancerSourceRanges ?? []).filter((r) => familyOf(r) === family),
    sessionAffinity: affinity,
    // The API defaults externalTrafficPolicy to Cluster only for Services with external addresses.
    externalTrafficPolicy: external || (svc.spec.externalIPs ?? []).length > 0 ? (svc.spec.externalTrafficPolicy ?? 'Cluster') : 'Cluster',
    internalTrafficPolicy: svc.spec.internalTrafficPolicy ?? 'Cluster',
    healthCheckNodePort: svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local' ? svc.spec.healthCheckNodePort : undefined,
    endpoints: endpointsOf(slices, portName, protocol, family, namespace),
  };
}

function endpointsOf(slices: readonly EndpointSlice[], portName: string, protocol: string, family: IpFamily, namespace: string): KpEndpoint[] {
  const out: KpEndpoint[] = [];
  for (const slice of slices) {
    if (slice.addressType !== family) continue;
    const port = slice.ports.find((p) => (p.name ?? '') === portName && p.protocol === protocol)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints) {
      const address = ep.addresses[0];
      if (address === undefined || familyOf(address) !== family) continue;
      const ready = ep.conditions.ready !== false;
      const ref = ep.targetRef;
      out.push({
        address,
        port,
        ready,
        serving: ep.conditions.serving ?? ready,
        terminating: ep.conditions.terminating === true,
        ...(ep.nodeName !== undefined ? { nodeName: ep.nodeName } : {}),
        ...(ep.zone !== undefined ? { zone: ep.zone } : {}),
        ...(ref !== undefined && (ref.kind === undefined || ref.kind === 'Pod') ? { target: `pod/${ref.namespace ?? namespace}/${ref.name}` } : {}),
      });
    }
  }
  return out;
}

function checkNodePort(svc: Service, sp: ServicePort, i: number, range: { min: number; max: number }, owner: Map<string, string>, diagnostics: Diagnostic[]): number | undefined {
  if (svc.spec.type !== 'NodePort' && svc.spec.type !== 'LoadBalancer') return undefined;
  const nodePort = sp.nodePort;
  if (nodePort === undefined) return undefined;
  const object = { group: '', kind: 'Service', namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name };
  const path = `spec.ports[${i}].nodePort`;
  if (nodePort < range.min || nodePort > range.max) {
    diagnostics.push({ severity: 'error', code: 'ERR_SERVICE_NODE_PORT_INVALID', object, source: svc.source, path, message: `nodePort ${nodePort} is outside the node-port range ${range.min}-${range.max}; this port gets no node-port rules` });
    return undefined;
  }
  const key = `${sp.protocol}/${nodePort}`;
  const me = `${object.namespace}/${object.name}`;
  const taken = owner.get(key);
  if (taken !== undefined && taken !== me) {
    diagnostics.push({ severity: 'error', code: 'ERR_SERVICE_NODE_PORT_INVALID', object, source: svc.source, path, message: `nodePort ${nodePort}/${sp.protocol} is already taken by Service ${taken}; this port gets no node-port rules` });
    return undefined;
  }
  if (taken === me) {
    diagnostics.push({ severity: 'error', code: 'ERR_SERVICE_NODE_PORT_INVALID', object, source: svc.source, path, message: `nodePort ${nodePort}/${sp.protocol} is used twice in this Service; only the first port gets it` });
    return undefined;
  }
  owner.set(key, me);
  return nodePort;
}

function reportFamilyMismatches(svc: Service, slices: readonly EndpointSlice[], families: readonly IpFamily[], diagnostics: Diagnostic[]): void {
  for (const slice of slices) {
    if (slice.addressType === 'FQDN' || families.includes(slice.addressType)) continue;
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_ENDPOINT_FAMILY_MISMATCH',
      object: { group: 'discovery.k8s.io', kind: 'EndpointSlice', namespace: slice.metadata.namespace ?? 'default', name: slice.metadata.name },
      source: slice.source,
      path: 'addressType',
      message: `${slice.addressType} endpoints for Service ${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}, whose families are ${families.join(', ')}: left out`,
    });
  }
}
