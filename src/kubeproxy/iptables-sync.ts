// Keeps kube-proxy's iptables rules (nat and filter tables, per IP family) in step with a stream
// of renderings. The first sync of a family (and any after a failure) is full: every chain is
// written, Service chains the kernel holds but the rendering does not are deleted (iptables-save
// tells which), and the jumps from the built-in chains are ensured. Later syncs are partial
// (iptables-sync-plan.ts): the fixed chains and only the Service chains whose rules changed,
// one `iptables-restore --noflush` transaction per family, as kube-proxy's syncProxyRules does.
import { spawn } from 'node:child_process';
import type { RenderedRules } from './iptables-render.js';
import { JUMP_RULES, jumpArgs } from './iptables-sync-jumps.js';
import { chainsInSave, describePlan, parseRestoreInput, planFullSync, planPartialSync, type RestoreTables, type SyncPlan } from './iptables-sync-plan.js';
import type { IpFamily } from './service-ports.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command (with `input` on stdin); resolves with its exit status; rejects when it cannot start. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<CommandResult>;

/** Runs commands in a network namespace (`ip netns exec NAME`), or in this process's own when undefined. */
export function createCommandRunner(netns: string | undefined): CommandRunner {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const full = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => reject(new Error(`${full[0]}: ${err.message} (Debian packages iptables, iproute2)`)));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      // The command may exit before reading its input (a namespace that does not exist): the
      // write fails with EPIPE, and the exit status says why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
}

