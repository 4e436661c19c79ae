// The rules of one Service port in kube-proxy's iptables mode, in kube-proxy's order
// (kubernetes/kubernetes pkg/proxy/iptables/proxier.go, the per-service loop of syncProxyRules
// and writeServiceToEndpointRules):
//   KUBE-SERVICES   cluster IP → KUBE-SVC (or KUBE-SVL for internalTrafficPolicy Local),
//                   external / load-balancer IPs → KUBE-EXT (or KUBE-FW with source ranges)
//   KUBE-NODEPORTS  node port → KUBE-EXT
//   KUBE-EXT        masquerade (Cluster) or short-circuit pod / node traffic (Local) → policy chain
//   KUBE-FW         loadBalancerSourceRanges → KUBE-EXT; the rest falls to KUBE-PROXY-FIREWALL
//   KUBE-SVC/SVL    affinity (-m recent --rcheck), then 1/n, 1/(n-1), ... → KUBE-SEP
//   KUBE-SEP        hairpin masquerade, then DNAT to the endpoint
// and in *filter: REJECT when there is no endpoint at all, DROP when a Local policy has none here.
import { compileCidrs, parseCidr } from '../core/cidr.js';
import { endpointChainName, joinHostPort, portProtoHash } from './chain-names.js';
import { categorizeEndpoints, isExternallyAccessible, isExternalPolicyLocal, isInternalPolicyLocal, usesClusterEndpoints, usesLocalEndpoints } from './iptables-endpoints.js';
import { formatProbability, quoted, type RestoreTable } from './iptables-tables.js';
import type { IpFamily, KpEndpoint, KpServicePort } from './service-ports.js';

export interface FamilyContext {
  readonly family: IpFamily;
  readonly nodeName: string | undefined;
  readonly nodeIP: string | undefined;
  readonly clusterCIDR: string | undefined;
  readonly masqueradeAll: boolean;
}

