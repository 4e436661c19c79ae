// The compact layout's script (nftables-compact-model.ts says why the layout exists): kube-proxy's
// fixed table (nftables-base.ts: the same sets, verdict maps, hooked chains and helpers), plus
// one endpoint map per protocol for Service addresses and one for node ports, the hairpin set,
// and three chains per endpoint count N that pick an endpoint with `numgen random mod N` (each
// index 1/N) and DNAT through the map. What a full sync loads; partial syncs add chains
// (compactChainCommands) and elements (elementCommand). The Services this layout leaves to
// kube-proxy's own chains (`fallback`) are written as the default layout writes them.
import { addrType, baseCommands, TABLE, type NftElement, type NftFamily } from './nftables-base.js';
import type { NftCompactTable } from './nftables-compact-model.js';
import { COMPACT_CONTAINERS, COMPACT_PROTOCOLS, type CompactContainer } from './nftables-compact-parts.js';
import { affinitySetCommand, elementCommand } from './nftables-render.js';

export function renderCompactTable(model: NftCompactTable): string {
  const t = `${model.family} ${TABLE}`;
  const f = model.family;
  const lines = baseCommands(f, model.serviceCIDRs, model.mark);
  // The hairpin check runs after DNAT (the destination is the endpoint then), before the
  // masquerading chain acts on the mark: so it goes just before `jump masquerading`.
  const at = lines.indexOf(`add rule ${t} nat-postrouting jump masquerading`);
  lines.splice(at, 0, `add rule ${t} nat-postrouting ct status dnat ${f} saddr . ${f} daddr @hairpin jump mark-for-masquerade`);
  lines.splice(at, 0, ...compactObjectCommands(f));
  lines.push('');
  for (const n of [...model.counts].sort((a, b) => a - b)) lines.push(...compactChainCommands(model, n));
  const fb = model.fallback;
  for (const [name, timeout] of fb.affinitySets) lines.push(affinitySetCommand(t, name, timeout));
  for (const name of fb.chains.keys()) lines.push(`add chain ${t} ${name}`);
  for (const [name, rules] of fb.chains) for (const rule of rules) lines.push(`add rule ${t} ${name} ${rule}`);
  lines.push('');
  // The node's addresses are the compact part's to write (the same elements).
  for (const [container, elements] of fb.elements) if (container !== 'nodeport-ips') for (const e of elements.values()) lines.push(elementCommand('add', t, container, e));
  for (const container of COMPACT_CONTAINERS) {
    // One command per container (nft parses a long element list faster than 100,000 commands).
    const elements = [...(model.elements.get(container)?.values() ?? [])];
    for (let i = 0; i < elements.length; i += 1000) lines.push(`add element ${t} ${container} { ${elements.slice(i, i + 1000).map((e) => elementText(container, e, true)).join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** The layout's own maps and set (created with the table; the rules naming them come later). */
function compactObjectCommands(f: NftFamily): string[] {
  const t = `${f} ${TABLE}`;
  const lines: string[] = [];
  // typeof, not type: the index is numgen's 32-bit integer, which `type` cannot name in a concatenation.
  for (const p of COMPACT_PROTOCOLS) {
    lines.push(`add map ${t} service-endpoints-${p} { typeof ${f} daddr . ${p} dport . numgen random mod 1 : ${f} daddr . ${p} dport ; comment "Service address . port . index: endpoint" ; }`);
    lines.push(`add map ${t} nodeport-endpoints-${p} { typeof ${p} dport . numgen random mod 1 : ${f} daddr . ${p} dport ; comment "node port . index: endpoint" ; }`);
  }
  lines.push(`add set ${t} hairpin { type ${addrType(f)} . ${addrType(f)} ; comment "endpoint . endpoint: a pod reaching itself through a Service" ; }`);
  return lines;
}

/**
 * The three chains of endpoint count `n`: `cluster-n` (cluster IPs: masquerade traffic from
 * outside the pod CIDRs, as kube-proxy's service chain does), `external-n` (external and LB
 * addresses) and `nodeport-n` (masquerade, as kube-proxy's external chain does with policy Cluster).
 */
export function compactChainCommands(model: Pick<NftCompactTable, 'family' | 'podCIDRs'>, n: number): string[] {
  const f = model.family;
  const t = `${f} ${TABLE}`;
  const pick = (map: 'service' | 'nodeport') =>
    COMPACT_PROTOCOLS.map((p) => `meta l4proto ${p} dnat ${f} to ${map === 'service' ? `${f} daddr . ` : ''}${p} dport . numgen random mod ${n} map @${map}-endpoints-${p}`);
  const pods = model.podCIDRs.length === 1 ? model.podCIDRs[0]! : `{ ${model.podCIDRs.join(', ')} }`;
  const chains: [string, string[]][] = [
    [`cluster-${n}`, [...(model.podCIDRs.length > 0 ? [`${f} saddr != ${pods} jump mark-for-masquerade`] : []), ...pick('service')]],
    [`external-${n}`, ['jump mark-for-masquerade', ...pick('service')]],
    [`nodeport-${n}`, ['jump mark-for-masquerade', ...pick('nodeport')]],
  ];
  return chains.flatMap(([name, rules]) => [`add chain ${t} ${name}`, ...rules.map((r) => `add rule ${t} ${name} ${r}`)]);
}

function elementText(container: CompactContainer, e: NftElement, withValue: boolean): string {
  const comment = withValue && e.comment !== undefined ? ` comment "${e.comment}"` : '';
  const value = withValue && e.value !== undefined && container !== 'cluster-ips' && container !== 'nodeport-ips' && container !== 'hairpin' ? ` : ${e.value}` : '';
  return `${e.key}${comment}${value}`;
}

export function compactElementCommand(verb: 'add' | 'delete', family: NftFamily, container: CompactContainer, e: NftElement): string {
  return `${verb} element ${family} ${TABLE} ${container} { ${elementText(container, e, verb === 'add')} }`;
}
