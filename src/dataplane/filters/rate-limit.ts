// Rate limits of API management (RateLimitPolicy, a Plan's limits): every limit that applies to a
// request takes one request from its GCRA bucket (src/state/counter-store.ts says why GCRA); if any
// bucket is empty the request is answered 429 with Retry-After, and every response of the route
// tells the client where it stands in the most restrictive limit (ratelimit-fields.ts).
//
// What a limit counts (its key): the route as a whole, the consumer (anonymous requests by client
// address), the client address (the peer, or with --trusted-proxy the client behind it: clientAddressOf), a request
// header's value, or a JWT claim's value. Requests without the header or claim share one bucket of
// their own (`h!` / `cl!`), so leaving the header out is not a way around the limit. A limit with a
// plan counts only requests of consumers on that plan.
//
// Every limit that applies is taken, also when another refuses (as Envoy's descriptors are): a
// refused request still costs the limits that let it through; it never costs the one that refused.
// Everything that can be is computed here, once per apply; per request the filter builds the keys.
import { assertNever } from '../../core/assert-never.js';
import type { IrConsumer, IrRateLimit, IrRateLimits } from '../../ir/apim.js';
import type { CounterStore, RateDecision, RateParams } from '../../state/counter-store.js';
import { CONTINUE, type FilterOutcome, type FilterResponse, type RequestPhaseFilter, type ResponseHeadersFilter } from './filter-types.js';
import type { RequestContext } from './request-context.js';
import { claimsOf, clientAddressOf, consumerOf } from './request-identity.js';
import { ceilSeconds, policyItem, sfString } from './ratelimit-fields.js';
import { STORE_UNAVAILABLE, orFallback, settle, storeUnavailable, type CounterDeps } from './shared-counters.js';

/** The attribute the request phase leaves for the response phase: the most restrictive limit's state. */
export const RATE_LIMIT_ATTRIBUTE = 'rateLimit';

export type RateLimitDeps = CounterDeps;

interface CompiledLimit {
  readonly name: string;
  readonly nameJson: string;
  readonly params: RateParams;
  readonly store: CounterStore;
  /** Global with a shared store: ask it, fall back on failure. */
  readonly shared: boolean;
  readonly plan: string | undefined;
  /** `rl:<name>:` + the key's value is the counter's key. */
  readonly keyPrefix: string;
  readonly keyOf: (ctx: RequestContext, consumer: IrConsumer | undefined) => string;
  /** `"name";q=100;w=60` and `"name"`, for the fields. */
  readonly policyField: string;
  readonly item: string;
}

/** One limit's answer for one request; the response phase reads it back by `instanceof`. */
export class RateLimitState {
  constructor(
    readonly limit: CompiledLimit,
    readonly decision: RateDecision,
  ) {}
}

type Taken = RateLimitState | typeof STORE_UNAVAILABLE;

