// Counters in Redis, shared by every gateway replica. Each check is one Lua script, run atomically
// by Redis, so two replicas can never both take the last request of a bucket; GCRA times come from
// Redis's own clock (TIME), so the replicas' clocks need not agree. Quota periods are named by the
// caller's clock (a UTC day or month): skew between replicas only matters in the milliseconds
// around midnight, against a period of a day.
//
// The requests of one event-loop turn that count on the same counter (a route-wide limit, one busy
// consumer) go to Redis as one script call that takes them all, in order: the script takes as many
// as the bucket allows and says where the bucket stood, and each request's own answer (allowed,
// remaining, retry after) follows from that, exactly as if they had been sent one by one within the same
// millisecond. Nothing is reserved ahead or decided locally, so the limit stays exact across
// replicas; what goes is a command, a timer and a reply per request (the largest part of what a
// global limit cost the gateway in `--apim --profile`). The requests wait no longer than before: the
// calls of a turn were already held until setImmediate to leave in one write.
//
// Failing fast is the point: a rate limiter must not turn a slow or dead Redis into slow requests.
// So no offline queue (a command while disconnected fails at once instead of waiting for the
// reconnect), no retry of a command (a late duplicate would count twice), and a command timeout
// (`--redis-timeout`, default 100 ms) that bounds every call; ioredis reconnects on its own, and
// the first command that succeeds afterwards ends the outage. The outage is logged once when it starts and once when it
// ends, not per request (the caller counts failed requests).
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { gcraDecisionAt, type CounterStore, type QuotaDecision, type QuotaPeriod, type RateDecision, type RateParams } from './counter-store.js';

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

/**
 * GCRA of counter-store.ts for `count` requests of one turn at once (gcraTaken), in ms, with now
 * from Redis. KEYS[1] bucket; ARGV period ms, requests, count. Answers how many were taken and how
 * far the TAT stood ahead of now before them (a string: Redis would cut a Lua number to an
 * integer), from which each request's own answer follows (gcraDecisionAt).
 */
const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local period = tonumber(ARGV[1])
local interval = period / tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local tolerance = period + interval / 2
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]))
local ahead = 0
if tat ~= nil and tat > now then ahead = tat - now end
local taken = math.floor((tolerance - ahead) / interval)
if taken > count then taken = count end
if taken < 0 then taken = 0 end
if taken > 0 then
  local after = ahead + taken * interval
  redis.call('SET', KEYS[1], string.format('%.17g', now + after), 'PX', math.ceil(after))
end
return {taken, string.format('%.17g', ahead)}
`;

/**
 * Fixed-period counter for `count` requests at once. KEYS[1] counter of one period; ARGV limit,
 * period end (unix seconds), count. Answers how many were counted and how many were used before.
 */
const QUOTA_SCRIPT = `
local limit = tonumber(ARGV[1])
local count = tonumber(ARGV[3])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local taken = limit - used
if taken > count then taken = count end
if taken <= 0 then return {0, used} end
if redis.call('INCRBY', KEYS[1], taken) == taken then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return {taken, used}
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

/** One script call of this turn and the requests waiting on it, in the order they asked. */
interface PendingCall<T> {
  readonly script: Script;
  readonly key: string;
  readonly args: readonly number[];
  /** Reads the reply (throws when it is not what the script returns) into each request's answer. */
  readonly read: (reply: readonly unknown[]) => (index: number) => T;
  readonly waiters: { resolve: (value: T) => void; reject: (err: Error) => void }[];
}