export function writeServicePortRules(sp: KpServicePort, ctx: FamilyContext, filter: RestoreTable, nat: RestoreTable): void {
  const name = sp.servicePortName;
  const proto = sp.protocol.toLowerCase();
  const match = ['-m', proto, '-p', proto];
  const eps = categorizeEndpoints(sp, ctx.nodeName);
  // One hash for the port's four chain names (chain-names.ts: they share it), and one per endpoint:
  // at 10,000 Service ports, hashing each name where it is used was a fifth of the render.
  const hash = portProtoHash(sp.servicePortName, sp.protocol);
  const clusterChain = `KUBE-SVC-${hash}`;
  const localChain = `KUBE-SVL-${hash}`;
  const extChain = `KUBE-EXT-${hash}`;
  const fwChain = `KUBE-FW-${hash}`;
  const sepNames = new Map(eps.reachable.map((ep) => [ep, endpointChainName(sp, ep)]));
  const sepOf = (ep: KpEndpoint) => sepNames.get(ep) ?? endpointChainName(sp, ep);
  const usesClusterChain = eps.cluster.length > 0 && usesClusterEndpoints(sp);
  const usesLocalChain = eps.local.length > 0 && usesLocalEndpoints(sp);

  const internalChain = isInternalPolicyLocal(sp) ? localChain : clusterChain;
  const hasInternal = eps.hasAny && (!isInternalPolicyLocal(sp) || eps.local.length > 0);
  const externalPolicyChain = isExternalPolicyLocal(sp) ? localChain : clusterChain;
  const hasExternal = eps.hasAny && (!isExternalPolicyLocal(sp) || eps.local.length > 0);
  // The EXT chain exists whenever there are endpoints anywhere: its short-circuit rules matter
  // even when this node has no local endpoint.
  const usesExtChain = eps.hasAny && isExternallyAccessible(sp);
  const sourceRanges = sp.loadBalancerSourceRanges.map((r) => r.trim()).filter((r) => parseCidr(r).kind === 'ok');
  const usesFwChain = eps.hasAny && sp.loadBalancerIPs.length > 0 && sourceRanges.length > 0;
  const lbChain = usesFwChain ? fwChain : extChain;

  // No endpoint anywhere: REJECT (the client learns at once); Local with none here: DROP.
  const internalTarget = !eps.hasAny ? 'REJECT' : 'DROP';
  const internalComment = quoted(!eps.hasAny ? `${name} has no endpoints` : `${name} has no local endpoints`);
  const externalTarget = internalTarget;
  const externalComment = internalComment;
  const clusterIP = sp.clusterIP!;
  const port = String(sp.port);

  if (hasInternal) nat.append('KUBE-SERVICES', '-m comment --comment', quoted(`${name} cluster IP`), match, '-d', clusterIP, '--dport', port, '-j', internalChain);
  else filter.append('KUBE-SERVICES', '-m comment --comment', internalComment, match, '-d', clusterIP, '--dport', port, '-j', internalTarget);

  for (const ip of sp.externalIPs) {
    if (eps.hasAny) nat.append('KUBE-SERVICES', '-m comment --comment', quoted(`${name} external IP`), match, '-d', ip, '--dport', port, '-j', extChain);
    if (!hasExternal) filter.append('KUBE-EXTERNAL-SERVICES', '-m comment --comment', externalComment, match, '-d', ip, '--dport', port, '-j', externalTarget);
  }
  for (const ip of sp.loadBalancerIPs) {
    if (eps.hasAny) nat.append('KUBE-SERVICES', '-m comment --comment', quoted(`${name} loadbalancer IP`), match, '-d', ip, '--dport', port, '-j', lbChain);
    if (usesFwChain) filter.append('KUBE-PROXY-FIREWALL', '-m comment --comment', quoted(`${name} traffic not accepted by ${fwChain}`), match, '-d', ip, '--dport', port, '-j DROP');
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerIPs) filter.append('KUBE-EXTERNAL-SERVICES', '-m comment --comment', externalComment, match, '-d', ip, '--dport', port, '-j', externalTarget);
  }
  if (sp.nodePort !== undefined) {
    // Node ports are not subject to loadBalancerSourceRanges (kube-proxy says it cannot change that).
    if (eps.hasAny) nat.append('KUBE-NODEPORTS', '-m comment --comment', name, match, '--dport', String(sp.nodePort), '-j', extChain);
    if (!hasExternal) filter.append('KUBE-EXTERNAL-SERVICES', '-m comment --comment', externalComment, '-m addrtype --dst-type LOCAL', match, '--dport', String(sp.nodePort), '-j', externalTarget);
  }
  if (sp.healthCheckNodePort !== undefined) {
    filter.append('KUBE-NODEPORTS', '-m comment --comment', quoted(`${name} health check node port`), '-m tcp -p tcp --dport', String(sp.healthCheckNodePort), '-j ACCEPT');
  }

  if (hasInternal) {
    const args = ['-m comment --comment', quoted(`${name} cluster IP`), ...match, '-d', clusterIP, '--dport', port];
    // Off-cluster clients reaching a cluster IP (a static route to any node) may leave this node.
    if (ctx.masqueradeAll) nat.append(internalChain, args, '-j KUBE-MARK-MASQ');
    else if (ctx.clusterCIDR !== undefined) nat.append(internalChain, args, '! -s', ctx.clusterCIDR, '-j KUBE-MARK-MASQ');
  }

  if (usesExtChain) {
    nat.declare(extChain);
    if (!isExternalPolicyLocal(sp)) {
      // Cluster policy may cross nodes: masquerade so replies come back through this node.
      nat.append(extChain, '-m comment --comment', quoted(`masquerade traffic for ${name} external destinations`), '-j KUBE-MARK-MASQ');
    } else {
      // Pods reaching an external address act as if they went out to the load balancer and back:
      // neither traffic policy applies to them.
      if (ctx.clusterCIDR !== undefined) nat.append(extChain, '-m comment --comment', quoted(`pod traffic for ${name} external destinations`), '-s', ctx.clusterCIDR, '-j', clusterChain);
      // The node itself has the address as a local one: masquerade, and use every endpoint.
      nat.append(extChain, '-m comment --comment', quoted(`masquerade LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ');
      nat.append(extChain, '-m comment --comment', quoted(`route LOCAL traffic for ${name} external destinations`), '-m addrtype --src-type LOCAL', '-j', clusterChain);
    }
    if (hasExternal) nat.append(extChain, '-j', externalPolicyChain);
  }

  if (usesFwChain) {
    nat.declare(fwChain);
    const args = ['-m comment --comment', quoted(`${name} loadbalancer IP`)];
    const ranges = compileCidrs(sourceRanges);
    for (const r of sourceRanges) nat.append(fwChain, args, '-s', r, '-j', extChain);
    // A VIP load balancer often routes its address back to the node: let the node's own
    // requests (source = the VIP) through when the node is inside the allowed ranges.
    if (ctx.nodeIP !== undefined && ranges.contains(ctx.nodeIP)) {
      for (const ip of sp.loadBalancerIPs) nat.append(fwChain, args, '-s', ip, '-j', extChain);
    }
    nat.append(fwChain, '-m comment --comment', quoted(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
  }

  if (usesClusterChain) writeEndpointJumps(nat, sp, clusterChain, eps.cluster, sepOf);
  if (usesLocalChain) writeEndpointJumps(nat, sp, localChain, eps.local, sepOf);

  for (const ep of eps.reachable) {
    const sep = sepOf(ep);
    const target = joinHostPort(ep.address, ep.port);
    // Hairpin: a pod reaching itself through the Service must be masqueraded to get the reply.
    nat.append(sep, '-m comment --comment', name, '-s', ep.address, '-j KUBE-MARK-MASQ');
    const affinity = sp.sessionAffinity.kind === 'ClientIP' ? ['-m recent --name', sep, '--set'] : [];
    nat.append(sep, '-m comment --comment', name, affinity, match, '-j DNAT --to-destination', target);
  }
}

/** Affinity checks first (a known client goes back to its endpoint), then the random split. */
function writeEndpointJumps(nat: RestoreTable, sp: KpServicePort, chain: string, endpoints: readonly KpEndpoint[], sepOf: (ep: KpEndpoint) => string): void {
  const name = sp.servicePortName;
  if (sp.sessionAffinity.kind === 'ClientIP') {
    for (const ep of endpoints) {
      const sep = sepOf(ep);
      nat.append(chain, '-m comment --comment', quoted(`${name} -> ${joinHostPort(ep.address, ep.port)}`), '-m recent --name', sep, '--rcheck --seconds', String(sp.sessionAffinity.timeoutSeconds), '--reap -j', sep);
    }
  }
  // Rule i matches with probability 1/(n-i) of what reaches it, so each endpoint gets 1/n overall;
  // the last rule always matches.
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const comment = quoted(`${name} -> ${joinHostPort(ep.address, ep.port)}`);
    const statistic = i < n - 1 ? ['-m statistic --mode random --probability', formatProbability(n - i)] : [];
    nat.append(chain, '-m comment --comment', comment, statistic, '-j', sepOf(ep));
  });
}
