// Keeps kube-proxy's nftables table in step with a stream of models. The first sync (and any
// after a failure) is full: the table is deleted and rebuilt in one `nft -f` transaction. Later
// syncs are partial (nftables-diff.ts): only new or changed chains, and set and map elements one
// by one, so chains nothing changed keep their rule handles and counters. Chains a sync stopped
// using are flushed at once and deleted a second later, as kube-proxy does.
import { spawn } from 'node:child_process';
import { systemClock, type Clock } from '../core/clock.js';
import { describeCounts, diffNftTable } from './nftables-diff.js';
import type { NftTableModel } from './nftables-model.js';
import { renderTable } from './nftables-render.js';
import { describeCommands, resetTablesScript, StaleChains } from './nftables-stale-chains.js';

/** Runs one nftables script as one transaction; rejects with nft's error output. */
export type NftRunner = (script: string) => Promise<void>;

/** `nft -f -` in a network namespace (`ip netns exec NAME`), or in this process's own when undefined. */
export function createNftRunner(netns: string | undefined): NftRunner {
  const argv = netns === undefined ? ['nft', '-f', '-'] : ['ip', 'netns', 'exec', netns, 'nft', '-f', '-'];
  return (script) =>
    new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(new Error(`${argv[0]}: ${err.message} (Debian packages nftables, iproute2)`)));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim()}`))));
      // nft (or ip, for a namespace that does not exist) may exit before reading the script: the
      // write fails with EPIPE, and the exit status, reported on close, says why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(script);
    });
}

export interface NftablesSyncDeps {
  readonly run: NftRunner;
  readonly log: (line: string) => void;
  /** Delay before flushed chains are deleted; default 1000 ms (kube-proxy waits one second). */
  readonly staleChainDelayMs?: number;
  /** Times each sync for its log line (kube-proxy's sync_proxy_rules_duration_seconds); default the system clock. */
  readonly clock?: Pick<Clock, 'monotonicMs'>;
}

export interface SyncResult {
  readonly kind: 'full' | 'partial';
  readonly ok: boolean;
  readonly summary: string;
  /** From the start of this sync (its turn in the queue) to nft's exit: the plan, then nft. */
  readonly durationMs: number;
  /** Of which nft (the transaction in the kernel, and nft's own parsing and cache). */
  readonly nftMs: number;
}

export class NftablesSync {
  readonly #deps: NftablesSyncDeps;
  #applied: readonly NftTableModel[] | undefined;
  readonly #stale: StaleChains;
  #count = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: NftablesSyncDeps) {
    this.#deps = deps;
    this.#stale = new StaleChains({ run: deps.run, log: deps.log, delayMs: deps.staleChainDelayMs, enqueue: (task) => (this.#queue = this.#queue.then(task)) });
  }

  /** Applies `models`; syncs run one after another in call order. */
  sync(models: readonly NftTableModel[]): Promise<SyncResult> {
    const next = this.#queue.then(() => this.#sync(models));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#stale.close();
  }

  async #sync(models: readonly NftTableModel[]): Promise<SyncResult> {
    const clock = this.#deps.clock ?? systemClock;
    const started = clock.monotonicMs();
    const n = ++this.#count;
    const prev = this.#applied;
    const plan = prev === undefined ? undefined : this.#partialPlan(prev, models);
    const kind = plan === undefined ? 'full' : 'partial';
    const script = plan?.script ?? fullScript(models);
    const summary = plan?.summary ?? `${models.length} table${models.length === 1 ? '' : 's'}, ${models.reduce((s, m) => s + m.chains.size, 0)} service chains, ${models.reduce((s, m) => s + [...m.elements.values()].reduce((x, e) => x + e.size, 0), 0)} elements`;
    const planned = clock.monotonicMs();
    if (script !== '') {
      try {
        await this.#deps.run(script);
      } catch (err) {
        // The kernel kept its old state (one transaction); the next sync starts over in full.
        this.#applied = undefined;
        this.#deps.log(`nftables sync ${n} (${kind}) failed: ${(err as Error).message}`);
        const end = clock.monotonicMs();
        return { kind, ok: false, summary: (err as Error).message, durationMs: end - started, nftMs: end - planned };
      }
    }
    const done = clock.monotonicMs();
    this.#applied = models;
    this.#stale.applied(plan === undefined, models.map((m) => ({ family: m.family, uses: (chain: string) => m.chains.has(chain) })), plan?.staleChains);
    this.#deps.log(`nftables sync ${n} (${kind}): ${summary}`);
    // On its own line, so the summary line stays the same from run to run.
    this.#deps.log(`  took ${ms(done - started)} ms: plan ${ms(planned - started)} ms, nft ${ms(done - planned)} ms`);
    if (plan !== undefined) for (const line of describeCommands(plan.script)) this.#deps.log(`  ${line}`);
    return { kind, ok: true, summary, durationMs: done - started, nftMs: done - planned };
  }

  #partialPlan(prev: readonly NftTableModel[], next: readonly NftTableModel[]): { script: string; summary: string; staleChains: Map<string, readonly string[]> } | undefined {
    const commands: string[] = [];
    const summaries: string[] = [];
    const staleChains = new Map<string, readonly string[]>();
    for (const model of next) {
      const old = prev.find((m) => m.family === model.family);
      if (old === undefined) return undefined;
      const diff = diffNftTable(old, model);
      if (diff.needsFullSync) return undefined;
      commands.push(...diff.commands);
      staleChains.set(model.family, diff.staleChains);
      summaries.push(`${model.family}: ${describeCounts(diff.counts)}`);
    }
    if (prev.some((m) => !next.some((x) => x.family === m.family))) return undefined;
    return { script: commands.length === 0 ? '' : `${commands.join('\n')}\n`, summary: summaries.join('; '), staleChains };
  }
}

/**
 * Deletes and rebuilds the tables in one transaction (resetTablesScript). Unlike kube-proxy's full
 * sync, this forgets the affinity sets' entries.
 */
function fullScript(models: readonly NftTableModel[]): string {
  return resetTablesScript() + models.map(renderTable).join('');
}

const ms = (v: number): string => v.toFixed(1);
