// One RateLimitPolicy → IrRateLimits. A limit the CRD's CEL rule would refuse (`by.name` set
// exactly for header and claim) or with a period outside the grammar is left out with a
// diagnostic; the other limits still count. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrRateLimit, IrRateLimits } from '../../ir/apim.js';
import { refOf, type RateLimitPolicy } from '../../resources/resource.js';
import { parsePeriodMs } from './period.js';

export interface RateLimitPolicyEvaluation {
  readonly rateLimits: IrRateLimits;
  readonly invalid?: string;
}

export function rateLimitPolicyName(p: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `ratelimitpolicy/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function evaluateRateLimitPolicy(policy: RateLimitPolicy, diagnostics: Diagnostic[]): RateLimitPolicyEvaluation {
  const name = rateLimitPolicyName(policy);
  const problems: string[] = [];
  const limits: IrRateLimit[] = [];
  policy.spec.limits.forEach((limit, i) => {
    const path = `spec.limits[${i}]`;
    const invalid = (at: string, message: string): void => {
      diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(policy), source: policy.source, path: at, message: `${message}; this limit is left out` });
      problems.push(`${at}: ${message}`);
    };
    const periodMs = parsePeriodMs(limit.period);
    if (periodMs === undefined) return invalid(`${path}.period`, `expected a positive duration such as "1m" or "1h", found "${limit.period}"`);
    const by = limit.by ?? { kind: 'route' as const };
    const named = by.kind === 'header' || by.kind === 'claim';
    if (named && by.name === undefined) return invalid(`${path}.by`, `kind ${by.kind} needs a name (the ${by.kind} to count by)`);
    if (!named && by.name !== undefined) return invalid(`${path}.by.name`, `kind ${by.kind} takes no name, found "${by.name}"`);
    const key: IrRateLimit['key'] =
      by.kind === 'header' ? { kind: 'header', name: by.name!.toLowerCase() }
      : by.kind === 'claim' ? { kind: 'claim', name: by.name! }
      : by.kind === 'clientIP' ? { kind: 'client-ip' }
      : { kind: by.kind };
    limits.push({ name: `${name}/${i}`, requests: limit.requests, periodMs, key, scope: limit.scope ?? 'local' });
  });
  const rateLimits: IrRateLimits = { policy: name, limits, onStoreFailure: policy.spec.onStoreFailure ?? 'open' };
  return problems.length === 0 ? { rateLimits } : { rateLimits, invalid: problems[0]! };
}
