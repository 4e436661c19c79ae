// The partial sync: from the model last applied to the new one, only the commands that change
// the kernel's state (kube-proxy's partial sync: unchanged Service chains are not rewritten,
// set and map elements are added and deleted one by one). A chain that is no longer used is
// flushed here and deleted later: before Linux 6.2 the kernel notices a chain is unreferenced
// only a moment after the map element naming it is gone (proxier.go, staleChains).
import { ELEMENT_CONTAINERS, TABLE } from './nftables-base.js';
import type { NftTableModel } from './nftables-model.js';
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

export function diffNftTable(prev: NftTableModel, next: NftTableModel): NftTableDiff {
  const t = `${next.family} ${TABLE}`;
  const counts: NftChangeCounts = { chainsAdded: 0, chainsChanged: 0, chainsRemoved: 0, elementsAdded: 0, elementsDeleted: 0, setsAdded: 0, setsDeleted: 0 };
  const baseChanged = prev.mark !== next.mark || prev.serviceCIDRs.join() !== next.serviceCIDRs.join();
  const timeoutChanged = [...next.affinitySets].some(([name, s]) => prev.affinitySets.has(name) && prev.affinitySets.get(name) !== s);
  if (baseChanged || timeoutChanged) return { commands: [], staleChains: [], counts, needsFullSync: true };

  const head: string[] = [];
  const rules: string[] = [];
  for (const [name, s] of next.affinitySets) {
    if (prev.affinitySets.has(name)) continue;
    head.push(affinitySetCommand(t, name, s));
    counts.setsAdded++;
  }
  for (const [name, body] of next.chains) {
    const old = prev.chains.get(name);
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
    const before = prev.elements.get(container) ?? new Map();
    const after = next.elements.get(container) ?? new Map();
    for (const [key, e] of before) {
      const now = after.get(key);
      if (now !== undefined && now.value === e.value && now.comment === e.comment) continue;
      elements.push(elementCommand('delete', t, container, e));
      counts.elementsDeleted++;
    }
    for (const [key, e] of after) {
      const then = before.get(key);
      if (then !== undefined && then.value === e.value && then.comment === e.comment) continue;
      elements.push(elementCommand('add', t, container, e));
      counts.elementsAdded++;
    }
  }
  const staleChains = [...prev.chains.keys()].filter((name) => !next.chains.has(name));
  // After the elements and rules that pointed at them are gone.
  const tail = staleChains.map((name) => `flush chain ${t} ${name}`);
  counts.chainsRemoved = staleChains.length;
  for (const name of prev.affinitySets.keys()) {
    if (next.affinitySets.has(name)) continue;
    tail.push(`delete set ${t} ${name}`);
    counts.setsDeleted++;
  }
  return { commands: [...head, ...rules, ...elements, ...tail], staleChains, counts, needsFullSync: false };
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
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
