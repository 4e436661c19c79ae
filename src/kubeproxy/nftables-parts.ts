// A table's model is the merge of one part per Service port (nftables-model.ts writes a part).
// `kube-proxy apply` keeps the parts between builds (NftModelMemo): an unchanged Service's ports
// come back from collectServicePorts as the same objects, so their parts are reused, and the
// merged maps are patched from the last build where only the changed parts' names are redone,
// instead of merging 10,000 parts (110,000 chains) again for one changed endpoint.
import { ELEMENT_CONTAINERS, type ElementContainer, type NftElement } from './nftables-base.js';
import type { KpServicePort } from './service-ports.js';

/** One Service port's share of a table; shared by identity while its Service does not change. */
export interface NftPortPart {
  readonly elements: readonly (readonly [ElementContainer, NftElement])[];
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly affinitySets: ReadonlyMap<string, number>;
}

export interface MergedParts {
  readonly elements: ReadonlyMap<ElementContainer, ReadonlyMap<string, NftElement>>;
  readonly chains: ReadonlyMap<string, readonly string[]>;
  readonly affinitySets: ReadonlyMap<string, number>;
  readonly parts: ReadonlySet<NftPortPart>;
}

/** Past this many changed parts a fresh merge is as cheap as a patch. */
const PATCH_LIMIT = 1000;

/** Per family and node facts: the parts by port, the last merge, and which parts name what. */
export class PartsState {
  readonly byPort = new WeakMap<KpServicePort, NftPortPart>();
  last: MergedParts | undefined;
  /** `c`/`a` + name, or `e` + container + key → the parts naming it (in the last merge). */
  readonly index = new Map<string, Set<NftPortPart>>();
}

/**
 * What `kube-proxy apply` keeps between builds; buildNftablesModel takes it. The model is the
 * same with or without it (test/kubeproxy/nftables-incremental.test.ts); only the maps' order
 * may differ, which no reader depends on.
 */
export class NftModelMemo {
  readonly #states = new Map<string, PartsState>();

  stateFor(key: string): PartsState {
    let state = this.#states.get(key);
    if (state === undefined) {
      // Other node facts than last time: the old parts can never be asked for again.
      if (this.#states.size > 4) this.#states.clear();
      this.#states.set(key, (state = new PartsState()));
    }
    return state;
  }
}

const SEP = '\u0000';
function namesOf(part: NftPortPart): string[] {
  const out: string[] = [];
  for (const name of part.chains.keys()) out.push(`c${SEP}${name}`);
  for (const [container, e] of part.elements) out.push(`e${SEP}${container}${SEP}${e.key}`);
  for (const name of part.affinitySets.keys()) out.push(`a${SEP}${name}`);
  return out;
}

/** The parts merged in port order, as if every port wrote into one table; `nodeIPs` are the node's own `nodeport-ips`. */
export function mergeParts(ordered: readonly NftPortPart[], nodeIPs: readonly string[], state: PartsState | undefined): MergedParts {
  const parts = new Set(ordered);
  const last = state?.last;
  let merged: MergedParts | undefined;
  if (state !== undefined && last !== undefined) {
    const removed = [...last.parts].filter((p) => !parts.has(p));
    const added = ordered.filter((p) => !last.parts.has(p));
    if (removed.length + added.length <= PATCH_LIMIT) merged = patch(state, last, ordered, parts, removed, added);
  }
  if (merged === undefined) {
    merged = mergeAll(ordered, parts);
    if (state !== undefined) reindex(state, ordered);
  }
  const nodePortIPs = merged.elements.get('nodeport-ips') as Map<string, NftElement>;
  nodePortIPs.clear();
  for (const ip of nodeIPs) nodePortIPs.set(ip, { key: ip });
  if (state !== undefined) state.last = merged;
  return merged;
}

function mergeAll(ordered: readonly NftPortPart[], parts: ReadonlySet<NftPortPart>): MergedParts {
  const elements = new Map(ELEMENT_CONTAINERS.map((c) => [c, new Map<string, NftElement>()]));
  const chains = new Map<string, readonly string[]>();
  const affinitySets = new Map<string, number>();
  for (const part of ordered) {
    for (const [container, e] of part.elements) elements.get(container)?.set(e.key, e);
    for (const [name, rules] of part.chains) {
      const before = chains.get(name);
      chains.set(name, before === undefined ? rules : [...before, ...rules]);
    }
    for (const [name, timeout] of part.affinitySets) affinitySets.set(name, timeout);
  }
  return { elements, chains, affinitySets, parts };
}

function reindex(state: PartsState, ordered: readonly NftPortPart[]): void {
  state.index.clear();
  for (const part of ordered) for (const name of namesOf(part)) addTo(state.index, name, part);
}

function addTo(index: Map<string, Set<NftPortPart>>, name: string, part: NftPortPart): void {
  let set = index.get(name);
  if (set === undefined) index.set(name, (set = new Set()));
  set.add(part);
}

/**
 * The last merge's maps, copied (the last model may still be the applied one), with every name
 * a removed or added part has redone from the parts that name it now, in port order.
 */
function patch(state: PartsState, last: MergedParts, ordered: readonly NftPortPart[], parts: ReadonlySet<NftPortPart>, removed: readonly NftPortPart[], added: readonly NftPortPart[]): MergedParts {
  const elements = new Map(ELEMENT_CONTAINERS.map((c) => [c, new Map(last.elements.get(c) ?? [])]));
  const chains = new Map(last.chains);
  const affinitySets = new Map(last.affinitySets);
  const touched = new Set<string>();
  for (const part of removed) {
    for (const name of namesOf(part)) {
      touched.add(name);
      const set = state.index.get(name);
      set?.delete(part);
      if (set?.size === 0) state.index.delete(name);
    }
  }
  for (const part of added) for (const name of namesOf(part)) touched.add(name), addTo(state.index, name, part);
  let position: Map<NftPortPart, number> | undefined;
  const inOrder = (set: ReadonlySet<NftPortPart>) => {
    if (set.size === 1) return [...set];
    position ??= new Map(ordered.map((p, i) => [p, i]));
    return [...set].sort((a, b) => position!.get(a)! - position!.get(b)!);
  };
  for (const name of touched) {
    const [kind, first, second] = name.split(SEP) as [string, string, string | undefined];
    const by = inOrder(state.index.get(name) ?? new Set());
    if (kind === 'c') {
      if (by.length === 0) chains.delete(first);
      else chains.set(first, by.length === 1 ? by[0]!.chains.get(first)! : by.flatMap((p) => p.chains.get(first)!));
    } else if (kind === 'a') {
      if (by.length === 0) affinitySets.delete(first);
      else affinitySets.set(first, by.at(-1)!.affinitySets.get(first)!);
    } else {
      const container = elements.get(first as ElementContainer)!;
      const key = second!;
      // The last writer wins, as in a merge from scratch; within a part, its last element for the key.
      const e = by.at(-1)?.elements.filter(([c, x]) => c === first && x.key === key).at(-1)?.[1];
      if (e === undefined) container.delete(key);
      else container.set(key, e);
    }
  }
  return { elements, chains, affinitySets, parts };
}
