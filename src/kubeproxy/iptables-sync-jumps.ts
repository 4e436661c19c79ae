// The rules that send packets from the built-in chains into kube-proxy's (PREROUTING →
// KUBE-SERVICES, ...). kube-proxy cannot write them with iptables-restore, which would replace
// every rule of PREROUTING; it checks each one (`iptables -C`) and inserts it at the top when
// missing (`-I`), on full syncs only (kubernetes pkg/proxy/iptables/proxier.go,
// iptablesJumpChains and iptablesKubeletJumpChains). The same list, in the same order, here.
import type { SyncTable } from './iptables-sync-plan.js';

export interface JumpRule {
  readonly table: SyncTable;
  /** The built-in chain the rule goes in. */
  readonly from: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
  /** kube-proxy's chain it jumps to. */
  readonly to: string;
  readonly comment: string | undefined;
  /** Matches before the comment. */
  readonly match: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

export const JUMP_RULES: readonly JumpRule[] = [
  // External addresses and node ports with no endpoint are rejected before they reach a socket.
  { table: 'filter', from: 'INPUT', to: 'KUBE-EXTERNAL-SERVICES', comment: 'kubernetes externally-visible service portals', match: NEW },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-EXTERNAL-SERVICES', comment: 'kubernetes externally-visible service portals', match: NEW },
  // Health-check node ports are accepted whatever the host firewall says.
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODEPORTS', comment: 'kubernetes health check service ports', match: [] },
  // Cluster IPs with no endpoint: REJECT, for forwarded and locally sent packets.
  { table: 'filter', from: 'FORWARD', to: 'KUBE-SERVICES', comment: 'kubernetes service portals', match: NEW },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-SERVICES', comment: 'kubernetes service portals', match: NEW },
  // Masqueraded Service traffic is forwarded even when FORWARD's policy is DROP.
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', comment: 'kubernetes forwarding rules', match: [] },
  // loadBalancerSourceRanges: what KUBE-FW let through to no endpoint is dropped here.
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', match: NEW },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', match: NEW },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', comment: 'kubernetes load balancer firewall', match: NEW },
  // DNAT: locally sent packets in OUTPUT, arriving ones in PREROUTING.
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', comment: 'kubernetes service portals', match: [] },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', comment: 'kubernetes service portals', match: [] },
  // SNAT of the packets KUBE-MARK-MASQ marked.
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', comment: 'kubernetes postrouting rules', match: [] },
  // kubelet's localnet guard, which kube-proxy also installs (no comment on these two).
  { table: 'filter', from: 'INPUT', to: 'KUBE-FIREWALL', comment: undefined, match: [] },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-FIREWALL', comment: undefined, match: [] },
];

/** The arguments after `-t TABLE -C|-I CHAIN`. */
export function jumpArgs(rule: JumpRule): string[] {
  return [...rule.match, ...(rule.comment === undefined ? [] : ['-m', 'comment', '--comment', rule.comment]), '-j', rule.to];
}
