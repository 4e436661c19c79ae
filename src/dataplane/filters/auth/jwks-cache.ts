// Remote JSON Web Key Sets (RFC 7517 §5), fetched by URL and kept for as long as the JWT method
// says (`cacheMs`). One instance lives for the whole process and is handed to every compile, so a
// config reload neither refetches every issuer's keys nor loses them (the keys are state of the
// issuer, not of the config: Caddy's usage pool, DESIGN.md).
//
// jose's createRemoteJWKSet caches too, but per instance and with its own clock and cooldown; this
// cache owns both so that `cacheMs` is honoured exactly, tests drive time with a ManualClock, and
// an unknown `kid` (the issuer rotated its keys) costs one refetch per URL per cooldown, however
// many requests carry it, rather than a fetch per request an attacker can trigger at will.
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { Clock } from '../../../core/clock.js';

export type JwksKeySet = ReturnType<typeof createLocalJWKSet>;

export type JwksLookup =
  /** `version` grows with every successful fetch, so a caller can tell whether a refresh changed anything. */
  | { readonly kind: 'keys'; readonly keys: JwksKeySet; readonly version: number }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface JwksCacheOptions {
  readonly clock: Clock;
  /** A whole fetch (connect, headers, body); an issuer that does not answer must not hold requests long. */
  readonly timeoutMs?: number;
  /** At least this long between two fetches of one URL that were not due to `cacheMs` (unknown kid, failures). */
  readonly refetchCooldownMs?: number;
  /** A key set is a few KB; anything far larger is not one. */
  readonly maxBytes?: number;
}

interface Entry {
  keys?: JwksKeySet;
  version: number;
  fetchedAtMs: number;
  attemptedAtMs: number;
  lastError?: string;
  inflight?: Promise<void>;
}

/** What the admin API or a log line may show about one URL. */
export interface JwksStatus {
  readonly url: string;
  readonly version: number;
  readonly keyCount: number;
  readonly ageMs?: number;
  readonly lastError?: string;
}

export class JwksCache {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#cooldownMs = options.refetchCooldownMs ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  /**
   * The keys of `url`, fetched when there are none or they are older than `cacheMs` (concurrent
   * callers share one fetch). When a refetch fails, the keys already held are used until one
   * succeeds: an issuer's brief outage must not turn every valid token into a 401.
   */
  async keys(url: string, cacheMs: number): Promise<JwksLookup> {
    const entry = this.#entry(url);
    const now = this.#clock.monotonicMs();
    const stale = entry.keys === undefined || now - entry.fetchedAtMs >= cacheMs;
    // After a failure, wait out the cooldown rather than hammer the issuer once per request.
    const mayFetch = entry.lastError === undefined || now - entry.attemptedAtMs >= this.#cooldownMs;
    if (stale && (mayFetch || entry.inflight !== undefined)) await this.#fetch(url, entry);
    return this.#lookup(entry);
  }

  /**
   * The version of the keys held for `url` when they are fresh (younger than `cacheMs`), without
   * fetching; undefined when a call to keys() would fetch. A verified-token cache asks it on every
   * hit, so a token verified with keys that have since been replaced is verified again.
   */
  freshVersion(url: string, cacheMs: number): number | undefined {
    const entry = this.#entries.get(url);
    if (entry === undefined || entry.keys === undefined) return undefined;
    return this.#clock.monotonicMs() - entry.fetchedAtMs < cacheMs ? entry.version : undefined;
  }

  /**
   * A token names a `kid` the held keys do not have: refetch once, unless the set changed since
   * `seenVersion` (another request already refetched) or the last fetch is younger than the cooldown.
   */
  async refresh(url: string, seenVersion: number): Promise<JwksLookup> {
    const entry = this.#entry(url);
    if (entry.version === seenVersion && (entry.inflight !== undefined || this.#clock.monotonicMs() - entry.attemptedAtMs >= this.#cooldownMs)) {
      await this.#fetch(url, entry);
    }
    return this.#lookup(entry);
  }

  /** Drops the URLs no JWT method uses any more (the composition root calls it after an apply). */
  retain(urls: Iterable<string>): void {
    const keep = new Set(urls);
    for (const url of this.#entries.keys()) if (!keep.has(url)) this.#entries.delete(url);
  }

  /** Fetches started so far (for tests and a metric). */
  get fetchCount(): number {
    return this.#fetches;
  }

  status(): JwksStatus[] {
    const now = this.#clock.monotonicMs();
    return [...this.#entries].map(([url, e]) => ({
      url,
      version: e.version,
      keyCount: e.keys === undefined ? 0 : e.keys.jwks()?.keys.length ?? 0,
      ...(e.keys === undefined ? {} : { ageMs: now - e.fetchedAtMs }),
      ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
    }));
  }

  #entry(url: string): Entry {
    let entry = this.#entries.get(url);
    if (entry === undefined) {
      // attemptedAtMs far in the past: the first refresh may fetch at once.
      entry = { version: 0, fetchedAtMs: 0, attemptedAtMs: -Infinity };
      this.#entries.set(url, entry);
    }
    return entry;
  }

  #lookup(entry: Entry): JwksLookup {
    if (entry.keys !== undefined) return { kind: 'keys', keys: entry.keys, version: entry.version };
    return { kind: 'unavailable', reason: entry.lastError ?? 'signing keys not fetched yet' };
  }

  #fetch(url: string, entry: Entry): Promise<void> {
    if (entry.inflight !== undefined) return entry.inflight;
    entry.attemptedAtMs = this.#clock.monotonicMs();
    this.#fetches++;
    const done = fetchKeySet(url, this.#timeoutMs, this.#maxBytes).then((result) => {
      if (typeof result === 'string') {
        entry.lastError = result;
        return;
      }
      entry.keys = result;
      entry.version++;
      entry.fetchedAtMs = this.#clock.monotonicMs();
      delete entry.lastError;
    });
    entry.inflight = done.finally(() => {
      delete entry.inflight;
    });
    return entry.inflight;
  }
}

/** GET the set and turn it into jose's local key set; any failure comes back as a reason, never thrown. */
async function fetchKeySet(url: string, timeoutMs: number, maxBytes: number): Promise<JwksKeySet | string> {
  let text: string;
  try {
    const res = await fetch(url, { headers: { accept: 'application/jwk-set+json, application/json' }, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return `JWKS ${url} answered ${res.status}`;
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await res.body?.cancel();
      return `JWKS ${url} is ${declared} bytes (at most ${maxBytes})`;
    }
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    return `JWKS ${url} could not be fetched: ${e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message)}`;
  }
  if (Buffer.byteLength(text) > maxBytes) return `JWKS ${url} is larger than ${maxBytes} bytes`;
  return parseKeySet(text, `JWKS ${url}`);
}

/**
 * A JWK Set from JSON text. jose's local set then picks keys by `kid`, `alg`, `kty`, `crv`, `use`
 * and `key_ops`; it refuses HMAC algorithms and private keys in a set outright, so a symmetric key
 * published in a JWKS (readable by anyone, hence no secret) can never verify a token.
 */
export function parseKeySet(text: string, what: string): JwksKeySet | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `${what} is not JSON`;
  }
  return keySetFrom(json, what);
}

export function keySetFrom(json: unknown, what: string): JwksKeySet | string {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) return `${what} has no "keys" array`;
  try {
    return createLocalJWKSet(json as JSONWebKeySet);
  } catch (err) {
    return `${what}: ${(err as Error).message}`;
  }
}
