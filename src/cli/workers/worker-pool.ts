// The primary's side of `--workers N`: forks the workers, hands each the IR, decides an apply's
// outcome from all their results, restarts a worker that dies, and drains them all on SIGTERM.
//
// Scheduling: SCHED_NONE (the primary binds each socket once and every worker accepts on the shared
// handle, so the kernel wakes one accepter per connection) rather than Node's default SCHED_RR (the
// primary accepts every connection and passes it over IPC: one process touches every connection,
// the bottleneck on a 2-core machine). Node 20 has no reusePort. NODE_CLUSTER_SCHED_POLICY=rr
// still selects round-robin, to measure the difference (bench/README.md).
import cluster, { type Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import type { ApplyResult } from '../../dataplane/data-plane.js';
import type { IrSnapshot } from '../../ir/types.js';
import type { UsageEntry } from '../../state/usage-meter.js';
import { isFromWorker, type BoundPort, type FromWorker, type ToWorker } from './messages.js';
import { aggregateMetrics, type AggregatedMetrics } from './metrics-aggregation.js';
import type { TrafficWorkers } from './traffic-workers.js';
import { mergeUpstreamViews } from './upstreams-merge.js';

/** A worker that dies more often than this is not restarted again (a crash loop only burns CPU). */
export const RESTART_LIMIT = { count: 5, windowMs: 30_000 } as const;
const APPLY_TIMEOUT_MS = 30_000;
const QUERY_TIMEOUT_MS = 5_000;
/** The worker's own grace, then this long to exit before SIGKILL. */
const EXIT_MARGIN_MS = 5_000;

export interface WorkerPoolOptions {
  readonly count: number;
  readonly log: (line: string) => void;
  /** Usage counts a worker flushed: added to the primary's meter (the one writer of the file or Redis). */
  readonly onUsage: (entries: readonly UsageEntry[]) => void;
  /** The first worker cannot start, or every worker is gone and none may restart. */
  readonly onFatal: (why: string) => void;
}

interface Member {
  /** 1..N, kept by the worker that replaces it: the access log's `worker` field. */
  readonly slot: number;
  readonly worker: Worker;
  online: boolean;
  /** The IR generation this worker serves; undefined before its first apply. */
  generation: number | undefined;
  ports: readonly BoundPort[];
  readonly pending: Map<number, (reply: FromWorker | Error) => void>;
  cut: number;
  /** Settles on the worker's 'drained' message (sent after its last usage counts) or soon after its exit. */
  readonly drained: Promise<void>;
  settleDrained(): void;
}

type Reply<K extends FromWorker['kind']> = Extract<FromWorker, { kind: K }>;

export class WorkerPool implements TrafficWorkers {
  readonly #members = new Map<number, Member>();
  #current: IrSnapshot | undefined;
  #nextId = 1;
  #stopping = false;
  #restarts: number[] = [];
  #exited: (() => void) | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Forks every worker; resolves when all are set up (none has a configuration yet). */
  async start(): Promise<void> {
    // JSON, the IR's contract (src/ir/types.ts): structured clone would refuse the functions that
    // live views (metrics, upstream stats) carry, which JSON drops as the admin API does.
    cluster.setupPrimary({ serialization: 'json' });
    if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
    const hellos: Promise<void>[] = [];
    for (let slot = 1; slot <= this.options.count; slot++) hellos.push(this.#fork(slot));
    await Promise.all(hellos);
  }

  async apply(ir: IrSnapshot): Promise<ApplyResult> {
    const targets = this.#online();
    const replies = await Promise.all(targets.map((m) => this.#applyTo(m, ir).catch(() => undefined)));
    const answered = replies.filter((r): r is Reply<'applied'> => r !== undefined);
    const refused = answered.find((r) => r.outcome === 'rejected');
    if (answered.length === 0) {
      return { outcome: 'rejected', diagnostics: [{ severity: 'error', code: 'ERR_WORKER_APPLY', message: `no worker answered the apply of generation ${ir.generation} (of ${targets.length})` }] };
    }
    if (refused !== undefined) {
      // One worker could not bind (or compile): the config is refused as in one process, and the
      // workers that did take it go back to the last good one, so all serve the same.
      const last = this.#current;
      if (last !== undefined) {
        await Promise.all(targets.filter((_m, i) => replies[i]?.outcome === 'applied').map((m) => this.#applyTo(m, last).catch(() => undefined)));
      }
      return { outcome: 'rejected', diagnostics: refused.diagnostics, ...(refused.failedBind === undefined ? {} : { failedBind: refused.failedBind }) };
    }
    this.#current = ir;
    // A worker that came up during this apply was sent the previous IR: bring it forward.
    for (const m of this.#online()) if (!targets.includes(m)) void this.#sync(m);
    return { outcome: 'applied', diagnostics: answered[0]!.diagnostics };
  }

  isCurrent(): boolean {
    const current = this.#current;
    if (current === undefined || this.#members.size === 0) return false;
    return [...this.#members.values()].every((m) => m.generation === current.generation);
  }

  readiness(): Record<string, unknown> {
    return {
      generation: this.#current?.generation ?? null,
      workers: [...this.#members.values()].sort((a, b) => a.slot - b.slot).map((m) => ({ worker: m.slot, pid: m.worker.process.pid ?? null, generation: m.generation ?? null })),
    };
  }

  async upstreams(): Promise<unknown> {
    const members = this.#online().sort((a, b) => a.slot - b.slot);
    if (members.length === 0) return null;
    const replies = await Promise.all(members.map((m) => this.#request<'upstreams'>(m, { kind: 'upstreams', id: this.#nextId++ }, QUERY_TIMEOUT_MS)));
    return { workers: members.length, ...(mergeUpstreamViews(replies.map((r) => r.upstreams)) as object) };
  }

  async metrics(own: Registry): Promise<AggregatedMetrics> {
    // A worker that does not answer fails the scrape: a total without it would look like a counter reset.
    const replies = await Promise.all(this.#online().map((m) => this.#request<'metrics'>(m, { kind: 'metrics', id: this.#nextId++ }, QUERY_TIMEOUT_MS)));
    return await aggregateMetrics(own, replies.map((r) => r.metrics));
  }

  async flushUsage(): Promise<void> {
    await Promise.all(this.#online().map((m) => this.#request<'flushed-usage'>(m, { kind: 'flush-usage', id: this.#nextId++ }, QUERY_TIMEOUT_MS)));
  }

  async drain(graceMs: number): Promise<number> {
    this.#stopping = true;
    const members = [...this.#members.values()];
    if (members.length === 0) return 0;
    const allExited = new Promise<void>((resolve) => (this.#exited = resolve));
    for (const m of members) this.#send(m, { kind: 'drain', graceMs });
    const timer = setTimeout(() => {
      for (const m of this.#members.values()) {
        this.options.log(`isthmus: worker ${m.slot} (pid ${m.worker.process.pid}) did not exit within the grace; killing it`);
        m.worker.process.kill('SIGKILL');
      }
    }, graceMs + EXIT_MARGIN_MS);
    await Promise.all([allExited, ...members.map((m) => m.drained)]);
    clearTimeout(timer);
    return members.reduce((n, m) => n + m.cut, 0);
  }

  boundPorts(): readonly BoundPort[] {
    return this.#online().sort((a, b) => a.slot - b.slot)[0]?.ports ?? [];
  }

  #online(): Member[] {
    return [...this.#members.values()].filter((m) => m.online);
  }

  /** Resolves once the worker said hello (and was sent the current IR); rejects if it exits first. */
  #fork(slot: number): Promise<void> {
    const worker = cluster.fork({ ISTHMUS_WORKER_SLOT: String(slot) });
    let settleDrained = (): void => {};
    const drained = new Promise<void>((resolve) => (settleDrained = resolve));
    const member: Member = { slot, worker, online: false, generation: undefined, ports: [], pending: new Map(), cut: 0, drained, settleDrained };
    this.#members.set(worker.id, member);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (raw: unknown) => {
        if (!isFromWorker(raw)) return;
        if (raw.kind === 'hello') {
          member.online = true;
          void this.#sync(member);
          resolve();
        } else this.#receive(member, raw);
      });
      worker.on('exit', (code, signal) => {
        this.#members.delete(worker.id);
        // Messages already on the channel may still be read after the exit event: give them a moment.
        setTimeout(() => member.settleDrained(), 100).unref();
        for (const settle of member.pending.values()) settle(new Error(`worker ${slot} exited`));
        member.pending.clear();
        const how = signal !== null ? `signal ${signal}` : `code ${code}`;
        if (!member.online) reject(new Error(`worker ${slot} exited (${how}) before it was set up`));
        if (this.#stopping) {
          if (this.#members.size === 0) this.#exited?.();
          return;
        }
        this.#restart(slot, worker.process.pid, how);
      });
    });
  }

  #restart(slot: number, pid: number | undefined, how: string): void {
    const now = performance.now();
    this.#restarts = this.#restarts.filter((t) => now - t < RESTART_LIMIT.windowMs);
    if (this.#restarts.length >= RESTART_LIMIT.count) {
      this.options.log(`isthmus: worker ${slot} (pid ${pid}) exited (${how}); ${RESTART_LIMIT.count} restarts in ${RESTART_LIMIT.windowMs / 1000} s already: not restarting it`);
      if (this.#members.size === 0) this.options.onFatal('every worker exited and the restart limit is reached');
      return;
    }
    // Backoff: at once the first time, then 200 ms more per recent restart.
    const delayMs = this.#restarts.length * 200;
    this.#restarts.push(now);
    this.options.log(`isthmus: worker ${slot} (pid ${pid}) exited (${how}); restarting${delayMs > 0 ? ` in ${delayMs} ms` : ''}`);
    setTimeout(() => {
      if (this.#stopping) return;
      this.#fork(slot).catch((err: Error) => this.options.log(`isthmus: ${err.message}`));
    }, delayMs);
  }

  /** A worker behind the current IR (new, restarted, or joined mid-apply) gets it. */
  async #sync(member: Member): Promise<void> {
    const current = this.#current;
    if (current === undefined || member.generation === current.generation) return;
    try {
      const reply = await this.#applyTo(member, current);
      if (reply.outcome === 'rejected') {
        this.options.log(`isthmus: worker ${member.slot} could not apply generation ${current.generation}: ${reply.diagnostics.map((d) => d.message).join('; ')}`);
      }
    } catch {
      // It exited: its replacement syncs itself.
    }
  }

  async #applyTo(member: Member, ir: IrSnapshot): Promise<Reply<'applied'>> {
    const reply = await this.#request<'applied'>(member, { kind: 'apply', id: this.#nextId++, ir }, APPLY_TIMEOUT_MS);
    if (reply.outcome === 'applied') member.generation = reply.generation;
    member.ports = reply.ports;
    return reply;
  }

  #request<K extends FromWorker['kind']>(member: Member, message: ToWorker & { id: number }, timeoutMs: number): Promise<Reply<K>> {
    return new Promise<Reply<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        member.pending.delete(message.id);
        reject(new Error(`worker ${member.slot} did not answer ${message.kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      member.pending.set(message.id, (reply) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else resolve(reply as Reply<K>);
      });
      this.#send(member, message);
    });
  }

  #receive(member: Member, message: FromWorker): void {
    switch (message.kind) {
      case 'usage':
        this.options.onUsage(message.entries);
        return;
      case 'drained':
        member.cut = message.cut;
        member.settleDrained();
        return;
      case 'hello':
        return;
      default: {
        const settle = member.pending.get(message.id);
        member.pending.delete(message.id);
        settle?.(message);
      }
    }
  }

  #send(member: Member, message: ToWorker): void {
    if (member.worker.isConnected()) member.worker.send(message);
  }
}