export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: (line: string) => void;
  #available = true;
  /** This turn's calls, by counter: every request of a turn for one counter is one script call. */
  readonly #pending = new Map<string, PendingCall<unknown>>();
  #flushScheduled = false;
  #takes = 0;
  #calls = 0;

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

  takeRate(key: string, params: RateParams): Promise<RateDecision> {
    const redisKey = this.#prefix + key;
    return this.#join(`r ${params.periodMs} ${params.requests} ${redisKey}`, GCRA, redisKey, [params.periodMs, params.requests], (reply) => {
      const taken = reply[0];
      const ahead = typeof reply[1] === 'string' ? Number(reply[1]) : NaN;
      if (typeof taken !== 'number' || !Number.isFinite(ahead)) throw new Error(`unexpected rate script reply ${JSON.stringify(reply)}`);
      return (index) => gcraDecisionAt(ahead, taken, index, params);
    });
  }

  takeQuota(key: string, limit: number, period: QuotaPeriod): Promise<QuotaDecision> {
    const redisKey = this.quotaKey(key, period);
    return this.#join(`q ${limit} ${redisKey}`, QUOTA, redisKey, [limit, Math.ceil(period.endMs / 1000)], (reply) => {
      const [taken, used] = reply;
      if (typeof taken !== 'number' || typeof used !== 'number') throw new Error(`unexpected quota script reply ${JSON.stringify(reply)}`);
      return (index) => (index < taken ? { allowed: true, remaining: limit - used - index - 1 } : { allowed: false, remaining: 0 });
    });
  }

  /** The Redis key of a quota counter: one key per period, so a new period starts from nothing. */
  quotaKey(key: string, period: QuotaPeriod): string {
    return `${this.#prefix}${key}:${period.id}`;
  }

  /** Requests counted (takes) and script calls made, since start: their ratio is what coalescing saves. */
  get stats(): { readonly takes: number; readonly calls: number } {
    return { takes: this.#takes, calls: this.#calls };
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }

  /**
   * Joins this request to the turn's call for the same counter (`id`: script, key and parameters),
   * opening one if there is none yet. Every call of a turn is sent in setImmediate, after the poll
   * phase has handled every request that was ready.
   */
  #join<T>(id: string, s: Script, key: string, args: readonly number[], read: (reply: readonly unknown[]) => (index: number) => T): Promise<T> {
    this.#takes++;
    let call = this.#pending.get(id) as PendingCall<T> | undefined;
    if (call === undefined) {
      call = { script: s, key, args, read, waiters: [] };
      this.#pending.set(id, call as PendingCall<unknown>);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    }
    const waiters = call.waiters;
    return new Promise<T>((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /**
   * Sends the turn's calls, corked so they leave in one writev (one write(2) each cost about 12 µs
   * per request in `--apim --profile`), and hands each waiter its own answer. Each call keeps its
   * own timeout, and a turn's calls never wait for another turn's (ioredis's auto-pipelining does
   * wait, which doubled the wait on a hung Redis).
   */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    const stream = (this.#redis as unknown as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
    const corked = calls.length > 1 && stream?.cork !== undefined && stream.uncork !== undefined;
    if (corked) stream!.cork!();
    for (const call of calls) {
      this.#calls++;
      this.#run(call.script, call.key, [...call.args, call.waiters.length]).then(
        (reply) => {
          let answerAt: (index: number) => unknown;
          try {
            answerAt = call.read(reply);
          } catch (err) {
            return this.#fail(call, err);
          }
          call.waiters.forEach((w, i) => w.resolve(answerAt(i)));
        },
        (err: unknown) => this.#fail(call, err),
      );
    }
    if (corked) stream!.uncork!();
  };

  #fail(call: PendingCall<unknown>, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#markDown(error);
    for (const w of call.waiters) w.reject(error);
  }

  /** EVALSHA, and EVAL once when Redis does not know the script (a restarted or flushed Redis). */
  async #run(s: Script, key: string, args: readonly number[]): Promise<readonly unknown[]> {
    let reply: unknown;
    try {
      reply = await this.#redis.evalsha(s.sha, 1, key, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await this.#redis.eval(s.source, 1, key, ...args);
    }
    if (!Array.isArray(reply)) throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
    if (!this.#available) {
      this.#available = true;
      this.#log('redis counter store: answering again');
    }
    return reply;
  }

  #markDown(err: Error): void {
    if (!this.#available) return;
    this.#available = false;
    this.#log(`redis counter store: unavailable (${err.message}); limits fall back as their policy says until it answers`);
  }
}
