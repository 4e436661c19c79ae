// The whole nftables script of kube-proxy's nftables mode for a set of Service ports: what
// `isthmus kube-proxy render --mode nftables` prints and what a full sync loads. One table per
// family (`ip kube-proxy`, `ip6 kube-proxy`); `nft -f` applies a script as one transaction.
import { TABLE, baseCommands, isMap, type ElementContainer } from './nftables-base.js';
import { buildNftablesModel, type NftElement, type NftablesOptions, type NftTableModel } from './nftables-model.js';
import type { KpServicePort } from './service-ports.js';

export type { NftablesOptions } from './nftables-model.js';

export function renderNftables(ports: readonly KpServicePort[], options: NftablesOptions): string {
  return `${[...nftablesLines(ports, options)].join('\n')}\n`;
}

/** The script's lines (without "\n"), made as they are asked for: the CLI writes them in chunks. */
export function* nftablesLines(ports: readonly KpServicePort[], options: NftablesOptions): Generator<string> {
  let first = true;
  for (const model of buildNftablesModel(ports, options)) {
    // An empty line between the tables.
    if (!first) yield '';
    first = false;
    yield* tableLines(model);
  }
}

/** The commands that create one table from nothing, in an order nft accepts (chains before jumps). */
export function renderTable(model: NftTableModel): string {
  return `${[...tableLines(model)].join('\n')}\n`;
}

function* tableLines(model: NftTableModel): Generator<string> {
  const t = `${model.family} ${TABLE}`;
  yield* baseCommands(model.family, model.serviceCIDRs, model.mark);
  yield '';
  for (const [name, timeout] of model.affinitySets) yield affinitySetCommand(t, name, timeout);
  for (const name of model.chains.keys()) yield `add chain ${t} ${name}`;
  for (const [name, rules] of model.chains) for (const rule of rules) yield `add rule ${t} ${name} ${rule}`;
  yield '';
  for (const [container, elements] of model.elements) for (const e of elements.values()) yield elementCommand('add', t, container, e);
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
