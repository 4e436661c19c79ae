// What compiled filters use beyond their IR: randomness and time, and the state that outlives a
// configuration (JWKS caches, rate-limit and quota counters). The composition root creates the
// long-lived parts once per process, so a reload keeps every counter and cached key.
import { systemClock, type Clock } from '../../core/clock.js';
import { systemRandom, type Random } from '../../core/random.js';
import { MemoryCounterStore } from '../../state/memory-counter-store.js';
import { JwksCache } from './auth/jwks-cache.js';
import { OidcDiscoveryCache } from './auth/oidc-discovery.js';
import type { CounterDeps } from './shared-counters.js';
import type { ExtAuthDeps } from './ext-auth.js';

export interface FilterDeps {
  readonly random: Random;
  readonly clock: Clock;
  readonly jwks: JwksCache;
  /** OpenID provider metadata for oidc logins; absent, each compile keeps its own. */
  readonly oidc?: OidcDiscoveryCache;
  readonly counters: CounterDeps;
  /**
   * Whether an address is a trusted proxy (`--trusted-proxy`), whose X-Forwarded-For is believed:
   * authorization by the original client's address needs it. The data plane sets it from its own
   * options; absent, no proxy is trusted.
   */
  readonly isTrustedProxy?: (ip: string) => boolean;
  /** Operator log lines (a TransformPolicy body passed unchanged, once per route); absent: stderr. */
  readonly log?: (line: string) => void;
  /** External authorization: the process's connection pool to the services, and failure reporting. */
  readonly extAuth?: Omit<ExtAuthDeps, 'isTrustedProxy'>;
}

/** In-process state only: what tests and a gateway without `--redis-url` use. */
export function localFilterDeps(clock: Clock = systemClock, random: Random = systemRandom): FilterDeps {
  return { random, clock, jwks: new JwksCache({ clock }), oidc: new OidcDiscoveryCache({ clock }), counters: { clock, local: new MemoryCounterStore(clock), global: undefined } };
}
