// Metering for API management: how many requests each consumer made to each API version, on which
// plan, by status class (2xx, 4xx, ...) and UTC hour, the raw material of usage reports and
// billing. Counting happens in memory on the request path (one Map update); a timer flushes the
// counts to a sink (a JSON state file, or Redis hashes shared by all replicas) off the request path.
// A failed flush keeps the counts for the next one, so an unreachable sink delays numbers but loses
// none (until the process exits: close() makes a last attempt).
import type { Clock } from '../core/clock.js';

/** What one request is counted under. Empty strings stand for "none" (no API version, no plan). */
export interface UsageKey {
  /** `partners/acme` (the Consumer's namespace/name), or `anonymous`. */
  readonly consumer: string;
  /** `api/partners/orders` (the API object), or empty for a route of no API version. */
  readonly api: string;
  /** `v1`, or empty. */
  readonly version: string;
  /** The consumer's Plan (`partners/gold`), or empty. */
  readonly plan: string;
}

/** One counted cell: `hour` is the UTC hour's start, RFC 3339 (`2030-05-17T18:00:00Z`). */
export interface UsageEntry extends UsageKey {
  readonly hour: string;
  /** `2xx`, `4xx`, ... */
  readonly statusClass: string;
  readonly count: number;
}

/** Which hours a read returns: those whose start lies in [fromHour, toHour), RFC 3339 like UsageEntry.hour. */
export interface UsageRange {
  readonly fromHour?: string;
  readonly toHour?: string;
}

export interface UsageSink {
  /** Adds the counts to what the sink holds (sums, never replaces). */
  add(entries: readonly UsageEntry[]): Promise<void>;
  /** What the sink holds for the hours in the range, one entry per cell (any order). */
  read(range: UsageRange): Promise<UsageEntry[]>;
  close(): Promise<void>;
}

/** The name the meter gives requests without an authenticated consumer. */
export const ANONYMOUS_CONSUMER = 'anonymous';

const HOUR_MS = 3_600_000;
/**
 * Separates the fields of a cell, in memory, in the state file and in Redis hash fields. Kubernetes
 * names (namespaces, Consumers, APIs, Plans) cannot contain it, nor can a status class.
 */
const SEPARATOR = '|';

/** `consumer|api|version|plan|class`: the cell's name in the state file and in Redis. */
export function usageCellKey(key: UsageKey, statusClass: string): string {
  return `${key.consumer}${SEPARATOR}${key.api}${SEPARATOR}${key.version}${SEPARATOR}${key.plan}${SEPARATOR}${statusClass}`;
}

/** The entry a stored cell stands for; undefined for a field this version did not write. */
export function parseUsageCell(hour: string, cell: string, count: number): UsageEntry | undefined {
  const parts = cell.split(SEPARATOR);
  if (parts.length !== 5 || !Number.isFinite(count)) return undefined;
  const [consumer, api, version, plan, statusClass] = parts as [string, string, string, string, string];
  return { hour, consumer, api, version, plan, statusClass, count };
}

/** RFC 3339 of the UTC hour that contains `ms`, to the second (`2030-05-17T18:00:00Z`). */
export function hourOf(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().replace('.000Z', 'Z');
}

export function isInRange(hour: string, range: UsageRange): boolean {
  // The hours are all of one fixed-width form, so string order is time order.
  return (range.fromHour === undefined || hour >= range.fromHour) && (range.toHour === undefined || hour < range.toHour);
}

export class UsageMeter {
  /** hour start ms → cell key → count. */
  #counts = new Map<number, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly sink: UsageSink,
  ) {}

  /** Counts one request. */
  record(key: UsageKey, status: number): void {
    const hour = Math.floor(this.clock.now() / HOUR_MS) * HOUR_MS;
    let cells = this.#counts.get(hour);
    if (cells === undefined) this.#counts.set(hour, (cells = new Map()));
    const cell = usageCellKey(key, `${Math.floor(status / 100)}xx`);
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
  }

  /**
   * Adds counts another process flushed (a `--workers` worker hands its counts to the primary,
   * the one writer of the state file): they go out with this meter's next flush.
   */
  merge(entries: readonly UsageEntry[]): void {
    for (const e of entries) {
      const hour = Date.parse(e.hour);
      if (!Number.isFinite(hour) || !Number.isFinite(e.count)) continue;
      let cells = this.#counts.get(hour);
      if (cells === undefined) this.#counts.set(hour, (cells = new Map()));
      const cell = usageCellKey(e, e.statusClass);
      cells.set(cell, (cells.get(cell) ?? 0) + e.count);
    }
  }

  /** Flushes every `intervalMs`; the timer does not keep the process alive. */
  start(intervalMs: number, onError: (error: unknown) => void = () => {}): void {
    this.#timer ??= setInterval(() => void this.flush().catch(onError), intervalMs).unref();
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
      const hourText = hourOf(hour);
      for (const [cell, count] of cells) {
        const entry = parseUsageCell(hourText, cell, count);
        if (entry !== undefined) entries.push(entry);
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

  /**
   * Flushes, then reads what the sink holds: everything this process counted so far, and (with a
   * shared sink) what the other replicas flushed.
   */
  async report(range: UsageRange): Promise<UsageEntry[]> {
    await this.flush();
    return this.sink.read(range);
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
