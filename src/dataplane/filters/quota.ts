// Quotas of API management: requests per consumer per UTC calendar day or month (a Plan's "10,000
// calls a month"), counted in fixed periods rather than GCRA buckets because clients, dashboards
// and invoices count "this month" (src/state/quota-period.ts). Anonymous requests are counted by
// client address; a quota with a plan counts only consumers on that plan.
//
// Fields: a quota is a quota policy in the sense of draft-ietf-httpapi-ratelimit-headers-11, so it
// is announced with the same two fields as the rate limits (ratelimit-fields.ts), one field line of
// its own: `RateLimit-Policy: "<quota>";q=<requests>;w=<seconds in the period>` and
// `RateLimit: "<quota>";r=<left>;t=<seconds until the period ends>`. One vocabulary for every limit
// beats an X-Quota-* pair that no client library reads (RFC 6648 retired the X- convention), and
// the draft's own examples include a daily policy (`w=86400`). For a month `w` is that month's
// length, so it changes at month boundaries, which the draft's SHOULD-stay-consistent allows.
import type { IrConsumer, IrQuota, IrQuotas } from '../../ir/apim.js';
import type { CounterStore, QuotaDecision, QuotaPeriod } from '../../state/counter-store.js';
import { quotaPeriodAt } from '../../state/quota-period.js';
import { CONTINUE, type FilterOutcome, type FilterResponse, type RequestPhaseFilter, type ResponseHeadersFilter } from './filter-types.js';
import type { RequestContext } from './request-context.js';
import { clientAddressOf, consumerOf } from './request-identity.js';
import { ceilSeconds, policyItem, sfString } from './ratelimit-fields.js';
import { STORE_UNAVAILABLE, orFallback, settle, storeUnavailable, type CounterDeps } from './shared-counters.js';

export const QUOTA_ATTRIBUTE = 'quota';

interface CompiledQuota {
  readonly name: string;
  readonly nameJson: string;
  readonly requests: number;
  readonly kind: 'day' | 'month';
  readonly store: CounterStore;
  readonly shared: boolean;
  readonly plan: string | undefined;
  readonly keyPrefix: string;
  readonly item: string;
  /** The current period and what depends on it, recomputed only when a period ends. */
  current: { readonly period: QuotaPeriod; readonly policyField: string; readonly resetsAt: string };
}

/** One quota's answer for one request, for the response phase. */
export class QuotaState {
  constructor(
    readonly quota: CompiledQuota,
    readonly current: CompiledQuota['current'],
    readonly decision: QuotaDecision,
    /** Seconds until the period ends. */
    readonly resetSeconds: number,
  ) {}
}

type Taken = QuotaState | typeof STORE_UNAVAILABLE;

export function compileQuotas(q: IrQuotas, deps: CounterDeps): { request: RequestPhaseFilter; responseHeaders: ResponseHeadersFilter } {
  const { clock, local, onStoreFailure } = deps;
  const quotas = q.quotas.map((quota) => compileQuota(quota, deps, clock.now()));
  const open = q.onStoreFailure === 'open';

  const take = (quota: CompiledQuota, key: string, now: number): Taken | Promise<Taken> => {
    let current = quota.current;
    if (now >= current.period.endMs || now < current.period.startMs) current = quota.current = periodState(quota.kind, quota.requests, quota.name, now);
    const { period } = current;
    const resetSeconds = ceilSeconds(period.endMs - now);
    const answer = quota.store.takeQuota(key, quota.requests, period);
    const state = (d: QuotaDecision): QuotaState => new QuotaState(quota, current, d, resetSeconds);
    if (!quota.shared) return answer instanceof Promise ? answer.then(state) : state(answer);
    return orFallback(answer, open, () => local.takeQuota(key, quota.requests, period), onStoreFailure, state);
  };

  const decide = (ctx: RequestContext, taken: readonly Taken[]): FilterOutcome => {
    let refused: QuotaState | undefined;
    let shown: QuotaState | undefined;
    for (const t of taken) {
      if (t === STORE_UNAVAILABLE) return storeUnavailable(ctx, 'quota_unavailable');
      if (!t.decision.allowed) {
        if (refused === undefined || t.resetSeconds > refused.resetSeconds) refused = t;
      } else if (shown === undefined || t.decision.remaining < shown.decision.remaining) shown = t;
    }
    if (refused !== undefined) return quotaExceeded(ctx, refused);
    if (shown !== undefined) ctx.attributes.set(QUOTA_ATTRIBUTE, shown);
    return CONTINUE;
  };

  const request: RequestPhaseFilter = (ctx) => {
    const consumer = consumerOf(ctx);
    const who = consumerKey(ctx, consumer, deps.isTrustedProxy);
    const now = clock.now();
    const taken: (Taken | Promise<Taken>)[] = [];
    for (const quota of quotas) {
      if (quota.plan !== undefined && consumer?.plan !== quota.plan) continue;
      taken.push(take(quota, quota.keyPrefix + who, now));
    }
    if (taken.length === 0) return CONTINUE;
    const settled = settle(taken);
    return settled instanceof Promise ? settled.then((all) => decide(ctx, all)) : decide(ctx, settled);
  };

  const responseHeaders: ResponseHeadersFilter = (ctx, _status, headers) => {
    const state = ctx.attributes.get(QUOTA_ATTRIBUTE);
    if (!(state instanceof QuotaState)) return;
    headers.push('ratelimit-policy', state.current.policyField, 'ratelimit', `${state.quota.item};r=${state.decision.remaining};t=${state.resetSeconds}`);
  };

  return { request, responseHeaders };
}

function compileQuota(quota: IrQuota, deps: CounterDeps, now: number): CompiledQuota {
  const shared = quota.scope === 'global' && deps.global !== undefined;
  return {
    name: quota.name,
    nameJson: JSON.stringify(quota.name),
    requests: quota.requests,
    kind: quota.period,
    store: shared ? deps.global! : deps.local,
    shared,
    plan: quota.plan,
    keyPrefix: `q:${quota.name}:`,
    item: sfString(quota.name),
    current: periodState(quota.period, quota.requests, quota.name, now),
  };
}

function periodState(kind: 'day' | 'month', requests: number, name: string, now: number): CompiledQuota['current'] {
  const period = quotaPeriodAt(now, kind);
  return {
    period,
    policyField: policyItem(name, requests, period.endMs - period.startMs),
    // RFC 3339 in UTC, whole seconds (a period always starts on one).
    resetsAt: new Date(period.endMs).toISOString().replace('.000Z', 'Z'),
  };
}

/** Consumers by name; anonymous requests by client address (prefixes keep the two apart). */
function consumerKey(ctx: RequestContext, consumer: IrConsumer | undefined, isTrustedProxy: ((ip: string) => boolean) | undefined): string {
  return consumer !== undefined ? `c:${consumer.name}` : `ip:${clientAddressOf(ctx, isTrustedProxy)}`;
}

function quotaExceeded(ctx: RequestContext, state: QuotaState): FilterResponse {
  const { quota, current } = state;
  const seconds = Math.max(1, state.resetSeconds);
  return {
    kind: 'respond',
    status: 429,
    details: 'quota_exceeded',
    headers: ['retry-after', String(seconds), 'ratelimit-policy', current.policyField, 'ratelimit', `${quota.item};r=0;t=${seconds}`],
    body: `{"status":429,"reason":"quota_exceeded","message":"The quota of the period is used up.","request_id":${JSON.stringify(ctx.requestId)},"quota":${quota.nameJson},"resetsAt":"${current.resetsAt}"}`,
    contentType: 'application/json',
  };
}
