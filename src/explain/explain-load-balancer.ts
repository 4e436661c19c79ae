// The hop in front of the nodes: a connection to a LoadBalancer Service's address, as `isthmus lb`
// serves it (planLoadBalancer): the lb sends it to the Service's node port on a node that passes
// its health check, and kube-proxy's rules on that node take over. For traffic policy Local the
// health check is kube-proxy's /healthz on healthCheckNodePort, which fails on nodes without a
// ready local endpoint, so only nodes with one are in rotation; the explanation follows the first
// node in rotation (the others have the same rules, or for Local, their own local endpoints).
import { categorizeEndpoints, isExternalPolicyLocal } from '../kubeproxy/iptables-endpoints.js';
import type { KpServicePort } from '../kubeproxy/service-ports.js';
import type { ExplainStep } from './explain-step.js';

export interface LbNode {
  readonly name: string;
  readonly address: string;
}

export interface LoadBalancerHop {
  readonly step: ExplainStep;
  /** Where the lb sends the connection next: a node's address and the node port, with the node's name. */
  readonly next?: { readonly address: string; readonly port: number; readonly nodeName: string };
}

/** Undefined when the address is no LoadBalancer Service's load-balancer address (the path starts elsewhere). */
export function explainLoadBalancerHop(
  ports: readonly KpServicePort[],
  probe: { readonly address: string; readonly port: number; readonly protocol: 'TCP' | 'UDP' },
  nodes: readonly LbNode[],
  /** Whether the lb serves this Service (its `spec.loadBalancerClass`); default: every one. */
  served: (namespace: string, name: string) => boolean = () => true,
): LoadBalancerHop | undefined {
  const sp = ports.find((p) => p.type === 'LoadBalancer' && p.protocol === probe.protocol && p.port === probe.port && p.loadBalancerIPs.includes(probe.address) && served(p.namespace, p.service));
  if (sp === undefined) return undefined;
  const at = `${probe.address.includes(':') ? `[${probe.address}]` : probe.address}:${probe.port}`;
  const svc = `LoadBalancer Service ${sp.servicePortName} (${sp.protocol} port ${sp.port})`;
  if (sp.nodePort === undefined) {
    return { step: { stage: 'load-balancer', outcome: 'refused', summary: `isthmus lb at ${at} for ${svc}: the Service has no node port (allocateLoadBalancerNodePorts: false), so the lb has nowhere to send it`, details: [] } };
  }
  const family = (a: string): string => (a.includes(':') ? 'IPv6' : 'IPv4');
  const local = isExternalPolicyLocal(sp) && sp.healthCheckNodePort !== undefined;
  const candidates = nodes.filter((n) => family(n.address) === family(probe.address));
  const inRotation = local ? candidates.filter((n) => categorizeEndpoints(sp, n.name).local.length > 0) : candidates;
  const check = local ? `HTTP GET /healthz on port ${sp.healthCheckNodePort} (kube-proxy's: 200 only with a ready local endpoint)` : sp.protocol === 'UDP' ? 'none (UDP: counted healthy)' : `TCP connect to node port ${sp.nodePort}`;
  const details = candidates.map((n) => `${n.name} ${n.address}:${sp.nodePort}${inRotation.includes(n) ? '' : ' — out of rotation: no ready local endpoint, so its health check fails'}`);
  if (candidates.length === 0) details.push('no nodes: name them with --node NAME=ADDRESS or add Node objects');
  const first = inRotation[0];
  if (first === undefined) {
    return { step: { stage: 'load-balancer', outcome: 'refused', summary: `isthmus lb at ${at} for ${svc}: no node in rotation; the connection is closed`, details } };
  }
  return {
    step: {
      stage: 'load-balancer',
      outcome: 'matched',
      summary: `isthmus lb at ${at} for ${svc}: each connection to node port ${sp.nodePort} of one of ${inRotation.length} node${inRotation.length === 1 ? '' : 's'} passing the health check (${check}); a failed connect retries another; following ${first.name}`,
      details,
    },
    next: { address: first.address, port: sp.nodePort, nodeName: first.name },
  };
}
