// API management (isthmus.dev/v1alpha1 AuthPolicy, AccessPolicy, RateLimitPolicy, API; Consumers and
// Plans; Istio RequestAuthentication and AuthorizationPolicy; TransformPolicy) → filters on the IR routes they cover, and policy statuses.
// Runs on the logical listeners every other translator produced, before the bind step: each
// route on each listener gets at most one `authn`, one `authz`, one `rate-limit`, one `transform` and one `api-lifecycle`
// filter, decided by precedence.ts. Routes no policy covers are returned as they were (the same
// objects). Pure: no I/O, no clock.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { ApimPolicyObjectStatus, ParentReference } from '../../core/object-status.js';
import type { IrAuthn, IrAuthz, IrExtAuth, IrQuota, IrRateLimit, IrRateLimits, IrTransform } from '../../ir/apim.js';
import type { IrFilter, IrListener, IrRoute } from '../../ir/types.js';
import { refOf, type AccessPolicy, type Api, type AuthPolicy, type RateLimitPolicy, type TransformPolicy } from '../../resources/resource.js';
import type { PolicyTargetRef } from '../../resources/apim-kinds.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { evaluateApiVersion, linkPathOf, type VersionTreatment } from './api-lifecycle.js';
import { openApiFilter, openApiTargets } from './openapi-validation.js';
import type { OpenApiVersion } from './openapi-routes.js';
import { evaluateAccessPolicy } from './access-policy.js';
import { evaluateAuthPolicy } from './auth-policy.js';
import { authorizationPolicyAuthz } from './authorization-policy.js';
import { resolveConsumers } from './consumers.js';
import { planLimits, plansOf } from './plan-limits.js';
import { newPolicyRecord, policyStatus, recordApplied, recordConflict, type PolicyRecord } from './policy-status.js';
import { decide, type Candidate } from './precedence.js';
import { evaluateRateLimitPolicy } from './rate-limit-policy.js';
import { requestAuthenticationAuthn } from './request-authentication.js';
import { evaluateTransformPolicy, type PathEdit } from './transform-policy.js';
import { routeTransform, type TransformSkips } from './transform-routes.js';
import { evaluateExternalAuth } from './external-auth.js';
import { customAuthorizationExtAuth } from './custom-authorization.js';
import { readExtensionProviders } from './mesh-config.js';
import { ancestorOf, resolveTargetRef, type ResolvedTarget, type TargetContext, type TargetKinds } from './target-refs.js';

export interface ApimOptions {
  readonly controllerName: string;
  /** This instance's labels, matched by RequestAuthentication selectors. */
  readonly istioGatewayLabels: ReadonlyMap<string, string>;
  readonly listenerSetParents: ReadonlyMap<string, string>;
  /** API versions' OpenAPI documents (openapi-routes.ts), keyed `namespace/api/version`. */
  readonly openApi?: ReadonlyMap<string, OpenApiVersion>;
}

export interface ApimTranslation {
  readonly listeners: readonly IrListener[];
  readonly statuses: readonly ApimPolicyObjectStatus[];
}

/** One attachable thing (a policy, or one API version) with its resolved targets. */
interface Attachable<T> {
  readonly item: T;
  readonly key: string;
  readonly label: string;
  readonly order: number;
  readonly record: PolicyRecord;
  readonly object: AuthPolicy | AccessPolicy | RateLimitPolicy | Api | TransformPolicy;
  readonly targets: readonly { readonly index: number; readonly path: string; readonly target: ResolvedTarget }[];
}

function nsOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

