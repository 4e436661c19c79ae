// `isthmus lb`: the LoadBalancer a self-built cluster lacks. For every port of every Service of
// type LoadBalancer whose `spec.loadBalancerClass` is ours or unset, an L4 listener on the
// Service's load-balancer address (its status, else `spec.loadBalancerIP`, else the lb's
// `--listen-address`; in Kubernetes mode the status is our output, so it is not read) at the
// Service port, sending to the
// node port on every node that passes its health check, as a cloud load balancer does. The health
// check is what kube-proxy offers: with externalTrafficPolicy Local, HTTP GET /healthz on the
// Service's healthCheckNodePort (200 only on nodes with a local endpoint); otherwise a TCP connect
// to the node port. Pure: resources and the health verdicts in, listeners and what to check out.
import type { Diagnostic } from '../../core/diagnostic.js';
import { L4_DEFAULTS, type IrL4Listener } from '../../ir/l4.js';
import { collectServicePorts, familyOf, type KpServicePort } from '../../kubeproxy/service-ports.js';
import type { Node } from '../../resources/node.js';
import type { Service } from '../../resources/service.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { L4_SCHEDULER_ANNOTATION, parseL4Scheduler } from './service-l4-listeners.js';

/** Nodes with this label are left out of load balancers (the Kubernetes well-known label). */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** The class `isthmus lb` serves besides Services with no class (`--load-balancer-class`). */
export const DEFAULT_LOAD_BALANCER_CLASS = 'isthmus.dev/lb';

/**
 * KEP-1959: a Service with a `loadBalancerClass` belongs to the implementation watching for that
 * class, and the default implementation leaves it alone; one without a class is the default's.
 * `isthmus lb` takes both its own class and no class (as kube-vip does by default; MetalLB with
 * `--lb-class` takes only its own).
 */
export function isServedClass(service: Service, loadBalancerClass: string): boolean {
  const cls = service.spec.loadBalancerClass;
  return cls === undefined || cls === loadBalancerClass;
}

export interface LbNode {
  readonly name: string;
  readonly address: string;
}

/** One health check: a node's node port (TCP) or its kube-proxy health port (HTTP /healthz). */
export interface LbHealthTarget {
  /** `<node>|<kind>|<port>[|path]`: the key of the verdict. */
  readonly key: string;
  readonly node: string;
  readonly address: string;
  readonly port: number;
  readonly check: { readonly kind: 'tcp' } | { readonly kind: 'http'; readonly path: string } | { readonly kind: 'none' };
}

export interface LoadBalancerOptions {
  /** Nodes named on the command line; Node objects of the config add to them. */
  readonly nodes: readonly LbNode[];
  /** Where a Service without a load-balancer address listens. */
  readonly listenAddress: string;
  /** Health verdicts by target key; a target not yet checked counts as healthy (a new lb serves at once). */
  readonly healthy: (key: string) => boolean | undefined;
  /** Default DEFAULT_LOAD_BALANCER_CLASS. */
  readonly loadBalancerClass?: string;
  /**
   * Whether `status.loadBalancer.ingress` names the address to listen on (default true: in folder
   * mode the status is input). Kubernetes mode passes false: there the lb writes the status (an
   * `--advertise-address` for a wildcard listener), and reading it back would move the listener.
   */
  readonly addressFromStatus?: boolean;
}

export interface LoadBalancerPlan {
  readonly listeners: IrL4Listener[];
  readonly targets: LbHealthTarget[];
  readonly nodes: readonly LbNode[];
}

