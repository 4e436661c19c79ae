// NodePort and LoadBalancer Services as L4 listeners (`isthmus run --serve-services`): what
// userspace kube-proxy did, with a choice of scheduler and a retry on a failed connect that the
// kernel's rules cannot give. Each Service port with a node port gets a listener on the node
// address at that port; a LoadBalancer Service's load-balancer addresses and any Service's external
// IPs get one at the Service port. The endpoints are kube-proxy's (service-ports.ts): ready ones,
// else those that are terminating but still serving; with externalTrafficPolicy Local only this
// node's (`--node-name`). Pure: the kube-proxy model in, IR and diagnostics out.
import type { Diagnostic } from '../../core/diagnostic.js';
import { L4_DEFAULTS, L4_SCHEDULERS, type IrL4Endpoint, type IrL4Listener, type IrL4Scheduler } from '../../ir/l4.js';
import { categorizeEndpoints, isExternalPolicyLocal } from '../../kubeproxy/iptables-endpoints.js';
import { collectServicePorts, familyOf, type KpEndpoint, type KpServicePort } from '../../kubeproxy/service-ports.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { Service } from '../../resources/service.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';

/** Chooses the scheduler of a Service's L4 listeners: one of L4_SCHEDULERS (`rr` by default). */
export const L4_SCHEDULER_ANNOTATION = 'isthmus.dev/l4-scheduler';
/** `v1` or `v2`: the backends want a PROXY protocol header first. */
export const PROXY_PROTOCOL_ANNOTATION = 'isthmus.dev/proxy-protocol';

/** An `isthmus.dev/l4-scheduler` value, or undefined when it names no scheduler. */
export function parseL4Scheduler(value: string | undefined): IrL4Scheduler | undefined {
  return value !== undefined && (L4_SCHEDULERS as readonly string[]).includes(value) ? (value as IrL4Scheduler) : undefined;
}

export interface ServiceListenerOptions {
  /** Where node ports bind (`--node-address`, default 0.0.0.0). */
  readonly nodeAddress: string;
  /** This node (`--node-name`): externalTrafficPolicy Local keeps traffic on its endpoints. */
  readonly nodeName?: string;
}

export function translateServiceListeners(index: ResourceIndex, options: ServiceListenerOptions, diagnostics: Diagnostic[]): IrL4Listener[] {
  const { ports, diagnostics: found } = collectServicePorts(index);
  diagnostics.push(...found);
  const listeners: IrL4Listener[] = [];
  const warned = new Set<string>();
  // The bind step gives a contested address to the first listener: the older Service's.
  const age = new Map([...index.services.values()].sort(compareByCreation).map((s, i) => [namespacedKey(s.metadata.namespace, s.metadata.name), i]));
  const byAge = [...ports].sort((a, b) => age.get(namespacedKey(a.namespace, a.service))! - age.get(namespacedKey(b.namespace, b.service))!);
  for (const sp of byAge) {
    const service = index.services.get(namespacedKey(sp.namespace, sp.service));
    if (service === undefined) continue;
    const addresses = listenAddresses(sp, options);
    if (addresses.length === 0) continue;
    if (sp.protocol === 'SCTP') {
      warnOnce(warned, diagnostics, service, 'spec.ports', `port ${sp.port}/SCTP: SCTP is not proxied (TCP and UDP are); no listener`);
      continue;
    }
    const settings = listenerSettings(service, sp, warned, diagnostics);
    const backend = { name: `service/${sp.namespace}/${sp.service}/${sp.port}`, weight: 1, endpoints: usableEndpoints(sp, options.nodeName), ...(settings.proxyProtocol !== undefined ? { proxyProtocol: settings.proxyProtocol } : {}) };
    for (const { address, port, kind } of addresses) {
      const name = `service/${sp.namespace}/${sp.service}/${sp.portName === '' ? sp.port : sp.portName}/${kind}/${address}`;
      listeners.push({
        name,
        origin: { group: '', kind: 'Service', namespace: sp.namespace, name: sp.service },
        address,
        port,
        protocol: sp.protocol,
        routes: [{ name, sniHosts: [], backends: [backend] }],
        scheduler: settings.scheduler,
        idleTimeoutMs: sp.protocol === 'UDP' ? L4_DEFAULTS.udpIdleTimeoutMs : L4_DEFAULTS.idleTimeoutMs,
        connectTimeoutMs: L4_DEFAULTS.connectTimeoutMs,
        drainTimeoutMs: L4_DEFAULTS.drainTimeoutMs,
      });
    }
  }
  return listeners;
}

