// The iptables-restore input kube-proxy's iptables mode programs on one node, rendered from the
// Service-port model: a *filter and a *nat table per IP family (iptables-restore for IPv4,
// ip6tables-restore for IPv6). The rules, their order within each chain, the comments and the
// masquerade mark follow kubernetes/kubernetes pkg/proxy/iptables/proxier.go (syncProxyRules);
// the per-Service chains are in iptables-service-rules.ts. Pure: the same ports and options give
// byte-identical text.
import { familyOf, type IpFamily, type KpServicePort } from './service-ports.js';
import { writeServicePortRules, type FamilyContext } from './iptables-service-rules.js';
import { quoted, RestoreTable } from './iptables-tables.js';

export interface IptablesRenderOptions {
  /** This node's name: endpoints whose nodeName matches are local (traffic policy Local). */
  readonly nodeName?: string;
  /** This node's addresses; the first of a family is kube-proxy's node IP for that family. */
  readonly nodeIPs?: readonly string[];
  /** The pod CIDR(s), one per family: kube-proxy's --cluster-cidr local-traffic detector. */
  readonly clusterCIDRs?: readonly string[];
  /** kube-proxy's --masquerade-all: SNAT all traffic to cluster IPs. */
  readonly masqueradeAll?: boolean;
  /** `MASQUERADE --random-fully` (iptables 1.6.2 and later, which kube-proxy detects). Default true. */
  readonly masqueradeRandomFully?: boolean;
}

export interface RenderedRules {
  readonly family: IpFamily;
  /** The command that reads `text` on stdin. */
  readonly tool: 'iptables-restore' | 'ip6tables-restore';
  readonly text: string;
}

/** kube-proxy's default --iptables-masquerade-bit 14 (fmt "%#x"; iptables-save prints 0x4000). */
export const MASQUERADE_MARK = '0x4000';

/**
 * One rule set per family: IPv4 always (a node always has the IPv4 skeleton), IPv6 when a Service
 * port, a node IP or a cluster CIDR is IPv6 (a dual-stack node runs both proxiers).
 */
export function renderIptables(ports: readonly KpServicePort[], options: IptablesRenderOptions = {}): RenderedRules[] {
  return iptablesFamilies(ports, options).map((family) => ({ family, tool: restoreTool(family), text: renderIptablesFamily(ports, family, options) }));
}

/** The families renderIptables writes rules for, in its order. */
export function iptablesFamilies(ports: readonly KpServicePort[], options: IptablesRenderOptions = {}): IpFamily[] {
  const v6 = ports.some((p) => p.family === 'IPv6') || (options.nodeIPs ?? []).some((ip) => familyOf(ip) === 'IPv6') || (options.clusterCIDRs ?? []).some((c) => familyOf(c) === 'IPv6');
  return v6 ? ['IPv4', 'IPv6'] : ['IPv4'];
}

export function restoreTool(family: IpFamily): RenderedRules['tool'] {
  return family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore';
}

export function renderIptablesFamily(ports: readonly KpServicePort[], family: IpFamily, options: IptablesRenderOptions = {}): string {
  const filter = new RestoreTable('filter');
  const nat = new RestoreTable('nat');
  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) filter.declare(c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.declare(c);

  // Marked packets are masqueraded once, and the mark is cleared so a packet that traverses the
  // stack again is not masqueraded twice.
  nat.append('KUBE-POSTROUTING', '-m mark ! --mark', `${MASQUERADE_MARK}/${MASQUERADE_MARK}`, '-j RETURN');
  nat.append('KUBE-POSTROUTING', '-j MARK --xor-mark', MASQUERADE_MARK);
  nat.append('KUBE-POSTROUTING', '-m comment --comment', quoted('kubernetes service traffic requiring SNAT'), '-j MASQUERADE', options.masqueradeRandomFully === false ? [] : ['--random-fully']);
  nat.append('KUBE-MARK-MASQ', '-j MARK --or-mark', MASQUERADE_MARK);

  if (family === 'IPv4') {
    // Node ports answer on 127.0.0.1 too (kube-proxy's default --iptables-localhost-nodeports,
    // with route_localnet=1); this rule closes the hole that opens (https://issue.k8s.io/90259).
    filter.append('KUBE-FIREWALL', '-m comment --comment', quoted('block incoming localnet connections'), '-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  }

  const ctx: FamilyContext = {
    family,
    nodeName: options.nodeName,
    nodeIP: (options.nodeIPs ?? []).find((ip) => familyOf(ip) === family),
    clusterCIDR: (options.clusterCIDRs ?? []).find((c) => familyOf(c) === family),
    masqueradeAll: options.masqueradeAll === true,
  };
  // A headless Service (no cluster IP) gets no rules: kube-proxy skips it.
  for (const sp of ports) if (sp.family === family && sp.clusterIP !== undefined) writeServicePortRules(sp, ctx, filter, nat);

  // After every Service rule: anything else addressed to the node goes to the node ports.
  const destinations = family === 'IPv6' ? '-m addrtype --dst-type LOCAL ! -d ::1/128' : '-m addrtype --dst-type LOCAL';
  nat.append('KUBE-SERVICES', '-m comment --comment', quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain'), destinations, '-j KUBE-NODEPORTS');

  // INVALID packets would reset connections unless nf_conntrack_tcp_be_liberal is set (kubernetes#74839).
  filter.append('KUBE-FORWARD', '-m conntrack --ctstate INVALID -j DROP');
  filter.append('KUBE-FORWARD', '-m comment --comment', quoted('kubernetes forwarding rules'), '-m mark --mark', `${MASQUERADE_MARK}/${MASQUERADE_MARK}`, '-j ACCEPT');
  filter.append('KUBE-FORWARD', '-m comment --comment', quoted('kubernetes forwarding conntrack rule'), '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  return filter.render() + nat.render();
}