export function planLoadBalancer(index: ResourceIndex, options: LoadBalancerOptions, diagnostics: Diagnostic[]): LoadBalancerPlan {
  const nodes = mergeNodes(options.nodes, [...index.nodes.values()]);
  const cls = options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS;
  const isServed = (namespace: string | undefined, name: string): boolean => {
    const service = index.services.get(namespacedKey(namespace, name));
    return service !== undefined && service.spec.type === 'LoadBalancer' && isServedClass(service, cls);
  };
  const { ports, diagnostics: portDiagnostics } = collectServicePorts(index);
  // A node port that is invalid or taken leaves that port unserved: say so for the Services we serve.
  diagnostics.push(...portDiagnostics.filter((d) => d.object?.kind === 'Service' && isServed(d.object.namespace, d.object.name)));
  const listeners: IrL4Listener[] = [];
  const targets = new Map<string, LbHealthTarget>();
  for (const sp of ports) {
    if (sp.type !== 'LoadBalancer' || sp.nodePort === undefined || sp.protocol === 'SCTP') continue;
    const service = index.services.get(namespacedKey(sp.namespace, sp.service));
    if (service === undefined || !isServed(sp.namespace, sp.service)) continue;
    const specIP = service.spec.loadBalancerIP !== undefined && familyOf(service.spec.loadBalancerIP) === sp.family ? service.spec.loadBalancerIP : undefined;
    const declared = options.addressFromStatus === false ? specIP : sp.loadBalancerIPs[0];
    const address = declared ?? (familyOf(options.listenAddress) === sp.family ? options.listenAddress : undefined);
    if (address === undefined) continue;
    const endpoints = [];
    for (const node of nodes) {
      if (familyOf(node.address) !== sp.family) continue;
      const target = healthTarget(node, sp);
      targets.set(target.key, target);
      if (options.healthy(target.key) === false) continue;
      endpoints.push({ address: node.address, port: sp.nodePort, target: `node/${node.name}` });
    }
    const name = `lb/${sp.namespace}/${sp.service}/${sp.portName === '' ? sp.port : sp.portName}`;
    const scheduler = parseL4Scheduler(service.metadata.annotations[L4_SCHEDULER_ANNOTATION]) ?? L4_DEFAULTS.scheduler;
    listeners.push({
      name,
      origin: { group: '', kind: 'Service', namespace: sp.namespace, name: sp.service },
      address,
      port: sp.port,
      protocol: sp.protocol,
      routes: [{ name, sniHosts: [], backends: [{ name: `service/${sp.namespace}/${sp.service}/${sp.port}/nodeports`, weight: 1, endpoints }] }],
      scheduler,
      idleTimeoutMs: sp.protocol === 'UDP' ? L4_DEFAULTS.udpIdleTimeoutMs : L4_DEFAULTS.idleTimeoutMs,
      connectTimeoutMs: L4_DEFAULTS.connectTimeoutMs,
      drainTimeoutMs: L4_DEFAULTS.drainTimeoutMs,
    });
  }
  if (nodes.length === 0 && listeners.length > 0) {
    diagnostics.push({ severity: 'warning', code: 'ERR_LB_NO_NODES', message: 'no nodes: name them with --node NAME=ADDRESS or add Node objects to the config; every load balancer has no backend' });
  }
  return { listeners, targets: [...targets.values()], nodes };
}

function healthTarget(node: LbNode, sp: KpServicePort): LbHealthTarget {
  // kube-proxy's health server answers 200 on a Local Service's health port only on nodes with a
  // ready local endpoint: the load balancer then skips nodes that would drop the traffic.
  if (sp.externalTrafficPolicy === 'Local' && sp.healthCheckNodePort !== undefined) {
    return { key: `${node.name}|http|${sp.healthCheckNodePort}|/healthz`, node: node.name, address: node.address, port: sp.healthCheckNodePort, check: { kind: 'http', path: '/healthz' } };
  }
  if (sp.protocol === 'UDP') {
    // A UDP port cannot be probed by connecting (no answer means nothing), and a TCP check of
    // another port would be a guess: such nodes are not checked and count as healthy (docs/l4.md).
    return { key: `${node.name}|udp|${sp.nodePort}`, node: node.name, address: node.address, port: sp.nodePort!, check: { kind: 'none' } };
  }
  return { key: `${node.name}|tcp|${sp.nodePort}`, node: node.name, address: node.address, port: sp.nodePort!, check: { kind: 'tcp' } };
}

/** Command-line nodes first, then Node objects (InternalIP, else ExternalIP), minus excluded ones. */
export function mergeNodes(named: readonly LbNode[], objects: readonly Node[]): LbNode[] {
  const out = [...named];
  for (const n of [...objects].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (out.some((o) => o.name === n.metadata.name)) continue;
    if (n.metadata.labels[EXCLUDE_FROM_LB_LABEL] !== undefined) continue;
    const address = n.addresses.find((a) => a.type === 'InternalIP')?.address ?? n.addresses.find((a) => a.type === 'ExternalIP')?.address;
    if (address !== undefined) out.push({ name: n.metadata.name, address });
  }
  return out;
}