/** Resolves targetRefs; unresolved ones go to the record (status) and the diagnostics. */
function resolveTargets(object: AuthPolicy | AccessPolicy | RateLimitPolicy | Api | TransformPolicy, refs: readonly PolicyTargetRef[], pathOf: (i: number) => string, allowed: TargetKinds, record: PolicyRecord, ctx: TargetContext, diagnostics: Diagnostic[]): Attachable<unknown>['targets'] {
  const namespace = nsOf(object);
  const out: { index: number; path: string; target: ResolvedTarget }[] = [];
  refs.forEach((ref, i) => {
    const path = pathOf(i);
    const r = resolveTargetRef(ref, namespace, allowed, ctx);
    if (r.kind === 'ok') {
      out.push({ index: i, path, target: r.target });
      return;
    }
    const ancestor: ParentReference = { group: ref.group, kind: ref.kind, namespace, name: ref.name, ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}) };
    const notFound = r.kind === 'not-found';
    diagnostics.push({ severity: 'warning', code: notFound ? 'ERR_POLICY_TARGET_NOT_FOUND' : 'ERR_POLICY_UNSUPPORTED', object: refOf(object), source: object.source, path, message: `${r.message}; this target is ignored` });
    record.unresolved.push({ ref: ancestor, reason: notFound ? 'TargetNotFound' : 'Invalid', message: `${path}: ${r.message}` });
  });
  return out;
}

function candidatesOn<T>(items: readonly Attachable<T>[], listener: IrListener, route: IrRoute): Candidate<Attachable<T>>[] {
  const out: Candidate<Attachable<T>>[] = [];
  for (const a of items) {
    for (const t of a.targets) if (t.target.covers(listener, route)) out.push({ item: a, key: a.key, level: t.target.level, order: a.order, targetIndex: t.index });
  }
  return out;
}

