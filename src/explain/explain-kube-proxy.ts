// The part of `isthmus explain` below the gateway: for a connection to a node port, a cluster IP,
// an external IP or a load-balancer address, the Service port it hits and the chain of
// kube-proxy's iptables rules it walks (KUBE-SERVICES / KUBE-NODEPORTS → KUBE-EXT → KUBE-SVC or
// KUBE-SVL → one KUBE-SEP per endpoint, each taken with probability 1/n, 1/(n-1), ... so every
// endpoint gets 1/n) to the endpoint it is DNAT-ed to. It reads the same model the renderers read
// (service-ports.ts), so the names and probabilities are those `kube-proxy render` prints.
import { categorizeEndpoints, isExternalPolicyLocal, isInternalPolicyLocal } from '../kubeproxy/iptables-endpoints.js';
import { familyOf, type KpEndpoint, type KpServicePort } from '../kubeproxy/service-ports.js';
import type { ExplainStep } from './explain-step.js';

export interface ConnectionProbe {
  readonly address: string;
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** The node's own addresses: a node port is reached at these (default: any address). */
  readonly nodeIPs?: readonly string[];
  /** This node, for traffic policy Local. */
  readonly nodeName?: string;
}

/** kube-proxy's hashed chain names (src/kubeproxy/chain-names.ts). */
export interface ChainNames {
  service(sp: KpServicePort): string;
  external(sp: KpServicePort): string;
  local(sp: KpServicePort): string;
  endpoint(sp: KpServicePort, endpoint: KpEndpoint): string;
}

export interface KubeProxyExplanation {
  readonly steps: ExplainStep[];
  /** Where the connection goes on (the endpoint), for the gateway part of the explanation. */
  readonly endpoints: readonly KpEndpoint[];
  readonly servicePort?: KpServicePort;
}

export function explainConnection(ports: readonly KpServicePort[], probe: ConnectionProbe, names: ChainNames): KubeProxyExplanation {
  const protocol = probe.protocol ?? 'TCP';
  const family = familyOf(probe.address);
  const candidates = ports.filter((p) => p.protocol === protocol && p.family === family);
  const nodePortHit = (probe.nodeIPs === undefined || probe.nodeIPs.includes(probe.address)) ? candidates.find((p) => p.nodePort === probe.port) : undefined;
  const clusterHit = candidates.find((p) => p.clusterIP === probe.address && p.port === probe.port);
  const lbHit = candidates.find((p) => p.loadBalancerIPs.includes(probe.address) && p.port === probe.port);
  const externalHit = candidates.find((p) => p.externalIPs.includes(probe.address) && p.port === probe.port);
  const steps: ExplainStep[] = [];
  const sp = clusterHit ?? lbHit ?? externalHit ?? nodePortHit;
  if (sp === undefined) {
    steps.push({ stage: 'rule-chain', outcome: 'matched', summary: `${protocol} ${probe.address}:${probe.port} is no Service address kube-proxy programs: no rule rewrites it`, details: [] });
    return { steps, endpoints: [] };
  }
  const svc = `Service ${sp.servicePortName} (${sp.protocol} port ${sp.port})`;
  let external = true;
  if (sp === clusterHit) {
    external = false;
    steps.push({ stage: 'cluster-ip', outcome: 'matched', summary: `cluster IP ${sp.clusterIP}:${sp.port} of ${svc}: KUBE-SERVICES → ${names.service(sp)}`, details: [] });
  } else if (sp === lbHit) {
    steps.push({ stage: 'load-balancer', outcome: 'matched', summary: `load-balancer address ${probe.address}:${sp.port} of ${svc}: KUBE-SERVICES → ${names.external(sp)}`, details: sp.loadBalancerSourceRanges.length > 0 ? [`only from ${sp.loadBalancerSourceRanges.join(', ')} (KUBE-FW chain)`] : [] });
  } else if (sp === externalHit) {
    steps.push({ stage: 'load-balancer', outcome: 'matched', summary: `external IP ${probe.address}:${sp.port} of ${svc}: KUBE-SERVICES → ${names.external(sp)}`, details: [] });
  } else {
    steps.push({ stage: 'node-port', outcome: 'matched', summary: `node port ${probe.port} of ${svc}: KUBE-SERVICES → KUBE-NODEPORTS → ${names.external(sp)}`, details: [] });
  }
  // The renderers' own choice (ready, else serving-terminating; this node's for a Local policy),
  // in their order, so the rules and probabilities here are the ones `render` prints.
  const local = (external ? isExternalPolicyLocal(sp) : isInternalPolicyLocal(sp)) && probe.nodeName !== undefined;
  const categories = categorizeEndpoints(sp, probe.nodeName);
  const endpoints = local ? categories.local : categories.cluster;
  const chain = local ? names.local(sp) : names.service(sp);
  if (endpoints.length === 0) {
    steps.push({ stage: 'rule-chain', outcome: 'refused', summary: `${chain}: no ${local ? `endpoint on node ${probe.nodeName}` : 'usable endpoint'}: the connection is rejected (icmp port-unreachable${local ? '; or dropped, for traffic policy Local' : ''})`, details: [] });
    return { steps, endpoints: [], servicePort: sp };
  }
  const n = endpoints.length;
  const details = endpoints.map((e, i) => {
    const rule = i < n - 1 ? `-m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)}` : '(the last rule: no statistic match)';
    return `${rule} -j ${names.endpoint(sp, e)} → DNAT ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}${e.target ? ` (${e.target})` : ''}; overall ${(100 / n).toFixed(1)} %`;
  });
  if (sp.sessionAffinity.kind === 'ClientIP') details.unshift(`session affinity ClientIP: a client seen in the last ${sp.sessionAffinity.timeoutSeconds} s goes back to its endpoint first (-m recent --rcheck)`);
  steps.push({ stage: 'rule-chain', outcome: 'matched', summary: `${chain}${local ? ` (traffic policy Local on node ${probe.nodeName})` : ''}: one of ${n} endpoint rule${n === 1 ? '' : 's'}`, details });
  return { steps, endpoints, servicePort: sp };
}