function listenAddresses(sp: KpServicePort, options: ServiceListenerOptions): { address: string; port: number; kind: 'nodeport' | 'loadbalancer' | 'external' }[] {
  const out: { address: string; port: number; kind: 'nodeport' | 'loadbalancer' | 'external' }[] = [];
  // The node address has one family; the other family's node port has nowhere to bind.
  if (sp.nodePort !== undefined && (isWildcard(options.nodeAddress) ? sp.family === 'IPv4' || options.nodeAddress === '::' : familyOf(options.nodeAddress) === sp.family)) {
    out.push({ address: options.nodeAddress, port: sp.nodePort, kind: 'nodeport' });
  }
  for (const ip of sp.loadBalancerIPs) out.push({ address: ip, port: sp.port, kind: 'loadbalancer' });
  for (const ip of sp.externalIPs) if (!sp.loadBalancerIPs.includes(ip)) out.push({ address: ip, port: sp.port, kind: 'external' });
  return out;
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * kube-proxy's choice of endpoints for external traffic (iptables-endpoints.ts, shared with the
 * renderers): ready ones, else the terminating ones that still serve (KEP-1669); with
 * externalTrafficPolicy Local and a known node, only that node's.
 */
export function usableEndpoints(sp: KpServicePort, nodeName: string | undefined): IrL4Endpoint[] {
  const categories = categorizeEndpoints(sp, nodeName);
  const chosen = isExternalPolicyLocal(sp) && nodeName !== undefined ? categories.local : categories.cluster;
  return chosen.map(toIrL4Endpoint);
}

function toIrL4Endpoint(e: KpEndpoint): IrL4Endpoint {
  return e.target === undefined ? { address: e.address, port: e.port } : { address: e.address, port: e.port, target: e.target };
}

function listenerSettings(service: Service, sp: KpServicePort, warned: Set<string>, diagnostics: Diagnostic[]): { scheduler: IrL4Scheduler; proxyProtocol?: 'v1' | 'v2' } {
  const annotations = service.metadata.annotations;
  // ClientIP affinity keeps a client on one endpoint: the source-hash scheduler does that.
  let scheduler: IrL4Scheduler = sp.sessionAffinity.kind === 'ClientIP' ? 'sh' : L4_DEFAULTS.scheduler;
  const wanted = annotations[L4_SCHEDULER_ANNOTATION];
  if (wanted !== undefined) {
    const parsed = parseL4Scheduler(wanted);
    if (parsed !== undefined) scheduler = parsed;
    else warnOnce(warned, diagnostics, service, `metadata.annotations["${L4_SCHEDULER_ANNOTATION}"]`, `unknown scheduler "${wanted}" (expected one of ${L4_SCHEDULERS.join(', ')}); using ${scheduler}`);
  }
  const proxy = annotations[PROXY_PROTOCOL_ANNOTATION];
  if (proxy === undefined) return { scheduler };
  if (proxy === 'v1' || proxy === 'v2') return { scheduler, proxyProtocol: proxy };
  warnOnce(warned, diagnostics, service, `metadata.annotations["${PROXY_PROTOCOL_ANNOTATION}"]`, `"${proxy}" is not a PROXY protocol version (expected v1 or v2); no header is sent`);
  return { scheduler };
}

function warnOnce(warned: Set<string>, diagnostics: Diagnostic[], service: Service, path: string, message: string): void {
  const key = `${service.metadata.namespace}/${service.metadata.name}/${path}/${message}`;
  if (warned.has(key)) return;
  warned.add(key);
  diagnostics.push({
    severity: 'warning',
    code: 'ERR_L4_SERVICE_INVALID',
    object: { group: '', kind: 'Service', namespace: service.metadata.namespace ?? 'default', name: service.metadata.name },
    source: service.source,
    path,
    message,
  });
}
