// What the rate-limit and quota filters share: their counter stores, and what happens when the
// shared (Redis) store cannot answer. `open` counts the request in this process instead (the limit
// then holds per replica, never an error for the client); `closed` refuses the request with 503. In
// both cases the caller's onStoreFailure hook counts the failure (a metric); the store logs the
// outage once when it starts and once when it ends.
import type { Clock } from '../../core/clock.js';
import type { CounterStore } from '../../state/counter-store.js';
import type { FilterResponse } from './filter-types.js';
import type { RequestContext } from './request-context.js';

export interface CounterDeps {
  readonly clock: Clock;
  /** In this process: local limits, and global ones while the shared store is down (`open`). */
  readonly local: CounterStore;
  /** Shared across replicas (Redis); undefined when none is configured: global limits are then per replica. */
  readonly global: CounterStore | undefined;
  /** Called for every request whose shared counter failed (timeout, refused connection). */
  readonly onStoreFailure?: (err: Error) => void;
  /** `--trusted-proxy`: anonymous requests count by the client behind them (request-identity.ts clientAddressOf). */
  readonly isTrustedProxy?: (ip: string) => boolean;
}

/** The shared store failed and the policy is `closed`. */
export const STORE_UNAVAILABLE = Symbol('store unavailable');

/**
 * A shared-store answer passed through `map`, or on failure the local fallback's (`open`) or
 * STORE_UNAVAILABLE (`closed`). One `then` with both handlers: a request waits on one promise hop,
 * not three.
 */
export function orFallback<T, R>(
  pending: T | Promise<T>,
  open: boolean,
  fallback: () => T | Promise<T>,
  onStoreFailure: ((err: Error) => void) | undefined,
  map: (answer: T) => R,
): Promise<R | typeof STORE_UNAVAILABLE> {
  return Promise.resolve(pending).then(map, (err: unknown) => {
    onStoreFailure?.(err instanceof Error ? err : new Error(String(err)));
    if (!open) return STORE_UNAVAILABLE;
    const local = fallback();
    return local instanceof Promise ? local.then(map) : map(local);
  });
}

/** The values, synchronously when none is a Promise (a route with only local limits stays synchronous). */
export function settle<T>(values: (T | Promise<T>)[]): T[] | Promise<T[]> {
  for (const v of values) if (v instanceof Promise) return Promise.all(values);
  return values as T[];
}

/** The 503 of a `closed` policy whose shared store failed, in the shape of every local reply. */
export function storeUnavailable(ctx: RequestContext, reason: 'rate_limit_unavailable' | 'quota_unavailable'): FilterResponse {
  return {
    kind: 'respond',
    status: 503,
    details: reason,
    body: `{"status":503,"reason":"${reason}","message":"The shared counter store cannot answer and the policy fails closed.","request_id":${JSON.stringify(ctx.requestId)}}`,
    contentType: 'application/json',
  };
}
