// Merges the compact layout's per-Service-port parts into one element map per container, and
// between builds (`kube-proxy apply`) patches the last merge in place instead of merging 10,000
// parts again: at 10,000 Services × 10 endpoints a fresh merge of the 230,000 elements, or even a
// copy of the maps, costs 100-400 ms on this machine, the patch of one changed Service well under
// one. The patch records each element it changed (before, after), which is the partial sync's
// diff, so nothing compares the maps afterwards.
import type { NftElement } from './nftables-base.js';
import { COMPACT_CONTAINERS, type CompactContainer, type CompactPart } from './nftables-compact-parts.js';

export interface CompactChange {
  readonly container: CompactContainer;
  readonly key: string;
  readonly before: NftElement | undefined;
  readonly after: NftElement | undefined;
}

export interface CompactMerge {
  readonly elements: ReadonlyMap<CompactContainer, ReadonlyMap<string, NftElement>>;
  readonly counts: ReadonlySet<number>;
  readonly parts: ReadonlySet<CompactPart>;
  /** Set when this merge patched the previous one in place: every element that changed. */
  readonly changes?: readonly CompactChange[];
}

/** Past this many changed parts a fresh merge is as cheap as a patch. */
const PATCH_LIMIT = 1000;
const SEP = '\u0000';

/** One family's last merge, its writers per element, and its endpoint counts; owned by NftCompactMemo. */
export class CompactMergeState {
  parts: ReadonlySet<CompactPart> = new Set();
  elements: Map<CompactContainer, Map<string, NftElement>> | undefined;
  /** container + SEP + key → the parts writing it (the last in port order wins). */
  readonly writers = new Map<string, CompactPart[]>();
  readonly countRefs = new Map<number, number>();
  nodeIPs: readonly string[] = [];
}

export function mergeCompactParts(ordered: readonly CompactPart[], nodeIPs: readonly string[], state: CompactMergeState | undefined): CompactMerge {
  const parts = new Set(ordered);
  if (state?.elements !== undefined) {
    const last = state.parts;
    const removed = [...last].filter((p) => !parts.has(p));
    const added = ordered.filter((p) => !last.has(p));
    if (removed.length + added.length <= PATCH_LIMIT) return patch(state, ordered, parts, removed, added, nodeIPs);
  }
  const elements = new Map<CompactContainer, Map<string, NftElement>>(COMPACT_CONTAINERS.map((c) => [c, new Map()]));
  const counts = new Map<number, number>();
  // Port order, the last writer of a key winning, as the default layout's merge (nftables-parts.ts).
  for (const part of ordered) {
    for (const [container, e] of part.elements) elements.get(container)!.set(e.key, e);
    if (part.count !== undefined) counts.set(part.count, (counts.get(part.count) ?? 0) + 1);
  }
  for (const ip of nodeIPs) elements.get('nodeport-ips')!.set(ip, { key: ip });
  if (state !== undefined) {
    state.parts = parts;
    state.elements = elements;
    state.nodeIPs = nodeIPs;
    state.writers.clear();
    for (const part of ordered) for (const [container, e] of part.elements) addWriter(state, `${container}${SEP}${e.key}`, part);
    state.countRefs.clear();
    for (const [n, k] of counts) state.countRefs.set(n, k);
  }
  return { elements, counts: new Set(counts.keys()), parts };
}

function addWriter(state: CompactMergeState, name: string, part: CompactPart): void {
  const list = state.writers.get(name);
  if (list === undefined) state.writers.set(name, [part]);
  else list.push(part);
}

function patch(state: CompactMergeState, ordered: readonly CompactPart[], parts: ReadonlySet<CompactPart>, removed: readonly CompactPart[], added: readonly CompactPart[], nodeIPs: readonly string[]): CompactMerge {
  const elements = state.elements!;
  const touched = new Set<string>();
  for (const part of removed) {
    for (const [container, e] of part.elements) {
      const name = `${container}${SEP}${e.key}`;
      touched.add(name);
      const list = state.writers.get(name)?.filter((p) => p !== part) ?? [];
      if (list.length === 0) state.writers.delete(name);
      else state.writers.set(name, list);
    }
    if (part.count !== undefined) state.countRefs.set(part.count, (state.countRefs.get(part.count) ?? 1) - 1);
  }
  for (const part of added) {
    for (const [container, e] of part.elements) {
      const name = `${container}${SEP}${e.key}`;
      touched.add(name);
      if (!state.writers.get(name)?.includes(part)) addWriter(state, name, part);
    }
    if (part.count !== undefined) state.countRefs.set(part.count, (state.countRefs.get(part.count) ?? 0) + 1);
  }
  for (const [n, k] of state.countRefs) if (k <= 0) state.countRefs.delete(n);
  let position: Map<CompactPart, number> | undefined;
  const changes: CompactChange[] = [];
  const record = (container: CompactContainer, key: string, after: NftElement | undefined) => {
    const map = elements.get(container)!;
    const before = map.get(key);
    if (after === undefined) map.delete(key);
    else map.set(key, after);
    if (before?.value !== after?.value || before?.comment !== after?.comment || (before === undefined) !== (after === undefined)) changes.push({ container, key, before, after });
  };
  for (const name of touched) {
    const [container, key] = name.split(SEP) as [CompactContainer, string];
    let writers = state.writers.get(name) ?? [];
    if (writers.length > 1) {
      position ??= new Map(ordered.map((p, i) => [p, i]));
      writers = [...writers].sort((a, b) => position!.get(a)! - position!.get(b)!);
      state.writers.set(name, writers);
    }
    // Within a part, its last element for the key, as a fresh merge would leave it.
    record(container, key, writers.at(-1)?.elements.filter(([c, e]) => c === container && e.key === key).at(-1)?.[1]);
  }
  if (nodeIPs.join() !== state.nodeIPs.join()) {
    for (const ip of state.nodeIPs) if (!nodeIPs.includes(ip)) record('nodeport-ips', ip, undefined);
    for (const ip of nodeIPs) record('nodeport-ips', ip, { key: ip });
    state.nodeIPs = nodeIPs;
  }
  state.parts = parts;
  return { elements, counts: new Set(state.countRefs.keys()), parts, changes };
}
