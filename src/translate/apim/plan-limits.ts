// A Plan's limits, as IrRateLimits entries counted per Consumer and only for Consumers on that
// Plan (`plan` set). They apply on routes an AuthPolicy protects, for the Plans of the Consumers
// that policy knows: authentication names the Consumer, then its Plan's counters count it.
// A Plan's quota becomes IrQuota entries: UTC calendar days and months in the shared store, so the
// 429 can say when the quota resets and the count matches an invoice's month. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrAuthn, IrQuota, IrRateLimit } from '../../ir/apim.js';
import { refOf, type Plan } from '../../resources/resource.js';
import { parsePeriodMs } from './period.js';

/** The rate limits and quotas of one Plan (`ns/name`). Problems are reported once per Plan by the caller's memo. */
export function planLimits(planKey: string, plan: Plan, diagnostics: Diagnostic[]): { readonly limits: IrRateLimit[]; readonly quotas: IrQuota[] } {
  const base = `plan/${planKey}`;
  const limits: IrRateLimit[] = [];
  (plan.spec.rateLimits ?? []).forEach((l, i) => {
    const periodMs = parsePeriodMs(l.period);
    if (periodMs === undefined) {
      diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(plan), source: plan.source, path: `spec.rateLimits[${i}].period`, message: `expected a positive duration such as "1m" or "1h", found "${l.period}"; this limit is left out` });
      return;
    }
    limits.push({ name: `${base}/${i}`, requests: l.requests, periodMs, key: { kind: 'consumer' }, scope: l.scope ?? 'global', plan: planKey });
  });
  const quota = plan.spec.quota;
  const quotas: IrQuota[] = [];
  if (quota?.requestsPerDay !== undefined) quotas.push({ name: `${base}/day`, requests: quota.requestsPerDay, period: 'day', scope: 'global', plan: planKey });
  if (quota?.requestsPerMonth !== undefined) quotas.push({ name: `${base}/month`, requests: quota.requestsPerMonth, period: 'month', scope: 'global', plan: planKey });
  return { limits, quotas };
}

/** The Plans (`ns/name`, sorted) of the Consumers an IrAuthn can identify. */
export function plansOf(authn: IrAuthn): string[] {
  const plans = new Set<string>();
  for (const m of authn.methods) {
    const consumers = m.kind === 'api-key' ? m.keys.map((k) => k.consumer) : m.kind === 'basic' ? m.users.map((u) => u.consumer) : m.kind === 'client-certificate' ? [...m.fingerprints, ...m.subjects].map((c) => c.consumer) : Object.values(m.consumers);
    for (const c of consumers) if (c.plan !== undefined) plans.add(c.plan);
  }
  return [...plans].sort();
}
