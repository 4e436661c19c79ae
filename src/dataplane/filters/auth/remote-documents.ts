// What the JWKS cache and the OpenID Connect discovery cache share: documents fetched by key (a URL,
// an issuer) and kept for the whole process. A stale document is fetched again when asked for;
// concurrent askers share one fetch; a failed fetch keeps the document already held; after a
// failure, or for a refresh not due to age, at most one fetch per key per cooldown, however many
// requests ask (an attacker must not be able to make the gateway fetch at will). `version` grows
// with every successful fetch, so a caller can tell whether a refresh changed anything.
import type { Clock } from '../../../core/clock.js';

export interface RemoteDocument<T> {
  readonly value?: T;
  readonly version: number;
  readonly fetchedAtMs: number;
  readonly lastError?: string;
}

interface Entry<T> {
  value?: T;
  version: number;
  fetchedAtMs: number;
  attemptedAtMs: number;
  lastError?: string;
  inflight?: Promise<void>;
}

/** Fetches one document; a failure comes back as its reason, never thrown. */
export type LoadDocument<T> = (key: string) => Promise<T | string>;

export class RemoteDocuments<T> {
  readonly #clock: Clock;
  readonly #cooldownMs: number;
  readonly #load: LoadDocument<T>;
  readonly #entries = new Map<string, Entry<T>>();
  #fetches = 0;

  constructor(clock: Clock, cooldownMs: number, load: LoadDocument<T>) {
    this.#clock = clock;
    this.#cooldownMs = cooldownMs;
    this.#load = load;
  }

  /** The document, fetched first when there is none or it is older than `cacheMs` (and the cooldown allows). */
  async get(key: string, cacheMs: number): Promise<RemoteDocument<T>> {
    const entry = this.#entry(key);
    const now = this.#clock.monotonicMs();
    const stale = entry.value === undefined || now - entry.fetchedAtMs >= cacheMs;
    const mayFetch = entry.lastError === undefined || now - entry.attemptedAtMs >= this.#cooldownMs;
    if (stale && (mayFetch || entry.inflight !== undefined)) await this.#fetch(key, entry);
    return entry;
  }

  /** Fetches again unless the document changed since `seenVersion` or the last fetch is within the cooldown. */
  async refresh(key: string, seenVersion: number): Promise<RemoteDocument<T>> {
    const entry = this.#entry(key);
    if (entry.version === seenVersion && (entry.inflight !== undefined || this.#clock.monotonicMs() - entry.attemptedAtMs >= this.#cooldownMs)) {
      await this.#fetch(key, entry);
    }
    return entry;
  }

  /** The version held when it is younger than `cacheMs`, without fetching; undefined when get() would fetch. */
  freshVersion(key: string, cacheMs: number): number | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.value === undefined) return undefined;
    return this.#clock.monotonicMs() - entry.fetchedAtMs < cacheMs ? entry.version : undefined;
  }

  /** Drops the keys no longer used. */
  retain(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const key of this.#entries.keys()) if (!keep.has(key)) this.#entries.delete(key);
  }

  /** Fetches started so far (for tests and a metric). */
  get fetchCount(): number {
    return this.#fetches;
  }

  entries(): IterableIterator<[string, RemoteDocument<T>]> {
    return this.#entries.entries();
  }

  #entry(key: string): Entry<T> {
    let entry = this.#entries.get(key);
    // attemptedAtMs far in the past: the first fetch may start at once.
    if (entry === undefined) this.#entries.set(key, (entry = { version: 0, fetchedAtMs: 0, attemptedAtMs: -Infinity }));
    return entry;
  }

  #fetch(key: string, entry: Entry<T>): Promise<void> {
    if (entry.inflight !== undefined) return entry.inflight;
    entry.attemptedAtMs = this.#clock.monotonicMs();
    this.#fetches++;
    const done = this.#load(key).then((result) => {
      if (typeof result === 'string') {
        entry.lastError = result;
        return;
      }
      entry.value = result;
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
