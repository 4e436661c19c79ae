import { Worker } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { SourceContribution } from '../../store/build-snapshot.js';
import { formatCount } from './bound-expansion.js';
import type { ConfigLimits } from './config-limits.js';
import { fingerprintContribution } from './contribution-fingerprint.js';
import type { ParseReply, ParseRequest, ParseWorkerData } from './parse-worker-protocol.js';
import type { ConfigFileRef } from './scan-config-tree.js';

export type FileLoad =
  | { readonly kind: 'loaded'; readonly contribution: SourceContribution; readonly fingerprint: string }
  /** Deleted since the scan; the event for it schedules another reload. */
  | { readonly kind: 'vanished' }
  /** close() was called first. */
  | { readonly kind: 'closed' };

interface Job {
  readonly id: number;
  readonly file: ConfigFileRef;
  readonly resolve: (load: FileLoad) => void;
  deadline?: NodeJS.Timeout;
}

/**
 * Reads and parses config files in a worker thread, one file at a time. The worker runs with a
 * V8 heap limit and each file with a deadline: a file that needs more memory kills the worker, one
 * that takes too long gets it terminated; either way the file gets an ERR_CONFIG_PARSE_ABORTED
 * diagnostic naming it, and the next file gets a fresh worker. The worker starts on first use and
 * does not keep the process alive while idle.
 */
export class ParseWorkerClient {
  readonly #limits: ConfigLimits;
  readonly #queue: Job[] = [];
  #active: Job | undefined;
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(limits: ConfigLimits) {
    this.#limits = limits;
  }

  load(file: ConfigFileRef): Promise<FileLoad> {
    if (this.#closed) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#nextId++, file, resolve });
      this.#pump();
    });
  }

  /** Terminates the worker; loads still waiting resolve as `closed`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelIdleExit();
    const worker = this.#worker;
    this.#worker = undefined;
    for (const job of [...(this.#active ? [this.#active] : []), ...this.#queue.splice(0)]) this.#settle(job, { kind: 'closed' });
    this.#active = undefined;
    await worker?.terminate();
  }

  #pump(): void {
    if (this.#active || this.#closed) return;
    const job = this.#queue.shift();
    if (!job) {
      this.#worker?.unref();
      this.#scheduleIdleExit();
      return;
    }
    this.#cancelIdleExit();
    this.#active = job;
    const worker = this.#ensureWorker();
    worker.ref();
    const request: ParseRequest = { kind: 'load', id: job.id, file: job.file };
    worker.postMessage(request);
  }

  /**
   * An idle worker still holds its own V8 heap (tens of MB after a large folder, most of it
   * garbage it has no reason to collect): stop it once a burst of reloads is over. Config changes
   * are rare next to the ~50 ms a new worker takes to start.
   */
  #scheduleIdleExit(): void {
    if (this.#worker === undefined || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      const worker = this.#worker;
      if (worker === undefined || this.#active !== undefined) return;
      this.#worker = undefined;
      void worker.terminate();
    }, this.#limits.parserIdleExitMs);
    this.#idleTimer.unref();
  }

  #cancelIdleExit(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Whether a worker thread exists right now (for tests and /api/upstreams-style views). */
  get workerRunning(): boolean {
    return this.#worker !== undefined;
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const workerData: ParseWorkerData = { limits: this.#limits };
    const worker = new Worker(new URL('./parse-worker.js', import.meta.url), {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: this.#limits.parserHeapMb },
    });
    worker.on('message', (reply: ParseReply) => this.#onReply(worker, reply));
    worker.on('error', (err: Error & { code?: string }) => {
      const why =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `it needed more than the parser's ${formatCount(this.#limits.parserHeapMb)} MB heap`
          : `the parser failed: ${err.message}`;
      this.#abandon(worker, why);
    });
    worker.on('exit', (code) => this.#abandon(worker, `the parser exited (code ${code})`));
    this.#worker = worker;
    return worker;
  }

  #onReply(worker: Worker, reply: ParseReply): void {
    const job = this.#active;
    if (worker !== this.#worker || job === undefined || reply.id !== job.id) return;
    switch (reply.kind) {
      case 'started':
        job.deadline = setTimeout(() => {
          void worker.terminate();
          this.#abandon(worker, `it took longer than the ${formatCount(this.#limits.parseDeadlineMs)} ms allowed per file`);
        }, this.#limits.parseDeadlineMs);
        return;
      case 'loaded':
        this.#finish(job, { kind: 'loaded', contribution: reply.contribution, fingerprint: reply.fingerprint });
        return;
      case 'vanished':
        this.#finish(job, { kind: 'vanished' });
        return;
      default:
        assertNever(reply, 'parse worker reply');
    }
  }

  /** The worker is gone or being terminated: blame the file in hand, start afresh for the next. */
  #abandon(worker: Worker, why: string): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    const job = this.#active;
    if (job === undefined) return; // died while idle: the next load starts a new one
    const diagnostic: Diagnostic = {
      severity: 'error',
      code: 'ERR_CONFIG_PARSE_ABORTED',
      source: job.file.label,
      message: `parsing was stopped: ${why}; the file is retried when it changes`,
    };
    const contribution: SourceContribution = { resources: [], diagnostics: [diagnostic] };
    this.#finish(job, { kind: 'loaded', contribution, fingerprint: fingerprintContribution(contribution) });
  }

  #finish(job: Job, load: FileLoad): void {
    this.#active = undefined;
    this.#settle(job, load);
    this.#pump();
  }

  #settle(job: Job, load: FileLoad): void {
    clearTimeout(job.deadline);
    job.resolve(load);
  }
}