export function compileRateLimits(rl: IrRateLimits, deps: RateLimitDeps): { request: RequestPhaseFilter; responseHeaders: ResponseHeadersFilter } {
  const limits = rl.limits.map((l) => compileLimit(l, deps));
  const needsConsumer = limits.some((l) => l.plan !== undefined) || rl.limits.some((l) => l.key.kind === 'consumer');
  const open = rl.onStoreFailure === 'open';
  const { local, onStoreFailure } = deps;

  const take = (limit: CompiledLimit, key: string): Taken | Promise<Taken> => {
    const answer = limit.store.takeRate(key, limit.params);
    if (!limit.shared) return answer instanceof Promise ? answer.then((d) => new RateLimitState(limit, d)) : new RateLimitState(limit, answer);
    return orFallback(answer, open, () => local.takeRate(key, limit.params), onStoreFailure, (d) => new RateLimitState(limit, d));
  };

  const decide = (ctx: RequestContext, taken: readonly Taken[]): FilterOutcome => {
    let refused: RateLimitState | undefined;
    let shown: RateLimitState | undefined;
    for (const t of taken) {
      if (t === STORE_UNAVAILABLE) return storeUnavailable(ctx, 'rate_limit_unavailable');
      const d = t.decision;
      // The client must wait for the slowest refusing limit; it sees the closest-to-empty allowing one.
      if (!d.allowed) {
        if (refused === undefined || d.retryAfterMs > refused.decision.retryAfterMs) refused = t;
      } else if (shown === undefined || d.remaining < shown.decision.remaining || (d.remaining === shown.decision.remaining && d.resetMs > shown.decision.resetMs)) {
        shown = t;
      }
    }
    if (refused !== undefined) return tooManyRequests(ctx, refused);
    if (shown !== undefined) ctx.attributes.set(RATE_LIMIT_ATTRIBUTE, shown);
    return CONTINUE;
  };

  const request: RequestPhaseFilter = (ctx) => {
    const consumer = needsConsumer ? consumerOf(ctx) : undefined;
    const taken: (Taken | Promise<Taken>)[] = [];
    for (const limit of limits) {
      if (limit.plan !== undefined && consumer?.plan !== limit.plan) continue;
      taken.push(take(limit, limit.keyPrefix + limit.keyOf(ctx, consumer)));
    }
    if (taken.length === 0) return CONTINUE;
    const settled = settle(taken);
    return settled instanceof Promise ? settled.then((all) => decide(ctx, all)) : decide(ctx, settled);
  };

  const responseHeaders: ResponseHeadersFilter = (ctx, _status, headers) => {
    const state = ctx.attributes.get(RATE_LIMIT_ATTRIBUTE);
    if (!(state instanceof RateLimitState)) return;
    headers.push('ratelimit-policy', state.limit.policyField, 'ratelimit', `${state.limit.item};r=${state.decision.remaining};t=${ceilSeconds(state.decision.resetMs)}`);
  };

  return { request, responseHeaders };
}

function compileLimit(l: IrRateLimit, deps: RateLimitDeps): CompiledLimit {
  // Without a shared store a global limit holds per replica: the composition root warns about it.
  const shared = l.scope === 'global' && deps.global !== undefined;
  return {
    name: l.name,
    nameJson: JSON.stringify(l.name),
    params: { requests: l.requests, periodMs: l.periodMs },
    store: shared ? deps.global! : deps.local,
    shared,
    plan: l.plan,
    keyPrefix: `rl:${l.name}:`,
    keyOf: compileKey(l.key, deps.isTrustedProxy),
    policyField: policyItem(l.name, l.requests, l.periodMs),
    item: sfString(l.name),
  };
}

/** The key's value per request; prefixes keep the kinds apart (a consumer named `ip:…` is not an address). */
function compileKey(key: IrRateLimit['key'], isTrustedProxy: ((ip: string) => boolean) | undefined): CompiledLimit['keyOf'] {
  switch (key.kind) {
    case 'route':
      return () => 'route';
    case 'consumer':
      return (ctx, consumer) => (consumer !== undefined ? `c:${consumer.name}` : `ip:${clientAddressOf(ctx, isTrustedProxy)}`);
    case 'client-ip':
      return (ctx) => `ip:${clientAddressOf(ctx, isTrustedProxy)}`;
    case 'header': {
      const name = key.name.toLowerCase();
      return (ctx) => {
        const value = ctx.headers[name];
        if (value === undefined) return 'h!';
        return `h=${Array.isArray(value) ? value.join(',') : value}`;
      };
    }
    case 'claim': {
      const name = key.name;
      return (ctx) => {
        const value = claimsOf(ctx)?.[name];
        if (value === undefined || value === null) return 'cl!';
        return `cl=${typeof value === 'string' ? value : JSON.stringify(value)}`;
      };
    }
    default:
      return assertNever(key, 'rate limit key');
  }
}

function tooManyRequests(ctx: RequestContext, state: RateLimitState): FilterResponse {
  const seconds = Math.max(1, ceilSeconds(state.decision.retryAfterMs));
  const { limit } = state;
  return {
    kind: 'respond',
    status: 429,
    details: 'rate_limited',
    // The fields are on the answer itself: the response phase adds nothing for a refused request
    // (no attribute), and an upgrade's refusal, which has no response phase, carries them too.
    headers: ['retry-after', String(seconds), 'ratelimit-policy', limit.policyField, 'ratelimit', `${limit.item};r=0;t=${seconds}`],
    body: `{"status":429,"reason":"rate_limited","message":"Too many requests: a rate limit of the route is exhausted.","request_id":${JSON.stringify(ctx.requestId)},"limit":${limit.nameJson},"retryAfterSeconds":${seconds}}`,
    contentType: 'application/json',
  };
}
