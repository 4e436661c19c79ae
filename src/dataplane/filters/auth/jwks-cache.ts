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
import { RemoteDocuments, type RemoteDocument } from './remote-documents.js';

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
  readonly #documents: RemoteDocuments<JwksKeySet>;

  constructor(options: JwksCacheOptions) {
    this.#clock = options.clock;
    const timeoutMs = options.timeoutMs ?? 5000;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#documents = new RemoteDocuments(options.clock, options.refetchCooldownMs ?? 10_000, (url) => fetchKeySet(url, timeoutMs, maxBytes));
  }

  /**
   * The keys of `url`, fetched when there are none or they are older than `cacheMs` (concurrent
   * callers share one fetch). When a refetch fails, the keys already held are used until one
   * succeeds: an issuer's brief outage must not turn every valid token into a 401.
   */
  async keys(url: string, cacheMs: number): Promise<JwksLookup> {
    return lookupOf(await this.#documents.get(url, cacheMs));
  }

  /**
   * The version of the keys held for `url` when they are fresh (younger than `cacheMs`), without
   * fetching; undefined when a call to keys() would fetch. A verified-token cache asks it on every
   * hit, so a token verified with keys that have since been replaced is verified again.
   */
  freshVersion(url: string, cacheMs: number): number | undefined {
    return this.#documents.freshVersion(url, cacheMs);
  }

  /**
   * A token names a `kid` the held keys do not have: refetch once, unless the set changed since
   * `seenVersion` (another request already refetched) or the last fetch is younger than the cooldown.
   */
  async refresh(url: string, seenVersion: number): Promise<JwksLookup> {
    return lookupOf(await this.#documents.refresh(url, seenVersion));
  }

  /** Drops the URLs no JWT method uses any more. */
  retain(urls: Iterable<string>): void {
    this.#documents.retain(urls);
  }

  /** Fetches started so far (for tests and a metric). */
  get fetchCount(): number {
    return this.#documents.fetchCount;
  }

  status(): JwksStatus[] {
    const now = this.#clock.monotonicMs();
    return [...this.#documents.entries()].map(([url, e]) => ({
      url,
      version: e.version,
      keyCount: e.value === undefined ? 0 : e.value.jwks()?.keys.length ?? 0,
      ...(e.value === undefined ? {} : { ageMs: now - e.fetchedAtMs }),
      ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
    }));
  }
}

function lookupOf(document: RemoteDocument<JwksKeySet>): JwksLookup {
  if (document.value !== undefined) return { kind: 'keys', keys: document.value, version: document.version };
  return { kind: 'unavailable', reason: document.lastError ?? 'signing keys not fetched yet' };
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
