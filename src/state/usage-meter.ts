// Metering for API management: how many requests each consumer made to each API, by status class
// (2xx, 4xx, ...) and UTC hour, the raw material of usage reports and billing. Counting happens in
// memory on the request path (one Map update); a timer flushes the counts to a sink (a JSON state
// file, or Redis hashes shared by all replicas) off the request path. A failed flush keeps the
// counts for the next one, so an unreachable sink delays numbers but loses none (until the process
// exits: close() makes a last attempt).
import type { Clock } from '../core/clock.js';

/** One counted cell: `hour` is the UTC hour's start, RFC 3339 (`2030-05-17T18:00:00Z`). */
export interface UsageEntry {
  readonly hour: string;
  readonly consumer: string;
  readonly api: string;
  /** `2xx`, `4xx`, ... */
  readonly statusClass: string;
  readonly count: number;
}

export interface UsageSink {
  /** Adds the counts to what the sink holds (sums, never replaces). */
  add(entries: readonly UsageEntry[]): Promise<void>;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const SEPARATOR = '\u0000';

export class UsageMeter {
  /** hour start ms → `consumer\0api\0class` → count. */
  #counts = new Map<number, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly sink: UsageSink,
  ) {}

  /** Counts one request; `consumer` is the consumer name or `anonymous`. */
  record(consumer: string, api: string, status: number): void {
    const hour = Math.floor(this.clock.now() / HOUR_MS) * HOUR_MS;
    let cells = this.#counts.get(hour);
    if (cells === undefined) this.#counts.set(hour, (cells = new Map()));
    const cell = `${consumer}${SEPARATOR}${api}${SEPARATOR}${Math.floor(status / 100)}xx`;
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
  }

  /** Flushes every `intervalMs`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer ??= setInterval(() => void this.flush().catch(() => {}), intervalMs).unref();
  }

  /** Hands the counts so far to the sink; on failure they are merged back and the error rethrown. */
  async flush(): Promise<void> {
    // One flush at a time: a slow sink must not see the same counts twice.
    while (this.#flushing !== undefined) await this.#flushing.catch(() => {});
    const taken = this.#counts;
    if (taken.size === 0) return;
    this.#counts = new Map();
    const entries: UsageEntry[] = [];
    for (const [hour, cells] of taken) {
      const hourText = new Date(hour).toISOString().replace('.000Z', 'Z');
      for (const [cell, count] of cells) {
        const [consumer, api, statusClass] = cell.split(SEPARATOR) as [string, string, string];
        entries.push({ hour: hourText, consumer, api, statusClass, count });
      }
    }
    this.#flushing = this.sink.add(entries);
    try {
      await this.#flushing;
    } catch (err) {
      this.#mergeBack(taken);
      throw err;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Stops the timer and makes a last flush. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.flush();
    } finally {
      await this.sink.close();
    }
  }

  #mergeBack(taken: Map<number, Map<string, number>>): void {
    for (const [hour, cells] of taken) {
      let into = this.#counts.get(hour);
      if (into === undefined) this.#counts.set(hour, (into = new Map()));
      for (const [cell, count] of cells) into.set(cell, (into.get(cell) ?? 0) + count);
    }
  }
}