export function translateApiManagement(index: ResourceIndex, listeners: readonly IrListener[], options: ApimOptions, diagnostics: Diagnostic[]): ApimTranslation {
  const hasAny = index.authPolicies.length + index.rateLimitPolicies.length + index.apis.length + index.requestAuthentications.length + index.accessPolicies.length + index.authorizationPolicies.length + index.consumers.size + index.plans.size + index.transformPolicies.length > 0;
  if (!hasAny) return { listeners, statuses: [] };
  const ctx: TargetContext = { index, listenerSetParents: options.listenerSetParents };
  const consumers = resolveConsumers(index, diagnostics);
  const records: PolicyRecord[] = [];

  // An AuthPolicy's externalAuth travels with it: it applies where the policy wins.
  const extAuthByPolicy = new Map<string, IrExtAuth>();
  const authPolicies: Attachable<IrAuthn>[] = [...index.authPolicies].sort(compareByCreation).map((p, order) => {
    const record = newPolicyRecord('AuthPolicy', p);
    records.push(record);
    const evaluation = evaluateAuthPolicy(p, consumers.inNamespace(nsOf(p)), diagnostics, index.secrets);
    if (evaluation.invalid !== undefined) record.invalid = evaluation.invalid;
    const extAuth = evaluateExternalAuth(p, (path, message) => {
      diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(p), source: p.source, path, message });
      record.invalid ??= `${path}: ${message}`;
    });
    if (extAuth !== undefined) extAuthByPolicy.set(`${nsOf(p)}/${p.metadata.name}`, extAuth);
    const targets = resolveTargets(p, p.spec.targetRefs, (i) => `spec.targetRefs[${i}]`, 'routes-and-gateways', record, ctx, diagnostics);
    return { item: evaluation.authn, key: `${nsOf(p)}/${p.metadata.name}`, label: `AuthPolicy ${nsOf(p)}/${p.metadata.name}`, order, record, object: p, targets };
  });
  const accessPolicies: Attachable<IrAuthz>[] = [...index.accessPolicies].sort(compareByCreation).map((p, order) => {
    const record = newPolicyRecord('AccessPolicy', p);
    records.push(record);
    const evaluation = evaluateAccessPolicy(p, diagnostics);
    if (evaluation.invalid !== undefined) record.invalid = evaluation.invalid;
    const targets = resolveTargets(p, p.spec.targetRefs, (i) => `spec.targetRefs[${i}]`, 'routes-and-gateways', record, ctx, diagnostics);
    return { item: evaluation.authz, key: `${nsOf(p)}/${p.metadata.name}`, label: `AccessPolicy ${nsOf(p)}/${p.metadata.name}`, order, record, object: p, targets };
  });
  const rateLimitPolicies: Attachable<IrRateLimits>[] = [...index.rateLimitPolicies].sort(compareByCreation).map((p, order) => {
    const record = newPolicyRecord('RateLimitPolicy', p);
    records.push(record);
    const evaluation = evaluateRateLimitPolicy(p, diagnostics);
    if (evaluation.invalid !== undefined) record.invalid = evaluation.invalid;
    const targets = resolveTargets(p, p.spec.targetRefs, (i) => `spec.targetRefs[${i}]`, 'routes-and-gateways', record, ctx, diagnostics);
    return { item: evaluation.rateLimits, key: `${nsOf(p)}/${p.metadata.name}`, label: `RateLimitPolicy ${nsOf(p)}/${p.metadata.name}`, order, record, object: p, targets };
  });
  const transformPolicies: Attachable<{ readonly transform: IrTransform; readonly path?: PathEdit }>[] = [...index.transformPolicies].sort(compareByCreation).map((p, order) => {
    const record = newPolicyRecord('TransformPolicy', p);
    records.push(record);
    const evaluation = evaluateTransformPolicy(p, diagnostics);
    if (evaluation.invalid !== undefined) record.invalid = evaluation.invalid;
    const targets = resolveTargets(p, p.spec.targetRefs, (i) => `spec.targetRefs[${i}]`, 'routes-and-gateways', record, ctx, diagnostics);
    return { item: evaluation, key: `${nsOf(p)}/${p.metadata.name}`, label: `TransformPolicy ${nsOf(p)}/${p.metadata.name}`, order, record, object: p, targets };
  });
  const transformSkips: TransformSkips = new Map();
  // Each API version attaches on its own; versions of one API keep the API's age, then their order.
  const apiVersions: Attachable<{ readonly api: Api; readonly v: number }>[] = [];
  [...index.apis].sort(compareByCreation).forEach((api, apiOrder) => {
    const record = newPolicyRecord('API', api);
    records.push(record);
    api.spec.versions.forEach((version, v) => {
      const own = version.routes ?? [];
      const refs = [...own, ...openApiTargets(api, version, v, options.openApi, diagnostics)];
      const targets = resolveTargets(api, refs, (i) => (i < own.length ? `spec.versions[${v}].routes[${i}]` : `spec.versions[${v}].openapi.generateRoutes`), 'routes', record, ctx, diagnostics);
      apiVersions.push({ item: { api, v }, key: `${nsOf(api)}/${api.metadata.name}/${version.name}`, label: `API ${nsOf(api)}/${api.metadata.name} version ${version.name}`, order: apiOrder * 1000 + v, record, object: api, targets });
    });
  });
  const workloadAuthn = requestAuthenticationAuthn(index.requestAuthentications, options.istioGatewayLabels, consumers, diagnostics);
  // Istio AuthorizationPolicies attach at the workload level: below any AccessPolicy, as RequestAuthentication is below any AuthPolicy.
  const workloadAuthz = authorizationPolicyAuthz(index.authorizationPolicies, options.istioGatewayLabels, diagnostics);
  // CUSTOM AuthorizationPolicies: the mesh config is read only when one exists.
  const workloadExtAuth = index.authorizationPolicies.some((p) => p.spec.action === 'CUSTOM')
    ? customAuthorizationExtAuth(index.authorizationPolicies, options.istioGatewayLabels, readExtensionProviders(index, diagnostics), diagnostics)
    : undefined;

  // Successor links and version treatments need every route first (a successor names another version).
  const firstPath = new Map<string, string>();
  for (const l of listeners) for (const vh of l.virtualHosts) for (const r of vh.routes) {
    for (const c of candidatesOn(apiVersions, l, r)) {
      const p = linkPathOf(r);
      if (p !== undefined && !firstPath.has(c.key)) firstPath.set(c.key, p);
    }
  }
  const treatments = new Map<string, VersionTreatment>();
  for (const a of apiVersions) {
    const { api, v } = a.item;
    const evaluation = evaluateApiVersion(api, api.spec.versions[v]!, v, (name) => firstPath.get(`${nsOf(api)}/${api.metadata.name}/${name}`), diagnostics);
    if (evaluation.invalid !== undefined && a.record.invalid === undefined) a.record.invalid = evaluation.invalid;
    treatments.set(a.key, evaluation.treatment);
  }

  const planMemo = new Map<string, { readonly limits: readonly IrRateLimit[]; readonly quotas: readonly IrQuota[] }>();
  const ofPlan = (key: string): { readonly limits: readonly IrRateLimit[]; readonly quotas: readonly IrQuota[] } => {
    let entry = planMemo.get(key);
    if (entry === undefined) {
      const [ns, name] = key.split('/') as [string, string];
      const plan = consumers.plan(`${ns}/${name}`);
      entry = plan === undefined ? { limits: [], quotas: [] } : planLimits(key, plan, diagnostics);
      planMemo.set(key, entry);
    }
    return entry;
  };

  // Conflicts, aggregated per (loser, winner, targetRef) into one diagnostic each.
  const conflicts = new Map<string, { readonly loser: Attachable<unknown>; readonly winner: string; readonly targetIndex: number; readonly routes: Set<string> }>();
  const settle = <T>(decision: ReturnType<typeof decide<Attachable<T>>>, ancestor: ParentReference, route: IrRoute): Attachable<T> | undefined => {
    const w = decision.winner?.item;
    if (w !== undefined) recordApplied(w.record, ancestor, route.name);
    for (const c of decision.conflicted) {
      recordConflict(c.item.record, ancestor, route.name, w!.label);
      const k = `${c.item.label}\n${w!.label}\n${c.targetIndex}`;
      let entry = conflicts.get(k);
      if (entry === undefined) conflicts.set(k, (entry = { loser: c.item as Attachable<unknown>, winner: w!.label, targetIndex: c.targetIndex, routes: new Set() }));
      entry.routes.add(route.name);
    }
    return w;
  };

  const rewrite = (listener: IrListener, route: IrRoute): IrRoute => {
    const ancestorFor = (origin: IrRoute['origin']): ParentReference => ancestorOf(listener, options.listenerSetParents) ?? { group: origin.group, kind: origin.kind, ...(origin.namespace !== undefined ? { namespace: origin.namespace } : {}), name: origin.name };
    const ancestor = ancestorFor(route.origin);
    const version = settle(decide(candidatesOn(apiVersions, listener, route)), ancestor, route);
    const treatment = version === undefined ? undefined : treatments.get(version.key);
    if (treatment?.kind === 'draft') {
      // Not served: as if the route did not exist. Filters, mirrors and retries go with it.
      const { mirrors: _m, retry: _r, ...rest } = route;
      return { ...rest, action: { kind: 'respond', status: 404 }, filters: [] };
    }
    const auth = settle(decide(candidatesOn(authPolicies, listener, route)), ancestor, route);
    const limits = settle(decide(candidatesOn(rateLimitPolicies, listener, route)), ancestor, route);
    const access = settle(decide(candidatesOn(accessPolicies, listener, route)), ancestor, route);
    const transform = settle(decide(candidatesOn(transformPolicies, listener, route)), ancestor, route);
    const authn = auth?.item ?? workloadAuthn;
    const authz = access?.item ?? workloadAuthz;
    const added: IrFilter[] = [];
    if (treatment !== undefined) added.push({ kind: 'api-lifecycle', lifecycle: treatment.lifecycle });
    const openApi = version === undefined ? undefined : openApiFilter(version.item.api, version.item.v, route, options.openApi);
    if (openApi?.kind === 'unusable') {
      // Validation was asked for and the document cannot be used: fail closed, as an AuthPolicy
      // without a usable method does, rather than let unchecked requests through.
      const { mirrors: _m, retry: _r, ...rest } = route;
      return { ...rest, action: { kind: 'respond', status: 503 }, filters: [] };
    }
    if (authn !== undefined) added.push({ kind: 'authn', authn });
    // The winning AuthPolicy's externalAuth; else Istio's CUSTOM policies, where Istio's ALLOW and DENY apply (no AccessPolicy).
    const extAuth = (auth === undefined ? undefined : extAuthByPolicy.get(auth.key)) ?? (access === undefined ? workloadExtAuth : undefined);
    if (extAuth !== undefined) added.push({ kind: 'ext-auth', extAuth });
    if (authz !== undefined) added.push({ kind: 'authz', authz });
    // Plans count on routes an AuthPolicy protects: it names the Consumer, then its Plan.
    const plans = auth === undefined ? [] : plansOf(auth.item);
    const planned = plans.flatMap((p) => ofPlan(p).limits);
    const quotas = plans.flatMap((p) => ofPlan(p).quotas);
    const own = limits?.item;
    if (own !== undefined || planned.length > 0) {
      const rateLimits: IrRateLimits = {
        policy: own?.policy ?? auth!.item.policy,
        limits: [...(own?.limits ?? []), ...planned],
        onStoreFailure: own?.onStoreFailure ?? 'open',
      };
      if (rateLimits.limits.length > 0) added.push({ kind: 'rate-limit', rateLimits });
    }
    if (openApi?.kind === 'filter') added.push(openApi.filter);
    if (quotas.length > 0) added.push({ kind: 'quota', quotas: { policy: auth!.item.policy, quotas, onStoreFailure: own?.onStoreFailure ?? 'open' } });
    if (transform !== undefined) {
      const ir = routeTransform(transform.item.transform, transform.item.path, route, transform, transformSkips);
      if (ir !== undefined) added.push({ kind: 'transform', transform: ir });
    }
    return added.length === 0 ? route : { ...route, filters: [...route.filters, ...added] };
  };

  const out = listeners.map((l): IrListener => ({ ...l, virtualHosts: l.virtualHosts.map((vh) => ({ ...vh, routes: vh.routes.map((r) => rewrite(l, r)) })) }));

  for (const c of [...conflicts.values()].sort((a, b) => (a.loser.label < b.loser.label ? -1 : a.loser.label > b.loser.label ? 1 : 0))) {
    const routes = [...c.routes].sort();
    const path = c.loser.targets.find((t) => t.index === c.targetIndex)?.path ?? 'spec';
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_POLICY_CONFLICTED',
      object: refOf(c.loser.object),
      source: c.loser.object.source,
      path,
      message: `${routes.length} route${routes.length === 1 ? '' : 's'} (${routes.slice(0, 3).join(', ')}${routes.length > 3 ? ', ...' : ''}) ${routes.length === 1 ? 'is' : 'are'} governed by the older ${c.winner} attached at the same level; ${c.loser.label} does not apply there`,
    });
  }
  for (const [, skip] of transformSkips) {
    const routes = [...skip.routes].sort();
    diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_UNSUPPORTED', object: refOf(skip.owner.object), source: skip.owner.object.source, path: 'spec.request.path', message: `${skip.why} on ${routes.length === 1 ? 'route' : 'routes'} ${routes.slice(0, 3).join(', ')}${routes.length > 3 ? ', ...' : ''}; the path rewrite is left out there, the other edits apply` });
  }
  const statuses = records.map((r) => policyStatus(r, options.controllerName));
  return { listeners: out, statuses };
}
