// Usage counts in Redis, summed across replicas: one hash per UTC hour
// (`<prefix>usage:<hour>`), one field per `consumer|api|version|plan|class`, HINCRBY per cell in one pipeline
// (each HINCRBY is atomic, so replicas flushing at once add up). Hashes expire after `retainDays`,
// by which time a report job has read them. Off the request path, so its timeout is generous.
import { Redis } from 'ioredis';
import { DEFAULT_REDIS_KEY_PREFIX } from './redis-counter-store.js';
import { isInRange, parseUsageCell, usageCellKey, type UsageEntry, type UsageRange, type UsageSink } from './usage-meter.js';

export interface RedisUsageSinkOptions {
  readonly url: string;
  readonly keyPrefix?: string;
  readonly retainDays?: number;
  readonly commandTimeoutMs?: number;
}

export class RedisUsageSink implements UsageSink {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #retainSeconds: number;

  constructor(options: RedisUsageSinkOptions) {
    this.#prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.#retainSeconds = (options.retainDays ?? 35) * 86_400;
    this.#redis = new Redis(options.url, { commandTimeout: options.commandTimeoutMs ?? 2000, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    // Failures surface as rejected flushes (the meter keeps the counts); this only prevents a crash.
    this.#redis.on('error', () => {});
  }

  /** The hash of one hour. */
  hourKey(hour: string): string {
    return `${this.#prefix}usage:${hour}`;
  }

  async ready(): Promise<void> {
    if (this.#redis.status !== 'ready') await new Promise<void>((resolve) => this.#redis.once('ready', () => resolve()));
  }

  async add(entries: readonly UsageEntry[]): Promise<void> {
    const pipeline = this.#redis.multi();
    const hours = new Set<string>();
    for (const e of entries) {
      pipeline.hincrby(this.hourKey(e.hour), usageCellKey(e, e.statusClass), e.count);
      hours.add(e.hour);
    }
    for (const hour of hours) pipeline.expire(this.hourKey(hour), this.#retainSeconds);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('usage flush: transaction aborted');
  }

  /** Every replica's flushed counts: the hour hashes are found with SCAN (at most 24 × retainDays keys). */
  async read(range: UsageRange): Promise<UsageEntry[]> {
    const prefix = this.hourKey('');
    const hours = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const hour = key.slice(prefix.length);
        if (isInRange(hour, range)) hours.add(hour);
      }
    } while (cursor !== '0');
    const sorted = [...hours].sort();
    const pipeline = this.#redis.pipeline();
    for (const hour of sorted) pipeline.hgetall(this.hourKey(hour));
    const results = sorted.length === 0 ? [] : ((await pipeline.exec()) ?? []);
    const out: UsageEntry[] = [];
    results.forEach(([err, fields], i) => {
      if (err !== null) throw err;
      for (const [cell, count] of Object.entries(fields as Record<string, string>)) {
        const entry = parseUsageCell(sorted[i]!, cell, Number(count));
        if (entry !== undefined) out.push(entry);
      }
    });
    return out;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** A key prefix as a SCAN pattern: glob characters in it match only themselves. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
