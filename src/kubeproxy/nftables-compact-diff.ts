// The compact layout's partial update: from the table applied last to the new one, element
// commands only, plus the chains of an endpoint count no Service had before. Chains of a count no
// longer used are left in place (three small chains each; a full sync drops them): deleting them
// would race the map elements naming them on kernels before 6.2 (see nftables-diff.ts). The
// Services in kube-proxy's own chains are diffed as the default layout does (nftables-diff.ts):
// their unused chains are flushed now, and the sync deletes them a second later.
import { TABLE, type NftElement } from './nftables-base.js';
import { describeCounts, diffNftTable } from './nftables-diff.js';
import type { NftCompactTable } from './nftables-compact-model.js';
import { COMPACT_CONTAINERS, type CompactContainer, type CompactPart } from './nftables-compact-parts.js';
import type { CompactChange } from './nftables-compact-merge.js';
import { compactChainCommands, compactElementCommand } from './nftables-compact-render.js';

export interface CompactDiff {
  /** Commands for `nft -f`; empty when nothing changed. */
  readonly commands: readonly string[];
  readonly chainsAdded: number;
  readonly elementsAdded: number;
  readonly elementsDeleted: number;
  /** What changed in the Services kept in kube-proxy's chains ('' when nothing did). */
  readonly fallback: string;
  /** Their chains flushed now, to delete once nothing points at them. */
  readonly staleChains: readonly string[];
  /** The node facts the fixed rules depend on changed: only a full sync expresses that. */
  readonly needsFullSync: boolean;
}

/**
 * `installed`: the endpoint counts whose chains are in the kernel (the sync keeps them, since
 * they outlive the Services that needed them). Only the keys the changed parts (by identity) and
 * the node's `nodeport-ips` name are compared: everything else comes from shared parts.
 */
export function diffCompactTable(prev: NftCompactTable, next: NftCompactTable, installed: ReadonlySet<number>): CompactDiff {
  const none = { commands: [], chainsAdded: 0, elementsAdded: 0, elementsDeleted: 0, fallback: '', staleChains: [] };
  if (prev.mark !== next.mark || prev.serviceCIDRs.join() !== next.serviceCIDRs.join() || prev.podCIDRs.join() !== next.podCIDRs.join()) return { ...none, needsFullSync: true };
  if (next.delta !== undefined) {
    // Patched in place: `prev`'s maps already show `next`; only the recorded changes say what moved.
    if (next.delta.from !== prev) return { ...none, needsFullSync: true };
    return commandsFor(prev, next, installed, next.delta.changes);
  }
  // Two separate merges (no memo, or a fresh merge after many changes): compare the changed parts' keys.
  const scope = new Map<CompactContainer, Set<string>>(COMPACT_CONTAINERS.map((c) => [c, new Set<string>()]));
  const touch = (part: CompactPart) => {
    for (const [container, e] of part.elements) scope.get(container)!.add(e.key);
  };
  for (const part of prev.parts) if (!next.parts.has(part)) touch(part);
  for (const part of next.parts) if (!prev.parts.has(part)) touch(part);
  for (const m of [prev, next]) for (const key of m.elements.get('nodeport-ips')?.keys() ?? []) scope.get('nodeport-ips')!.add(key);

  const changes: CompactChange[] = [];
  for (const container of COMPACT_CONTAINERS) {
    for (const key of scope.get(container)!) {
      const before = prev.elements.get(container)?.get(key);
      const after = next.elements.get(container)?.get(key);
      if (before !== undefined && after !== undefined && sameElement(before, after)) continue;
      changes.push({ container, key, before, after });
    }
  }
  return commandsFor(prev, next, installed, changes);
}

function commandsFor(prev: NftCompactTable, next: NftCompactTable, installed: ReadonlySet<number>, changes: readonly CompactChange[]): CompactDiff {
  const fb = diffNftTable(prev.fallback, next.fallback);
  if (fb.needsFullSync) return { commands: [], chainsAdded: 0, elementsAdded: 0, elementsDeleted: 0, fallback: '', staleChains: [], needsFullSync: true };
  // Its commands in three groups, so every element delete of either layout comes before every add
  // (a Service moving between them frees a key one side adds), and chains exist before elements.
  const stale = new Set(fb.staleChains.map((name) => `flush chain ${next.family} ${TABLE} ${name}`));
  const isElement = (c: string) => c.startsWith('add element ') || c.startsWith('delete element ');
  const fbElements = fb.commands.filter((c) => isElement(c) && !c.includes(' nodeport-ips '));
  const fbBefore = fb.commands.filter((c) => !isElement(c) && !stale.has(c) && !c.startsWith('delete set '));
  const fbAfter = fb.commands.filter((c) => stale.has(c) || c.startsWith('delete set '));
  const chains: string[] = [];
  let chainsAdded = 0;
  for (const n of [...next.counts].sort((a, b) => a - b)) {
    if (installed.has(n)) continue;
    chains.push(...compactChainCommands(next, n));
    chainsAdded++;
  }
  const deletes: string[] = [];
  const adds: string[] = [];
  for (const { container, before, after } of changes) {
    // A changed value is a delete and an add: `add element` of a present key with another value fails.
    if (before !== undefined) deletes.push(compactElementCommand('delete', next.family, container, before));
    if (after !== undefined) adds.push(compactElementCommand('add', next.family, container, after));
  }
  const fbDeletes = fbElements.filter((c) => c.startsWith('delete '));
  const fbAdds = fbElements.filter((c) => c.startsWith('add '));
  const counted = describeCounts(fb.counts);
  return {
    commands: [...chains, ...fbBefore, ...deletes, ...fbDeletes, ...adds, ...fbAdds, ...fbAfter],
    chainsAdded,
    elementsAdded: adds.length,
    elementsDeleted: deletes.length,
    fallback: counted === 'no change' ? '' : counted,
    staleChains: fb.staleChains,
    needsFullSync: false,
  };
}

function sameElement(a: NftElement, b: NftElement): boolean {
  return a.value === b.value && a.comment === b.comment;
}
