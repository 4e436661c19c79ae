// The whole nftables script of kube-proxy's nftables mode for a set of Service ports: what
// `isthmus kube-proxy render --mode nftables` prints and what a full sync loads. One table per
// family (`ip kube-proxy`, `ip6 kube-proxy`); `nft -f` applies a script as one transaction.
import { TABLE, baseCommands, isMap, type ElementContainer } from './nftables-base.js';
import { buildNftablesModel, type NftElement, type NftablesOptions, type NftTableModel } from './nftables-model.js';
import type { KpServicePort } from './service-ports.js';

export type { NftablesOptions } from './nftables-model.js';

export function renderNftables(ports: readonly KpServicePort[], options: NftablesOptions): string {
  return buildNftablesModel(ports, options).map(renderTable).join('\n');
}

/** The commands that create one table from nothing, in an order nft accepts (chains before jumps). */
export function renderTable(model: NftTableModel): string {
  const t = `${model.family} ${TABLE}`;
  const lines = [...baseCommands(model.family, model.serviceCIDRs, model.mark), ''];
  for (const [name, timeout] of model.affinitySets) lines.push(affinitySetCommand(t, name, timeout));
  for (const name of model.chains.keys()) lines.push(`add chain ${t} ${name}`);
  for (const [name, rules] of model.chains) for (const rule of rules) lines.push(`add rule ${t} ${name} ${rule}`);
  lines.push('');
  for (const [container, elements] of model.elements) for (const e of elements.values()) lines.push(elementCommand('add', t, container, e));
  return `${lines.join('\n')}\n`;
}

export function affinitySetCommand(t: string, name: string, timeoutSeconds: number): string {
  // `dynamic`: the data path adds to it (`update @set`); kube-proxy sets it so nft never mutates the flags later.
  return `add set ${t} ${name} { type ${t.startsWith('ip6') ? 'ipv6_addr' : 'ipv4_addr'} ; flags dynamic,timeout ; timeout ${timeoutSeconds}s ; }`;
}

export function elementCommand(verb: 'add' | 'delete', t: string, container: ElementContainer, e: NftElement): string {
  const comment = verb === 'add' && e.comment !== undefined ? ` comment "${e.comment}"` : '';
  const value = verb === 'add' && isMap(container) && e.value !== undefined ? ` : ${e.value}` : '';
  return `${verb} element ${t} ${container} { ${e.key}${comment}${value} }`;
}
