// What one iptables sync sends: the `iptables-restore --noflush` input that takes the kernel from
// the rules applied last to the newly rendered ones. Pure: rendered text in, restore text out.
//
// Follows kube-proxy's syncProxyRules (kubernetes pkg/proxy/iptables/proxier.go):
//  - the fixed chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ, and the
//    filter table's) are written whole on every sync: a chain line (`:NAME - [0:0]`, which under
//    --noflush creates or flushes that one chain) and its rules;
//  - a per-Service chain (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-, KUBE-SEP-) is written only
//    when it is new or its rules changed; kube-proxy skips the chains of Services whose objects
//    did not change, we compare the rendered rules, which sends the same or fewer chains;
//  - a Service chain no longer rendered is flushed (its chain line) and deleted (`-X`) in the
//    same transaction, after the rules that jumped to it were rewritten.
// A full sync writes every chain and deletes every Service chain the kernel holds that is not
// rendered (found with iptables-save, as kube-proxy does).

/** kube-proxy's isServiceChainName: the chains that belong to one Service port or endpoint. */
const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

/** The tables kube-proxy writes, in the order it writes them. */
export const SYNC_TABLES = ['filter', 'nat'] as const;
export type SyncTable = (typeof SYNC_TABLES)[number];

/** Chain name → its `-A CHAIN ...` lines in order, per table. */
export type ChainRules = ReadonlyMap<string, readonly string[]>;
export type RestoreTables = Readonly<Record<SyncTable, ChainRules>>;

/** Reads restore input as the renderer writes it (`*table`, `:CHAIN - [0:0]`, `-A CHAIN ...`, `COMMIT`). */
export function parseRestoreInput(text: string): RestoreTables {
  const tables: Record<SyncTable, Map<string, string[]>> = { filter: new Map(), nat: new Map() };
  let current: Map<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name !== 'filter' && name !== 'nat') throw new Error(`restore input: table ${JSON.stringify(name)} is not one kube-proxy writes`);
      current = tables[name];
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current === undefined) {
      throw new Error(`restore input: ${JSON.stringify(line)} outside a table`);
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      if (!current.has(chain)) current.set(chain, []);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      if (!current.has(chain)) current.set(chain, []);
      current.get(chain)!.push(line);
    } else {
      throw new Error(`restore input: unexpected line ${JSON.stringify(line)}`);
    }
  }
  return tables;
}

/** The chain names of the `*nat` / `*filter` sections of iptables-save output. */
export function chainsInSave(saved: string): Record<SyncTable, Set<string>> {
  const out: Record<SyncTable, Set<string>> = { filter: new Set(), nat: new Set() };
  let current: Set<string> | undefined;
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) current = line === '*nat' ? out.nat : line === '*filter' ? out.filter : undefined;
    else if (line.startsWith(':') && current !== undefined) current.add(line.slice(1).split(' ')[0]!);
  }
  return out;
}

export interface TablePlan {
  readonly table: SyncTable;
  /** Fixed chains written (always all of them). */
  readonly fixed: readonly string[];
  /** Service chains written: new, or their rules changed. */
  readonly written: readonly string[];
  /** Service chains flushed and deleted. */
  readonly deleted: readonly string[];
  /** Fixed chains no longer rendered: flushed, kept (the built-in chains may still jump to them). */
  readonly emptied: readonly string[];
}

export interface SyncPlan {
  /** The iptables-restore input; '' when nothing changed. */
  readonly input: string;
  readonly tables: readonly TablePlan[];
}

/**
 * Partial sync: from the chains applied last to the rendered ones. Sends nothing when no chain
 * changed; otherwise both tables with every fixed chain, as kube-proxy does.
 */
export function planPartialSync(prev: RestoreTables, next: RestoreTables): SyncPlan {
  const tables = SYNC_TABLES.map((table) => {
    const before = prev[table];
    const after = next[table];
    const written = [...after].filter(([c, rules]) => isServiceChainName(c) && !sameRules(before.get(c), rules)).map(([c]) => c);
    const gone = [...before.keys()].filter((c) => !after.has(c));
    return {
      table,
      fixed: [...after.keys()].filter((c) => !isServiceChainName(c)),
      written,
      deleted: gone.filter(isServiceChainName),
      emptied: gone.filter((c) => !isServiceChainName(c)),
    };
  });
  const fixedChanged = SYNC_TABLES.some((table) => [...next[table]].some(([c, rules]) => !isServiceChainName(c) && !sameRules(prev[table].get(c), rules)));
  const changed = fixedChanged || tables.some((t) => t.written.length + t.deleted.length + t.emptied.length > 0);
  return { input: changed ? restoreInput(next, tables) : '', tables };
}

/** Full sync: every rendered chain, and every Service chain the kernel has that is not rendered. */
export function planFullSync(next: RestoreTables, existing: Readonly<Record<SyncTable, ReadonlySet<string>>>): SyncPlan {
  const tables = SYNC_TABLES.map((table) => {
    const after = next[table];
    return {
      table,
      fixed: [...after.keys()].filter((c) => !isServiceChainName(c)),
      written: [...after.keys()].filter(isServiceChainName),
      deleted: [...existing[table]].filter((c) => isServiceChainName(c) && !after.has(c)).sort(),
      emptied: [],
    };
  });
  return { input: restoreInput(next, tables), tables };
}

/**
 * kube-proxy's layout: per table the chain lines, then the rules, then the `-X` lines, so a
 * chain is deleted only after the rules that jumped to it were replaced.
 */
function restoreInput(next: RestoreTables, plans: readonly TablePlan[]): string {
  const lines: string[] = [];
  for (const p of plans) {
    const rules = next[p.table];
    const writes = [...p.fixed, ...p.written];
    lines.push(`*${p.table}`);
    for (const c of [...writes, ...p.emptied, ...p.deleted]) lines.push(`:${c} - [0:0]`);
    for (const c of writes) lines.push(...(rules.get(c) ?? []));
    for (const c of p.deleted) lines.push(`-X ${c}`);
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

/** `2 service chains written, 1 deleted` for the log; `no change` when nothing was sent. */
export function describePlan(plan: SyncPlan): string {
  if (plan.input === '') return 'no change';
  const sum = (f: (t: TablePlan) => number) => plan.tables.reduce((s, t) => s + f(t), 0);
  const parts = [`${sum((t) => t.written.length)} service chain${sum((t) => t.written.length) === 1 ? '' : 's'} written`, `${sum((t) => t.deleted.length)} deleted`, `${sum((t) => t.fixed.length)} fixed chains rewritten`];
  const emptied = sum((t) => t.emptied.length);
  if (emptied > 0) parts.push(`${emptied} emptied`);
  return parts.join(', ');
}
