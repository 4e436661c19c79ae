// The nftables script from two shards of the Service ports rendered on two threads
// (render-in-shards.ts). A table is sections (affinity sets, chain declarations, rules, then the
// elements of each set and map), each in the order the ports wrote into it; so the script of the
// first ports followed, section by section, by that of the rest is the script of all of them —
// as long as no name is in both shards: the merge of one model keeps a name once, where it first
// came. Each shard's names come along, and where one is in both the caller renders in one piece.
import { ELEMENT_CONTAINERS, TABLE, baseCommands, type NftFamily } from './nftables-base.js';
import { buildNftablesModel, type NftablesOptions, type NftTableModel } from './nftables-model.js';
import { affinitySetCommand, elementCommand } from './nftables-render.js';
import type { KpServicePort } from './service-ports.js';

/** One table of the later shard: each section's lines joined by "\n" ('' when it has none), and its names. */
export interface NftTableShard {
  readonly family: NftFamily;
  readonly affinitySets: string;
  readonly chainDeclarations: string;
  readonly rules: string;
  /** Per ELEMENT_CONTAINERS entry; `nodeport-ips` left empty (it holds the node's addresses, written once). */
  readonly elements: readonly string[];
  readonly chainNames: readonly string[];
  readonly affinityNames: readonly string[];
  /** Per ELEMENT_CONTAINERS entry. */
  readonly elementKeys: readonly (readonly string[])[];
}

const NODE_PORT_IPS = 'nodeport-ips';

/** The later shard's tables, made in the worker: sections as text, since strings are what crosses to the main thread cheaply. */
export function nftablesShard(ports: readonly KpServicePort[], options: NftablesOptions): NftTableShard[] {
  return buildNftablesModel(ports, options).map((model) => {
    const t = `${model.family} ${TABLE}`;
    const lines = (items: Iterable<string>): string => [...items].join('\n');
    return {
      family: model.family,
      affinitySets: lines([...model.affinitySets].map(([name, timeout]) => affinitySetCommand(t, name, timeout))),
      chainDeclarations: lines([...model.chains.keys()].map((name) => `add chain ${t} ${name}`)),
      rules: lines([...model.chains].flatMap(([name, rules]) => rules.map((rule) => `add rule ${t} ${name} ${rule}`))),
      elements: ELEMENT_CONTAINERS.map((c) => (c === NODE_PORT_IPS ? '' : lines([...(model.elements.get(c)?.values() ?? [])].map((e) => elementCommand('add', t, c, e))))),
      chainNames: [...model.chains.keys()],
      affinityNames: [...model.affinitySets.keys()],
      elementKeys: ELEMENT_CONTAINERS.map((c) => (c === NODE_PORT_IPS ? [] : [...(model.elements.get(c)?.keys() ?? [])])),
    };
  });
}

/** The first shard's tables, built on the main thread while the worker builds the rest. */
export function nftablesFirstShard(ports: readonly KpServicePort[], options: NftablesOptions): NftTableModel[] {
  return buildNftablesModel(ports, options);
}

/**
 * The whole script's lines, or undefined when the shards cannot be joined as they are: a name in
 * both, or a table one shard has and the other not (a family only the later shard has ports of).
 */
export function joinNftablesShards(first: readonly NftTableModel[], later: readonly NftTableShard[]): (() => Iterable<string>) | undefined {
  if (later.some((shard) => !first.some((m) => m.family === shard.family))) return undefined;
  const pairs = first.map((model) => ({ model, shard: later.find((s) => s.family === model.family) }));
  for (const { model, shard } of pairs) if (shard !== undefined && sharesAName(model, shard)) return undefined;
  return () => joinedLines(pairs);
}

function sharesAName(model: NftTableModel, shard: NftTableShard): boolean {
  if (shard.chainNames.some((name) => model.chains.has(name))) return true;
  if (shard.affinityNames.some((name) => model.affinitySets.has(name))) return true;
  return ELEMENT_CONTAINERS.some((c, i) => {
    const mine = model.elements.get(c);
    return mine !== undefined && shard.elementKeys[i]!.some((key) => mine.has(key));
  });
}

/** As nftablesLines writes one model per table, with the later shard's section after each of the first's. */
function* joinedLines(pairs: readonly { model: NftTableModel; shard: NftTableShard | undefined }[]): Generator<string> {
  let firstTable = true;
  for (const { model, shard } of pairs) {
    if (!firstTable) yield '';
    firstTable = false;
    const t = `${model.family} ${TABLE}`;
    // A section the later shard has nothing in adds no line (an empty block would add an empty one).
    const block = function* (text: string | undefined): Generator<string> {
      if (text !== undefined && text !== '') yield text;
    };
    yield* baseCommands(model.family, model.serviceCIDRs, model.mark);
    yield '';
    for (const [name, timeout] of model.affinitySets) yield affinitySetCommand(t, name, timeout);
    yield* block(shard?.affinitySets);
    for (const name of model.chains.keys()) yield `add chain ${t} ${name}`;
    yield* block(shard?.chainDeclarations);
    for (const [name, rules] of model.chains) for (const rule of rules) yield `add rule ${t} ${name} ${rule}`;
    yield* block(shard?.rules);
    yield '';
    for (const [c, elements] of model.elements) {
      for (const e of elements.values()) yield elementCommand('add', t, c, e);
      yield* block(shard?.elements[ELEMENT_CONTAINERS.indexOf(c)]);
    }
  }
}