const TOOLS: Readonly<Record<IpFamily, { readonly iptables: string; readonly restore: string; readonly save: string }>> = {
  IPv4: { iptables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' },
  IPv6: { iptables: 'ip6tables', restore: 'ip6tables-restore', save: 'ip6tables-save' },
};

export interface IptablesSyncDeps {
  readonly run: CommandRunner;
  readonly log: (line: string) => void;
}

export interface FamilySync {
  readonly family: IpFamily;
  readonly kind: 'full' | 'partial';
  readonly plan: SyncPlan;
}

export interface IptablesSyncResult {
  /** 'full' when any family was synced in full. */
  readonly kind: 'full' | 'partial';
  readonly ok: boolean;
  readonly summary: string;
  /** What was planned per family, including its restore input (for the log and the tests). */
  readonly families: readonly FamilySync[];
}

const EMPTY: RestoreTables = { filter: new Map(), nat: new Map() };

export class IptablesSync {
  readonly #deps: IptablesSyncDeps;
  /** The chains applied last, per family; absent: the next sync of that family is full. */
  readonly #applied = new Map<IpFamily, RestoreTables>();
  #count = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** Time spent in iptables commands during the current sync (the rest is ours: parse and plan). */
  #commandMs = 0;

  constructor(deps: IptablesSyncDeps) {
    this.#deps = deps;
  }

  /** Applies the rendered rules; syncs run one after another in call order. */
  sync(rendered: readonly RenderedRules[]): Promise<IptablesSyncResult> {
    const next = this.#queue.then(() => this.#sync(rendered));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Nothing runs between syncs; here for the interface the command holds. */
  close(): void {}

  async #sync(rendered: readonly RenderedRules[]): Promise<IptablesSyncResult> {
    const started = performance.now();
    this.#commandMs = 0;
    const n = ++this.#count;
    const families: FamilySync[] = [];
    const summaries: string[] = [];
    const details: string[] = [];
    const kinds: ('full' | 'partial')[] = [];
    let ok = true;
    for (const family of ['IPv4', 'IPv6'] as const) {
      const text = rendered.find((r) => r.family === family)?.text;
      const prev = this.#applied.get(family);
      // A family not rendered and not applied: nothing to do. One applied but no longer
      // rendered is emptied (its Service chains deleted) by a partial sync to no chains.
      if (text === undefined && prev === undefined) continue;
      const next = text === undefined ? EMPTY : parseRestoreInput(text);
      kinds.push(prev === undefined ? 'full' : 'partial');
      try {
        const f = prev === undefined ? await this.#full(family, next) : await this.#partial(family, prev, next);
        families.push(f);
        summaries.push(`${family}: ${describePlan(f.plan)}`);
        if (f.kind === 'partial') details.push(...describeChains(family, f.plan));
        if (text === undefined) this.#applied.delete(family);
        else this.#applied.set(family, next);
      } catch (err) {
        // iptables-restore commits table by table: the filter table may be applied when the nat
        // table failed. The next sync writes all in full. (A family being emptied is then left as
        // it is: with nothing rendered, there is no full sync to retry it with.)
        this.#applied.delete(family);
        ok = false;
        summaries.push(`${family}: failed: ${(err as Error).message}`);
      }
    }
    const kind = kinds.includes('full') || kinds.length === 0 ? 'full' : 'partial';
    const summary = summaries.length === 0 ? 'nothing to program' : summaries.join('; ');
    this.#deps.log(`iptables sync ${n} (${kind})${ok ? '' : ' failed'}: ${summary}`);
    for (const line of details) this.#deps.log(`  ${line}`);
    // Last, so the summary and its detail lines stay together and the same from run to run; the
    // same shape as the nftables mode's line (bench/kube-proxy-scale.mjs reads both).
    const total = performance.now() - started;
    this.#deps.log(`  took ${total.toFixed(1)} ms: plan ${(total - this.#commandMs).toFixed(1)} ms, iptables ${this.#commandMs.toFixed(1)} ms`);
    return { kind, ok, summary, families };
  }

  async #full(family: IpFamily, next: RestoreTables): Promise<FamilySync> {
    const tools = TOOLS[family];
    const existing = { filter: new Set<string>(), nat: new Set<string>() };
    for (const table of ['nat', 'filter'] as const) {
      const saved = await this.#must([tools.save, '-t', table]);
      for (const c of chainsInSave(saved)[table]) existing[table].add(c);
    }
    const plan = planFullSync(next, existing);
    await this.#must([tools.restore, '--noflush', '--counters'], plan.input);
    // After the restore, so the chains jumped to exist; only to chains this family renders
    // (the IPv6 rules have no KUBE-FIREWALL).
    for (const jump of JUMP_RULES) {
      if (!next[jump.table].has(jump.to)) continue;
      const args = jumpArgs(jump);
      const check = await this.#run([tools.iptables, '-t', jump.table, '-C', jump.from, ...args]);
      if (check.code === 0) continue;
      await this.#must([tools.iptables, '-t', jump.table, '-I', jump.from, ...args]);
    }
    return { family, kind: 'full', plan };
  }

  async #partial(family: IpFamily, prev: RestoreTables, next: RestoreTables): Promise<FamilySync> {
    const plan = planPartialSync(prev, next);
    if (plan.input !== '') await this.#must([TOOLS[family].restore, '--noflush', '--counters'], plan.input);
    return { family, kind: 'partial', plan };
  }

  async #run(argv: readonly string[], input?: string): Promise<CommandResult> {
    const t = performance.now();
    try {
      return await this.#deps.run(argv, input);
    } finally {
      this.#commandMs += performance.now() - t;
    }
  }

  async #must(argv: readonly string[], input?: string): Promise<string> {
    const r = await this.#run(argv, input);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }
}

/** The Service chains a partial sync wrote and deleted, for the log (up to 20 per list). */
function describeChains(family: IpFamily, plan: SyncPlan): string[] {
  const lines: string[] = [];
  const list = (names: readonly string[]) => (names.length <= 20 ? names.join(' ') : `${names.slice(0, 20).join(' ')} ... and ${names.length - 20} more`);
  for (const t of plan.tables) {
    if (t.written.length > 0) lines.push(`${family} ${t.table} written: ${list(t.written)}`);
    if (t.deleted.length > 0) lines.push(`${family} ${t.table} deleted: ${list(t.deleted)}`);
    if (t.emptied.length > 0) lines.push(`${family} ${t.table} emptied: ${list(t.emptied)}`);
  }
  return lines;
}
