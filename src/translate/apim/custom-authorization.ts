// Istio AuthorizationPolicies with action CUSTOM → IrExtAuth: a request matching one of a policy's
// rules is checked by the external authorizer its `provider.name` names in the mesh config's
// `extensionProviders` (mesh-config.ts). Like the ALLOW and DENY policies (authorization-policy.ts)
// they apply at the `workload` level to every route this gateway serves, and the ext-auth filter
// runs before the authz filter: Istio's order, CUSTOM, then DENY, then ALLOW.
//   - Rules match as DENY rules do: a condition that is not implemented is ignored, so a policy
//     checks more requests, never fewer; a policy without rules checks nothing (Istio).
//   - A provider that is missing, or not envoyExtAuthzHttp, cannot be asked: requests the policy's
//     rules match are denied (403), as Istio rejects them (fail closed), with a diagnostic.
//   - Policies are checked oldest first, the first matching rule decides. Istio allows one provider
//     per workload; here each policy is checked with its own.
// Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrExtAuth, IrExtAuthCheck } from '../../ir/apim.js';
import { refOf, type AuthorizationPolicy } from '../../resources/resource.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { policyName, rulesOf, type Report } from './authorization-policy.js';
import type { ExtensionProvider } from './mesh-config.js';
import { selectsThisGateway } from './request-authentication.js';

/** The combined IrExtAuth of the CUSTOM policies that select this instance; undefined when none does. */
export function customAuthorizationExtAuth(items: readonly AuthorizationPolicy[], labels: ReadonlyMap<string, string>, providers: ReadonlyMap<string, ExtensionProvider>, diagnostics: Diagnostic[]): IrExtAuth | undefined {
  const applied: AuthorizationPolicy[] = [];
  const checks: IrExtAuthCheck[] = [];
  for (const p of [...items].sort(compareByCreation)) {
    if (p.spec.action !== 'CUSTOM') continue;
    // authorizationPolicyAuthz has reported a missing selector or a targetRef already.
    if (!selectsThisGateway(p, labels, [])) continue;
    const report: Report = (severity, code, path, message) => diagnostics.push({ severity, code, object: refOf(p), source: p.source, path, message });
    applied.push(p);
    const providerName = p.spec.provider?.name;
    const provider = providerName === undefined ? undefined : providers.get(providerName);
    let target: IrExtAuthCheck['target'];
    if (provider?.kind === 'http') target = { kind: 'service', service: provider.service };
    else {
      const reason = providerName === undefined ? 'a CUSTOM policy names no provider' : provider === undefined ? `provider "${providerName}" is not among the mesh config's extensionProviders (ConfigMap istio-system/istio, key mesh)` : provider.reason;
      report('error', 'ERR_AUTHZ_PROVIDER_NOT_FOUND', providerName === undefined ? 'spec.provider' : 'spec.provider.name', `${reason}; requests matching this policy are denied (403)`);
      target = { kind: 'deny', reason: providerName === undefined ? 'no provider' : `provider ${providerName} unusable` };
    }
    for (const rule of rulesOf(p, 'deny', report)) checks.push({ name: rule.name, conditions: rule.conditions, target });
  }
  if (checks.length === 0) return undefined;
  return { policy: applied.map(policyName).join(','), checks };
}
