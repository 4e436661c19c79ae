// The ipvsadm-restore input (`ipvsadm -R`, the format `ipvsadm -S -n` prints) for kube-proxy's
// ipvs mode on one node: a virtual server per Service address (cluster IP, each external and
// load-balancer IP, each node IP × node port) with a real server per endpoint, masqueraded, weight
// 1, as kube-proxy's ipvs proxier (kubernetes/kubernetes pkg/proxy/ipvs/proxier.go) programs
// them; ClientIP affinity is ipvs persistence (`-p` seconds). Endpoint choice is kube-proxy's
// (iptables-endpoints.ts): Local policies use this node's endpoints only. Only the virtual
// servers: ipvs mode also binds the addresses to the kube-ipvs0 dummy interface and programs
// ipset and iptables rules, which are not rendered.
import { joinHostPort } from './chain-names.js';
import { categorizeEndpoints, isExternalPolicyLocal, isInternalPolicyLocal } from './iptables-endpoints.js';
import { familyOf, type KpEndpoint, type KpServicePort } from './service-ports.js';

/** ipvs schedulers kube-proxy's --ipvs-scheduler accepts (ip_vs_<name> kernel modules). */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'sed', 'nq'] as const;
export type IpvsScheduler = (typeof IPVS_SCHEDULERS)[number];

export function isIpvsScheduler(text: string): text is IpvsScheduler {
  return (IPVS_SCHEDULERS as readonly string[]).includes(text);
}

export interface IpvsRenderOptions {
  readonly nodeName?: string;
  /** Addresses node ports are served on; without any, node ports get no virtual server. */
  readonly nodeIPs?: readonly string[];
  readonly scheduler?: IpvsScheduler;
}

export const IPVS_DEPRECATION_NOTE = "# kube-proxy's ipvs mode is deprecated upstream in favour of its nftables mode; prefer --mode nftables";

const PROTOCOL_FLAG = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

export function renderIpvs(ports: readonly KpServicePort[], options: IpvsRenderOptions = {}): { readonly text: string; readonly notes: readonly string[] } {
  const scheduler = options.scheduler ?? 'rr';
  const lines: string[] = [IPVS_DEPRECATION_NOTE];
  const notes: string[] = [];
  const nodeIPs = options.nodeIPs ?? [];
  for (const sp of ports) {
    if (sp.clusterIP === undefined) continue;
    const eps = categorizeEndpoints(sp, options.nodeName);
    // A node-local virtual server takes this node's endpoints, or the cluster endpoints when this
    // node has none: kube-proxy's ipvs syncEndpoint does so (kubernetes#97081) so that pods here
    // can still connect; replies to outside clients then go astray, as upstream accepts.
    const internal = isInternalPolicyLocal(sp) && eps.local.length > 0 ? eps.local : eps.cluster;
    const external = isExternalPolicyLocal(sp) && eps.local.length > 0 ? eps.local : eps.cluster;
    const flag = PROTOCOL_FLAG[sp.protocol];
    const persistence = sp.sessionAffinity.kind === 'ClientIP' ? ` -p ${sp.sessionAffinity.timeoutSeconds}` : '';
    const virtualServer = (address: string, port: number, endpoints: readonly KpEndpoint[]): void => {
      const vip = joinHostPort(address, port);
      lines.push(`-A ${flag} ${vip} -s ${scheduler}${persistence}`);
      for (const e of endpoints) lines.push(`-a ${flag} ${vip} -r ${joinHostPort(e.address, e.port)} -m -w 1`);
    };
    virtualServer(sp.clusterIP, sp.port, internal);
    for (const ip of sp.externalIPs) virtualServer(ip, sp.port, external);
    for (const ip of sp.loadBalancerIPs) virtualServer(ip, sp.port, external);
    if (sp.nodePort !== undefined) {
      const own = nodeIPs.filter((ip) => familyOf(ip) === sp.family);
      if (own.length === 0) notes.push(`${sp.servicePortName} (${sp.family}): node port ${sp.nodePort} has no virtual server: give the node's ${sp.family} addresses with --node-ip`);
      for (const ip of own) virtualServer(ip, sp.nodePort, external);
    }
    if (sp.loadBalancerSourceRanges.length > 0) notes.push(`${sp.servicePortName}: loadBalancerSourceRanges are enforced by ipset and iptables rules in ipvs mode, which are not rendered`);
  }
  return { text: lines.join('\n') + '\n', notes };
}
