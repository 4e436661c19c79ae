// Chains a partial sync stopped using are flushed in that sync and deleted a second later, as
// kube-proxy does: before Linux 6.2 the kernel sees a chain unreferenced only a moment after the
// element or rule naming it went. One mechanism for both nftables syncers (kube-proxy's layout in
// nftables-sync.ts, the compact one in nftables-compact-sync.ts), and the two pieces of their
// scripts and logs they share.
import { TABLE } from './nftables-base.js';

export interface StaleChainsDeps {
  /** Runs one nftables script (the syncer's NftRunner). */
  readonly run: (script: string) => Promise<void>;
  readonly log: (line: string) => void;
  /** Delay before flushed chains are deleted; default 1000 ms (kube-proxy waits one second). */
  readonly delayMs?: number;
  /** Queues the delete behind the syncs, so it never runs beside one. */
  readonly enqueue: (task: () => Promise<void>) => void;
}

export class StaleChains {
  readonly #deps: StaleChainsDeps;
  /** Flushed chains waiting to be deleted, per family. */
  readonly #stale = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: StaleChainsDeps) {
    this.#deps = deps;
  }

  /**
   * After a sync that succeeded: a full one rebuilt the tables (nothing is waiting any more); a
   * chain back in use is no longer stale (checked from the stale side: a table has up to 100,000
   * chains); the chains this sync flushed wait for their delete.
   */
  applied(full: boolean, tables: readonly { readonly family: string; readonly uses: (chain: string) => boolean }[], flushed: ReadonlyMap<string, readonly string[]> | undefined): void {
    if (full) this.#stale.clear();
    for (const t of tables) {
      const stale = this.#stale.get(t.family) ?? new Set<string>();
      this.#stale.set(t.family, stale);
      for (const name of stale) if (t.uses(name)) stale.delete(name);
      for (const name of flushed?.get(t.family) ?? []) stale.add(name);
    }
    this.#schedule();
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || [...this.#stale.values()].every((s) => s.size === 0)) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#deps.enqueue(() => this.#delete());
    }, this.#deps.delayMs ?? 1000);
    this.#timer.unref();
  }

  async #delete(): Promise<void> {
    const lines: string[] = [];
    for (const [family, names] of this.#stale) for (const name of names) lines.push(`delete chain ${family} ${TABLE} ${name}`);
    if (lines.length === 0) return;
    try {
      await this.#deps.run(`${lines.join('\n')}\n`);
      this.#stale.clear();
      this.#deps.log(`nftables: deleted ${lines.length} stale chain${lines.length === 1 ? '' : 's'}`);
    } catch (err) {
      // Still referenced a moment longer on an old kernel: try again later.
      this.#deps.log(`nftables: deleting stale chains failed, will retry: ${(err as Error).message}`);
      this.#schedule();
    }
  }
}

/**
 * The start of a full sync's script: both families' tables deleted (`add table` first, so the
 * delete never fails), so an ip6 table an earlier run left is not kept by mistake.
 */
export function resetTablesScript(): string {
  return ['ip', 'ip6'].map((family) => `add table ${family} ${TABLE}\ndelete table ${family} ${TABLE}\n`).join('');
}

/** What a partial sync sent, for the log: every command but the rules of the chains it adds. */
export function describeCommands(script: string, max = 20): string[] {
  const lines = script.split('\n').filter((l) => l !== '' && !l.startsWith('add rule '));
  return lines.length <= max ? lines : [...lines.slice(0, max), `... and ${lines.length - max} more`];
}
