// Istio RequestAuthentication (security.istio.io) → IrAuthn for every route this gateway serves.
// A RequestAuthentication belongs to workloads: one whose `selector.matchLabels` picks this
// instance (`--istio-gateway-labels`, matched as Istio Gateway selectors are) applies to all of
// its traffic, below any AuthPolicy (attachment level `workload`). Istio merges the jwtRules of
// every RequestAuthentication that selects a workload; so does this, oldest first.
// RequestAuthentication alone never requires a token: a request without one passes (`missing:
// allow`), one with an invalid token gets 401. Refusing requests without a token takes an
// AuthorizationPolicy (`requestPrincipals`; authorization-policy.ts), or an AuthPolicy
// (allowAnonymous false).
// Not applied: RequestAuthentications without a selector (they cover their namespace's
// workloads, and this gateway does not know its own namespace) and with targetRef(s).
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrAuthn, IrJwtMethod } from '../../ir/apim.js';
import { refOf, type AuthorizationPolicy, type RequestAuthentication } from '../../resources/resource.js';
import type { IstioJwtRule } from '../../resources/request-authentication.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { selectsUs } from '../istio/istio-gateways.js';
import { DEFAULT_CLOCK_SKEW_SEC, DEFAULT_REALM, JWKS_CACHE_MS } from './auth-policy.js';
import type { ConsumerDirectory } from './consumers.js';
import { parseJwksJson } from './jwks.js';

/** Envoy accepts any asymmetric algorithm the key supports; HMAC needs a shared secret and is never used with a JWKS here. */
export const ISTIO_JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

function jwtMethod(ra: RequestAuthentication, rule: IstioJwtRule, i: number, consumers: ConsumerDirectory, diagnostics: Diagnostic[]): IrJwtMethod | undefined {
  const path = `spec.jwtRules[${i}]`;
  const report = (severity: Diagnostic['severity'], code: Diagnostic['code'], at: string, message: string): void => {
    diagnostics.push({ severity, code, object: refOf(ra), source: ra.source, path: at, message });
  };
  let jwks: IrJwtMethod['jwks'];
  if (rule.jwksUri !== undefined) jwks = { kind: 'remote', url: rule.jwksUri, cacheMs: JWKS_CACHE_MS };
  else if (rule.jwks !== undefined) {
    const read = parseJwksJson(rule.jwks);
    if (read.kind === 'invalid') {
      report('error', 'ERR_POLICY_INVALID', `${path}.jwks`, `${read.message}; this rule is not used`);
      return undefined;
    }
    jwks = { kind: 'inline', keys: read.keys };
  } else {
    report('error', 'ERR_ISTIO_UNSUPPORTED', path, 'expected jwksUri or jwks: OpenID discovery of the key set from the issuer is not implemented; this rule is not used');
    return undefined;
  }
  const headers = rule.fromHeaders ?? [];
  const params = rule.fromParams ?? [];
  if (headers.length > 1) report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.fromHeaders`, `only the first header ("${headers[0]!.name}") is read; ${headers.slice(1).map((h) => `"${h.name}"`).join(', ')} ignored`);
  if (params.length > 1) report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.fromParams`, `only the first parameter ("${params[0]}") is read; ${params.slice(1).map((p) => `"${p}"`).join(', ')} ignored`);
  if ((rule.fromCookies ?? []).length > 0) report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.fromCookies`, 'tokens in cookies are not read; ignored');
  if (rule.outputPayloadToHeader !== undefined) report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.outputPayloadToHeader`, 'not implemented (outputClaimToHeaders is); ignored');
  // Istio's default locations: `Authorization: Bearer <token>` and the `access_token` parameter.
  const from = headers.length === 0 && params.length === 0
    ? { header: { name: 'authorization', prefix: 'Bearer ' }, query: 'access_token' }
    : { ...(headers[0] !== undefined ? { header: { name: headers[0].name.toLowerCase(), prefix: headers[0].prefix ?? '' } } : {}), ...(params[0] !== undefined ? { query: params[0] } : {}) };
  return {
    kind: 'jwt',
    issuer: rule.issuer,
    audiences: [...(rule.audiences ?? [])],
    algorithms: [...ISTIO_JWT_ALGORITHMS],
    jwks,
    clockSkewSec: DEFAULT_CLOCK_SKEW_SEC,
    from,
    consumerClaim: 'sub',
    consumers: consumers.inNamespace(ra.metadata.namespace ?? 'default').jwtSubjects,
  };
}

/**
 * Whether a security.istio.io object (RequestAuthentication, AuthorizationPolicy) applies to this
 * gateway: its `selector.matchLabels` picks this instance's labels. targetRef(s) and a missing
 * selector are reported and not applied (see the top of this file).
 */
export function selectsThisGateway(o: RequestAuthentication | AuthorizationPolicy, labels: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): boolean {
  const report = (path: string, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_UNSUPPORTED', object: refOf(o), source: o.source, path, message });
  };
  if (o.spec.targetRef !== undefined || o.spec.targetRefs !== undefined) {
    report(o.spec.targetRef !== undefined ? 'spec.targetRef' : 'spec.targetRefs', 'targetRef(s) are not implemented; use selector.matchLabels with this gateway\'s labels (--istio-gateway-labels); not applied');
    return false;
  }
  const selector = o.spec.selector?.matchLabels ?? {};
  if (Object.keys(selector).length === 0) {
    report('spec.selector', 'without a selector it covers the workloads of its namespace, and this gateway does not know its own; add selector.matchLabels with this gateway\'s labels (--istio-gateway-labels); not applied here');
    return false;
  }
  return selectsUs(selector, labels);
}

/** The merged IrAuthn of every RequestAuthentication that selects this instance; undefined when none does. */
export function requestAuthenticationAuthn(items: readonly RequestAuthentication[], labels: ReadonlyMap<string, string>, consumers: ConsumerDirectory, diagnostics: Diagnostic[]): IrAuthn | undefined {
  const applied: RequestAuthentication[] = [];
  for (const ra of [...items].sort(compareByCreation)) {
    if (selectsThisGateway(ra, labels, diagnostics)) applied.push(ra);
  }
  if (applied.length === 0) return undefined;
  const methods: IrJwtMethod[] = [];
  const claims: Record<string, string> = {};
  for (const ra of applied) {
    ra.spec.jwtRules.forEach((rule, i) => {
      const method = jwtMethod(ra, rule, i, consumers, diagnostics);
      if (method === undefined) return;
      methods.push(method);
      for (const o of rule.outputClaimToHeaders ?? []) claims[o.claim] = o.header.toLowerCase();
    });
  }
  const sortedClaims = Object.fromEntries(Object.entries(claims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    policy: applied.map((ra) => `requestauthentication/${ra.metadata.namespace ?? 'default'}/${ra.metadata.name}`).join(','),
    methods,
    missing: 'allow',
    realm: DEFAULT_REALM,
    ...(Object.keys(sortedClaims).length > 0 ? { forward: { claims: sortedClaims } } : {}),
  };
}
