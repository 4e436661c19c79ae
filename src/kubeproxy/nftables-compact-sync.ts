// Keeps the compact layout's tables in step with a stream of models (nftables-compact-model.ts).
// As NftablesSync does for kube-proxy's layout: the first sync (and any after a failure) deletes
// and rebuilds the tables in one `nft -f` transaction; later syncs send only the difference,
// which here is element commands (and the chains of a new endpoint count), so nft's cache dump
// before them is of a few dozen chains and sets, not 111,000 chains. Same log lines as
// NftablesSync, so `kube-proxy apply` and bench/kube-proxy-scale.mjs read both alike.
import { systemClock, type Clock } from '../core/clock.js';
import { diffCompactTable } from './nftables-compact-diff.js';
import type { NftCompactTable } from './nftables-compact-model.js';
import { renderCompactTable } from './nftables-compact-render.js';
import { describeCommands, resetTablesScript, StaleChains } from './nftables-stale-chains.js';
import type { NftRunner, SyncResult } from './nftables-sync.js';

export interface NftCompactSyncDeps {
  readonly run: NftRunner;
  readonly log: (line: string) => void;
  /** Delay before flushed chains (of Services in kube-proxy's chains) are deleted; default 1000 ms, as NftablesSync. */
  readonly staleChainDelayMs?: number;
  readonly clock?: Pick<Clock, 'monotonicMs'>;
}

interface Applied {
  readonly tables: readonly NftCompactTable[];
  /** Per family, the endpoint counts whose chains are in the kernel (kept while unused). */
  readonly installed: ReadonlyMap<string, ReadonlySet<number>>;
}

export class NftCompactSync {
  readonly #deps: NftCompactSyncDeps;
  #applied: Applied | undefined;
  #count = 0;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stale: StaleChains;

  constructor(deps: NftCompactSyncDeps) {
    this.#deps = deps;
    this.#stale = new StaleChains({ run: deps.run, log: deps.log, delayMs: deps.staleChainDelayMs, enqueue: (task) => (this.#queue = this.#queue.then(task)) });
  }

  /** Applies `tables`; syncs run one after another in call order. */
  sync(tables: readonly NftCompactTable[]): Promise<SyncResult> {
    const next = this.#queue.then(() => this.#sync(tables));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#stale.close();
  }

  async #sync(tables: readonly NftCompactTable[]): Promise<SyncResult> {
    const clock = this.#deps.clock ?? systemClock;
    const started = clock.monotonicMs();
    const n = ++this.#count;
    const plan = this.#applied === undefined ? undefined : partialPlan(this.#applied, tables);
    const kind = plan === undefined ? 'full' : 'partial';
    const script = plan?.script ?? fullScript(tables);
    const summary = plan?.summary ?? fullSummary(tables);
    const planned = clock.monotonicMs();
    if (script !== '') {
      try {
        await this.#deps.run(script);
      } catch (err) {
        // One transaction: the kernel kept its old state, and the next sync starts over in full.
        this.#applied = undefined;
        this.#deps.log(`nftables sync ${n} (${kind}) failed: ${(err as Error).message}`);
        const end = clock.monotonicMs();
        return { kind, ok: false, summary: (err as Error).message, durationMs: end - started, nftMs: end - planned };
      }
    }
    const done = clock.monotonicMs();
    const installed = new Map<string, ReadonlySet<number>>();
    for (const t of tables) installed.set(t.family, new Set([...(plan === undefined ? [] : (this.#applied?.installed.get(t.family) ?? [])), ...t.counts]));
    this.#applied = { tables, installed };
    // Only the Services in kube-proxy's chains have chains that go stale.
    this.#stale.applied(plan === undefined, tables.map((t) => ({ family: t.family, uses: (chain: string) => t.fallback.chains.has(chain) })), plan?.staleChains);
    this.#deps.log(`nftables sync ${n} (${kind}): ${summary}`);
    this.#deps.log(`  took ${(done - started).toFixed(1)} ms: plan ${(planned - started).toFixed(1)} ms, nft ${(done - planned).toFixed(1)} ms`);
    if (plan !== undefined) for (const line of describeCommands(plan.script)) this.#deps.log(`  ${line}`);
    return { kind, ok: true, summary, durationMs: done - started, nftMs: done - planned };
  }
}

function partialPlan(applied: Applied, next: readonly NftCompactTable[]): { script: string; summary: string; staleChains: Map<string, readonly string[]> } | undefined {
  const commands: string[] = [];
  const summaries: string[] = [];
  const staleChains = new Map<string, readonly string[]>();
  // A family appearing or going is a full sync (both tables are rebuilt together).
  if (applied.tables.length !== next.length || applied.tables.some((t, i) => t.family !== next[i]?.family)) return undefined;
  for (const [i, table] of next.entries()) {
    const diff = diffCompactTable(applied.tables[i]!, table, applied.installed.get(table.family) ?? new Set());
    if (diff.needsFullSync) return undefined;
    commands.push(...diff.commands);
    staleChains.set(table.family, diff.staleChains);
    const parts: string[] = [];
    const say = (k: number, noun: string, verb: string) => k > 0 && parts.push(`${k} ${noun}${k === 1 ? '' : 's'} ${verb}`);
    say(diff.chainsAdded * 3, 'chain', 'added');
    say(diff.elementsAdded, 'element', 'added');
    say(diff.elementsDeleted, 'element', 'deleted');
    if (diff.fallback !== '') parts.push(`in kube-proxy's chains: ${diff.fallback}`);
    summaries.push(`${table.family}: ${parts.length === 0 ? 'no change' : parts.join(', ')}`);
  }
  return { script: commands.length === 0 ? '' : `${commands.join('\n')}\n`, summary: summaries.join('; '), staleChains };
}

/** Deletes and rebuilds both families' tables in one transaction (resetTablesScript). */
function fullScript(tables: readonly NftCompactTable[]): string {
  return resetTablesScript() + tables.map(renderCompactTable).join('');
}

function fullSummary(tables: readonly NftCompactTable[]): string {
  const chains = tables.reduce((s, t) => s + t.counts.size * 3, 0);
  const elements = tables.reduce((s, t) => s + [...t.elements.values()].reduce((x, e) => x + e.size, 0), 0);
  const kp = tables.reduce((s, t) => s + t.fallbackPorts, 0);
  const kpChains = tables.reduce((s, t) => s + t.fallback.chains.size, 0);
  return `${tables.length} table${tables.length === 1 ? '' : 's'} (compact layout), ${chains} endpoint-count chains, ${elements} elements; ${kp} Service port${kp === 1 ? '' : 's'} in kube-proxy's chains (${kpChains} chains)`;
}
