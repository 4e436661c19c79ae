// The long-lived state of API-management filters for one gateway process: the JWKS cache, the
// in-process counters, and with `--redis-url` the shared Redis counters every replica uses. Built
// once at start, handed to the data plane, closed at shutdown. Redis failures are counted in
// `isthmus_shared_store_failures_total`; the store itself logs when an outage starts and ends.
import { Counter, type Registry } from 'prom-client';
import { Agent } from 'undici';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { IrSnapshot } from '../ir/types.js';
import { JwksCache } from '../dataplane/filters/auth/jwks-cache.js';
import { OidcDiscoveryCache } from '../dataplane/filters/auth/oidc-discovery.js';
import type { FilterDeps } from '../dataplane/filters/filter-deps.js';
import { MemoryCounterStore } from '../state/memory-counter-store.js';
import { RedisCounterStore } from '../state/redis-counter-store.js';

/** Whether any route counts a `scope: global` limit or quota: without Redis those count per replica. */
export function hasGlobalCounters(ir: IrSnapshot): boolean {
  return ir.listeners.some((l) =>
    l.virtualHosts.some((vh) =>
      vh.routes.some((r) => r.filters.some((f) => (f.kind === 'rate-limit' && f.rateLimits.limits.some((x) => x.scope === 'global')) || (f.kind === 'quota' && f.quotas.quotas.some((q) => q.scope === 'global')))),
    ),
  );
}

export interface FilterState {
  readonly deps: FilterDeps;
  close(): Promise<void>;
}

export function createFilterState(options: {
  readonly clock: Clock;
  readonly random: Random;
  readonly redisUrl: string | undefined;
  readonly redisTimeoutMs: number;
  readonly registry: Registry;
  readonly log: (line: string) => void;
}): FilterState {
  const failures = new Counter({
    name: 'isthmus_shared_store_failures_total',
    help: 'Requests whose rate-limit or quota counter could not be read from the shared store (Redis); the policy then failed open or closed',
    registers: [options.registry],
  });
  const extAuthFailures = new Counter({
    name: 'isthmus_ext_auth_failures_total',
    help: 'External authorization checks that failed (timeout, connection error, 5xx); mode says whether the request was refused (closed) or let through (open)',
    labelNames: ['mode'],
    registers: [options.registry],
  });
  // One pool for every ext-auth service, kept across reloads: connections stay warm. The log says
  // a service fails at most once a minute each, so an outage does not flood it; the counter counts all.
  const extAuthPool = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const lastLogged = new Map<string, number>();
  const global = options.redisUrl === undefined ? undefined : new RedisCounterStore({ url: options.redisUrl, commandTimeoutMs: options.redisTimeoutMs, log: options.log });
  if (global !== undefined) {
    // Read at scrape time: the request path only bumps the store's own numbers.
    new Counter({
      name: 'isthmus_shared_store_takes_total',
      help: 'Requests counted in the shared store (Redis): rate-limit and quota takes, one per request and counter',
      registers: [options.registry],
      collect() {
        this.reset();
        this.inc(global.stats.takes);
      },
    });
    new Counter({
      name: 'isthmus_shared_store_calls_total',
      help: 'Script calls sent to the shared store (Redis); the takes of one counter in one event-loop turn go as one call',
      registers: [options.registry],
      collect() {
        this.reset();
        this.inc(global.stats.calls);
      },
    });
  }
  const deps: FilterDeps = {
    random: options.random,
    clock: options.clock,
    jwks: new JwksCache({ clock: options.clock }),
    oidc: new OidcDiscoveryCache({ clock: options.clock }),
    counters: { clock: options.clock, local: new MemoryCounterStore(options.clock), global, onStoreFailure: () => failures.inc() },
    log: options.log,
    extAuth: {
      dispatcher: extAuthPool,
      onFailure: (f) => {
        extAuthFailures.inc({ mode: f.mode });
        const now = options.clock.now();
        if (now - (lastLogged.get(f.url) ?? -Infinity) < 60_000) return;
        lastLogged.set(f.url, now);
        options.log(`external authorization ${f.url} failed (${f.reason}) for ${f.check}; requests fail ${f.mode}`);
      },
    },
  };
  return {
    deps,
    async close() {
      await global?.close();
      await extAuthPool.close();
    },
  };
}
