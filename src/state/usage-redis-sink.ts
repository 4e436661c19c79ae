// Usage counts in Redis, summed across replicas: one hash per UTC hour
// (`<prefix>usage:<hour>`), one field per `consumer|api|class`, HINCRBY per cell in one pipeline
// (each HINCRBY is atomic, so replicas flushing at once add up). Hashes expire after `retainDays`,
// by which time a report job has read them. Off the request path, so its timeout is generous.
import { Redis } from 'ioredis';
import { DEFAULT_REDIS_KEY_PREFIX } from './redis-counter-store.js';
import type { UsageEntry, UsageSink } from './usage-meter.js';

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
      pipeline.hincrby(this.hourKey(e.hour), `${e.consumer}|${e.api}|${e.statusClass}`, e.count);
      hours.add(e.hour);
    }
    for (const hour of hours) pipeline.expire(this.hourKey(hour), this.#retainSeconds);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('usage flush: transaction aborted');
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
