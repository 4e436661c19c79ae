// Counters in Redis, shared by every gateway replica. Each check is one Lua script, run atomically
// by Redis, so two replicas can never both take the last request of a bucket; GCRA times come from
// Redis's own clock (TIME), so the replicas' clocks need not agree. Quota periods are named by the
// caller's clock (a UTC day or month): skew between replicas only matters in the milliseconds
// around midnight, against a period of a day.
//
// Failing fast is the point: a rate limiter must not turn a slow or dead Redis into slow requests.
// So no offline queue (a command while disconnected fails at once instead of waiting for the
// reconnect), no retry of a command (a late duplicate would count twice), and a command timeout
// (`--redis-timeout`, default 100 ms) that bounds every call; ioredis reconnects on its own, and
// the first command that succeeds afterwards ends the outage. The outage is logged once when it starts and once when it
// ends, not per request (the caller counts failed requests).
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CounterStore, QuotaDecision, QuotaPeriod, RateDecision, RateParams } from './counter-store.js';

export interface RedisCounterStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string;
  /** Prepended to every key, so one Redis can serve several gateways or environments. */
  readonly keyPrefix?: string;
  /** Bound on every command on the request path (`--redis-timeout`). */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Outage start and end lines; default: stderr. */
  readonly log?: (line: string) => void;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'isthmus:';
/** The CLI's `--redis-timeout` default too. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 100;

/** GCRA of counter-store.ts, in ms, with now from Redis. KEYS[1] bucket; ARGV period ms, requests. */
const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local period = tonumber(ARGV[1])
local interval = period / tonumber(ARGV[2])
local tolerance = period + interval / 2
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local ahead = tat + interval - now
if ahead > tolerance then
  return {0, 0, math.ceil(ahead - tolerance), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.17g', now + ahead), 'PX', math.ceil(ahead))
return {1, math.floor((tolerance - ahead) / interval), 0, math.ceil(ahead)}
`;

/** Fixed-period counter. KEYS[1] counter of one period; ARGV limit, period end (unix seconds). */
const QUOTA_SCRIPT = `
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= limit then return {0, 0} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return {1, limit - used}
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const GCRA = script(GCRA_SCRIPT);
const QUOTA = script(QUOTA_SCRIPT);

export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: (line: string) => void;
  #available = true;
  #corked = false;

  constructor(options: RedisCounterStoreOptions) {
    this.#prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.#log = options.log ?? ((line) => process.stderr.write(`isthmus: ${line}\n`));
    this.#redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // No auto-pipelining: it batches the commands of one event-loop turn, which saves Redis CPU,
      // but a batch waits for the one before it, so with Redis hung a request waited two timeouts.
      enableAutoPipelining: false,
      // Reconnect quickly and keep trying: recovery must not need a restart of the gateway.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    // Connection errors arrive here on every reconnect attempt; without a listener they would
    // crash the process. The outage itself is reported by the commands that fail.
    this.#redis.on('error', (err: Error) => this.#markDown(err));
  }

  /**
   * Resolves once connected (or rejects after `timeoutMs`). The gateway need not wait for it: until
   * then every call fails at once and the limits fall back; tests wait so they start from a known state.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        reject(new Error(`redis not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
  }

  /** False from the first failure until a command succeeds again. */
  get available(): boolean {
    return this.#available;
  }

  async takeRate(key: string, params: RateParams): Promise<RateDecision> {
    const r = await this.#run(GCRA, 4, this.#prefix + key, params.periodMs, params.requests);
    return { allowed: r[0] === 1, remaining: r[1]!, retryAfterMs: r[2]!, resetMs: r[3]! };
  }

  async takeQuota(key: string, limit: number, period: QuotaPeriod): Promise<QuotaDecision> {
    const r = await this.#run(QUOTA, 2, this.quotaKey(key, period), limit, Math.ceil(period.endMs / 1000));
    return { allowed: r[0] === 1, remaining: r[1]! };
  }

  /** The Redis key of a quota counter: one key per period, so a new period starts from nothing. */
  quotaKey(key: string, period: QuotaPeriod): string {
    return `${this.#prefix}${key}:${period.id}`;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }

  /**
   * EVALSHA, and EVAL once when Redis does not know the script (a restarted or flushed Redis); the
   * reply must be `length` integers.
   */
  async #run(s: Script, length: number, key: string, ...args: (string | number)[]): Promise<readonly number[]> {
    this.#coalesceWrites();
    try {
      let reply: unknown;
      try {
        reply = await this.#redis.evalsha(s.sha, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        reply = await this.#redis.eval(s.source, 1, key, ...args);
      }
      if (!this.#available) {
        this.#available = true;
        this.#log('redis counter store: answering again');
      }
      if (!Array.isArray(reply) || reply.length !== length || !reply.every((n) => typeof n === 'number')) {
        throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
      }
      return reply as number[];
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#markDown(error);
      throw error;
    }
  }

  /**
   * One write for the commands of one turn of the event loop. Written one by one, each command cost
   * a write(2) of its own (about 12 µs per request in `--apim --profile`, the largest part of what
   * a global limit adds). The socket is corked at the first command of a turn and uncorked in
   * setImmediate, after the poll phase has handled every request that was ready, so the turn's
   * commands leave in one writev and their answers mostly come back in one read. Each command keeps
   * its own timeout, and a batch never waits for another (ioredis's auto-pipelining does wait,
   * which doubled the wait on a hung Redis).
   */
  #coalesceWrites(): void {
    if (this.#corked) return;
    const stream = (this.#redis as unknown as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
    if (stream?.cork === undefined || stream.uncork === undefined) return;
    stream.cork();
    this.#corked = true;
    setImmediate(() => {
      this.#corked = false;
      stream.uncork!();
    });
  }

  #markDown(err: Error): void {
    if (!this.#available) return;
    this.#available = false;
    this.#log(`redis counter store: unavailable (${err.message}); limits fall back as their policy says until it answers`);
  }
}
