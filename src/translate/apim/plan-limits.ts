// A Plan's limits, as IrRateLimits entries counted per Consumer and only for Consumers on that
// Plan (`plan` set). They apply on routes an AuthPolicy protects, for the Plans of the Consumers
// that policy knows: authentication names the Consumer, then its Plan's counters count it.
// Quotas are fixed windows in the shared store: a day is 24 h, a month 30 days (not calendar
// months; the counter starts when its window does). Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrAuthn, IrRateLimit } from '../../ir/apim.js';
import { refOf, type Plan } from '../../resources/resource.js';
import { parsePeriodMs } from './period.js';

export const DAY_MS = 86_400_000;
export const MONTH_MS = 30 * DAY_MS;

/** The limits of one Plan (`ns/name`). Problems are reported once per Plan by the caller's memo. */
export function planLimits(planKey: string, plan: Plan, diagnostics: Diagnostic[]): IrRateLimit[] {
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
  if (quota?.requestsPerDay !== undefined) limits.push({ name: `${base}/day`, requests: quota.requestsPerDay, periodMs: DAY_MS, key: { kind: 'consumer' }, scope: 'global', plan: planKey });
  if (quota?.requestsPerMonth !== undefined) limits.push({ name: `${base}/month`, requests: quota.requestsPerMonth, periodMs: MONTH_MS, key: { kind: 'consumer' }, scope: 'global', plan: planKey });
  return limits;
}

/** The Plans (`ns/name`, sorted) of the Consumers an IrAuthn can identify. */
export function plansOf(authn: IrAuthn): string[] {
  const plans = new Set<string>();
  for (const m of authn.methods) {
    const consumers = m.kind === 'api-key' ? m.keys.map((k) => k.consumer) : m.kind === 'basic' ? m.users.map((u) => u.consumer) : Object.values(m.consumers);
    for (const c of consumers) if (c.plan !== undefined) plans.add(c.plan);
  }
  return [...plans].sort();
}
