// The fixed part of kube-proxy's nftables table: its shared sets and verdict maps, the base chains
// hooked into netfilter, and the helper chains (masquerade marking, reject, the checks). It
// depends on the node options only, never on Services, so a partial sync never touches it.
// Shape and priorities follow pkg/proxy/nftables/proxier.go (setupNFTables).

/** nft's address families of kube-proxy's tables: `ip` (IPv4) and `ip6`. */
export type NftFamily = 'ip' | 'ip6';

export const TABLE = 'kube-proxy';
/** kube-proxy's default `--masquerade-bit` 14. */
export const DEFAULT_MASQUERADE_MARK = '0x4000';

/** The shared sets and maps whose elements the Service ports fill, with their key types. */
export const ELEMENT_CONTAINERS = ['cluster-ips', 'nodeport-ips', 'firewall-ips', 'no-endpoint-nodeports', 'no-endpoint-services', 'service-ips', 'service-nodeports'] as const;
export type ElementContainer = (typeof ELEMENT_CONTAINERS)[number];

export function isMap(container: ElementContainer): boolean {
  return container !== 'cluster-ips' && container !== 'nodeport-ips';
}

export function addrType(family: NftFamily): string {
  return family === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
}

/** The commands that create the table and its fixed objects (no elements, no per-Service chains). */
export function baseCommands(family: NftFamily, serviceCIDRs: readonly string[], mark: string): string[] {
  const t = `${family} ${TABLE}`;
  const addr = addrType(family);
  const lines = [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add set ${t} cluster-ips { type ${addr} ; comment "Active ClusterIPs" ; }`,
    `add set ${t} nodeport-ips { type ${addr} ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${t} firewall-ips { type ${addr} . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${t} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${t} no-endpoint-services { type ${addr} . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${t} service-ips { type ${addr} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${t} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    // Filter chains at -110 see the packet before DNAT (-100): the firewall checks the LB address.
    `add chain ${t} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${t} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${t} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${t} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${t} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${t} cluster-ips-check`,
    `add chain ${t} firewall-check`,
    `add chain ${t} mark-for-masquerade`,
    `add chain ${t} masquerading`,
    `add chain ${t} nodeport-endpoints-check`,
    `add chain ${t} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${t} services`,
    `add chain ${t} service-endpoints-check`,
    `add rule ${t} cluster-ips-check ${family} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
  ];
  if (serviceCIDRs.length > 0) lines.push(`add rule ${t} cluster-ips-check ${family} daddr { ${serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`);
  lines.push(
    `add rule ${t} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${t} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${t} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${t} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${t} filter-input ct state new jump service-endpoints-check`,
    `add rule ${t} filter-output ct state new jump service-endpoints-check`,
    `add rule ${t} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${t} filter-output ct state new jump cluster-ips-check`,
    `add rule ${t} firewall-check ${family} daddr . meta l4proto . th dport vmap @firewall-ips`,
    // The mark travels with the packet from the nat chains that decide to postrouting, which acts.
    `add rule ${t} mark-for-masquerade mark set mark or ${mark}`,
    `add rule ${t} masquerading mark and ${mark} == 0 return`,
    `add rule ${t} masquerading mark set mark xor ${mark}`,
    `add rule ${t} masquerading masquerade fully-random`,
    `add rule ${t} nat-output jump services`,
    `add rule ${t} nat-postrouting jump masquerading`,
    `add rule ${t} nat-prerouting jump services`,
    `add rule ${t} nodeport-endpoints-check ${family} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${t} reject-chain reject`,
    `add rule ${t} services ${family} daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${t} services ${family} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add rule ${t} service-endpoints-check ${family} daddr . meta l4proto . th dport vmap @no-endpoint-services`,
  );
  return lines;
}

/** A set or map element: here, not in the model, so nftables-parts.ts and the model need not import each other. */
export interface NftElement {
  readonly key: string;
  /** The verdict of a map element; undefined in a set. */
  readonly value?: string;
  readonly comment?: string;
}
