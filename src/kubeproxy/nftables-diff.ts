// The partial sync: from the model last applied to the new one, only the commands that change
// the kernel's state (kube-proxy's partial sync: unchanged Service chains are not rewritten,
// set and map elements are added and deleted one by one). A chain that is no longer used is
// flushed here and deleted later: before Linux 6.2 the kernel notices a chain is unreferenced
// only a moment after the map element naming it is gone (proxier.go, staleChains).
import { ELEMENT_CONTAINERS, TABLE } from './nftables-base.js';
import type { NftElement, NftPortPart, NftTableModel } from './nftables-model.js';
import { affinitySetCommand, elementCommand } from './nftables-render.js';

export interface NftChangeCounts {
  chainsAdded: number;
  chainsChanged: number;
  chainsRemoved: number;
  elementsAdded: number;
  elementsDeleted: number;
  setsAdded: number;
  setsDeleted: number;
}

export interface NftTableDiff {
  /** Commands for `nft -f`; empty when nothing changed. */
  readonly commands: readonly string[];
  /** Chains flushed now, to delete once nothing points at them. */
  readonly staleChains: readonly string[];
  readonly counts: NftChangeCounts;
  /** Set when a partial update cannot express the change (an affinity timeout changed): do a full sync. */
  readonly needsFullSync: boolean;
}

/** The names and keys a diff looks at; everything else is known to be the same in both models. */
interface Scope {
  readonly chains: Iterable<string>;
  readonly elements: ReadonlyMap<string, Iterable<string>>;
  readonly affinitySets: Iterable<string>;
}

export function diffNftTable(prev: NftTableModel, next: NftTableModel): NftTableDiff {
  return diffInScope(prev, next, changedScope(prev, next));
}

/**
 * Only what the Service ports' parts that differ between the models name (a part is shared by
 * identity when its Service did not change, NftModelMemo), plus the node's own `nodeport-ips`:
 * everything else in the models comes from the shared parts, so it is the same. Without a memo
 * no part is shared and this is every name. A name one changed part drops but another still
 * writes is compared like any other: from the merged maps.
 */
function changedScope(prev: NftTableModel, next: NftTableModel): Scope {
  const chains = new Set<string>();
  const elements = new Map<string, Set<string>>(ELEMENT_CONTAINERS.map((c) => [c, new Set<string>()]));
  const affinitySets = new Set<string>();
  const touch = (part: NftPortPart) => {
    for (const name of part.chains.keys()) chains.add(name);
    for (const [container, e] of part.elements) elements.get(container)?.add(e.key);
    for (const name of part.affinitySets.keys()) affinitySets.add(name);
  };
  for (const part of prev.parts) if (!next.parts.has(part)) touch(part);
  for (const part of next.parts) if (!prev.parts.has(part)) touch(part);
  for (const m of [prev, next]) for (const key of m.elements.get('nodeport-ips')?.keys() ?? []) elements.get('nodeport-ips')?.add(key);
  return { chains, elements, affinitySets };
}

function diffInScope(prev: NftTableModel, next: NftTableModel, scope: Scope): NftTableDiff {
  const t = `${next.family} ${TABLE}`;
  const counts: NftChangeCounts = { chainsAdded: 0, chainsChanged: 0, chainsRemoved: 0, elementsAdded: 0, elementsDeleted: 0, setsAdded: 0, setsDeleted: 0 };
  const affinityNames = [...scope.affinitySets];
  const baseChanged = prev.mark !== next.mark || prev.serviceCIDRs.join() !== next.serviceCIDRs.join();
  const timeoutChanged = affinityNames.some((name) => prev.affinitySets.has(name) && next.affinitySets.has(name) && prev.affinitySets.get(name) !== next.affinitySets.get(name));
  if (baseChanged || timeoutChanged) return { commands: [], staleChains: [], counts, needsFullSync: true };

  const head: string[] = [];
  const rules: string[] = [];
  for (const name of affinityNames) {
    const s = next.affinitySets.get(name);
    if (s === undefined || prev.affinitySets.has(name)) continue;
    head.push(affinitySetCommand(t, name, s));
    counts.setsAdded++;
  }
  const staleChains: string[] = [];
  for (const name of scope.chains) {
    const body = next.chains.get(name);
    const old = prev.chains.get(name);
    if (body === undefined) {
      if (old !== undefined) staleChains.push(name);
      continue;
    }
    if (old !== undefined && sameRules(old, body)) continue;
    if (old === undefined) {
      head.push(`add chain ${t} ${name}`);
      counts.chainsAdded++;
    } else {
      rules.push(`flush chain ${t} ${name}`);
      counts.chainsChanged++;
    }
    for (const rule of body) rules.push(`add rule ${t} ${name} ${rule}`);
  }
  const elements: string[] = [];
  for (const container of ELEMENT_CONTAINERS) {
    const before = prev.elements.get(container) ?? new Map<string, NftElement>();
    const after = next.elements.get(container) ?? new Map<string, NftElement>();
    const keys = [...(scope.elements.get(container) ?? [])];
    for (const key of keys) {
      const e = before.get(key);
      if (e === undefined || sameElement(e, after.get(key))) continue;
      elements.push(elementCommand('delete', t, container, e));
      counts.elementsDeleted++;
    }
    for (const key of keys) {
      const e = after.get(key);
      if (e === undefined || sameElement(e, before.get(key))) continue;
      elements.push(elementCommand('add', t, container, e));
      counts.elementsAdded++;
    }
  }
  // After the elements and rules that pointed at them are gone.
  const tail = staleChains.map((name) => `flush chain ${t} ${name}`);
  counts.chainsRemoved = staleChains.length;
  for (const name of affinityNames) {
    if (!prev.affinitySets.has(name) || next.affinitySets.has(name)) continue;
    tail.push(`delete set ${t} ${name}`);
    counts.setsDeleted++;
  }
  return { commands: [...head, ...rules, ...elements, ...tail], staleChains, counts, needsFullSync: false };
}

function sameElement(a: NftElement, b: NftElement | undefined): boolean {
  return b !== undefined && a.value === b.value && a.comment === b.comment;
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((r, i) => r === b[i]));
}

export function describeCounts(c: NftChangeCounts): string {
  const parts: string[] = [];
  const say = (n: number, noun: string, verb: string) => n > 0 && parts.push(`${n} ${noun}${n === 1 ? '' : 's'} ${verb}`);
  say(c.chainsAdded, 'chain', 'added');
  say(c.chainsChanged, 'chain', 'rewritten');
  say(c.chainsRemoved, 'chain', 'removed');
  say(c.elementsAdded, 'element', 'added');
  say(c.elementsDeleted, 'element', 'deleted');
  say(c.setsAdded, 'affinity set', 'added');
  say(c.setsDeleted, 'affinity set', 'deleted');
  return parts.length === 0 ? 'no change' : parts.join(', ');
}
