// One AuthPolicy → IrAuthn, with the Consumers of its namespace as the identities. Methods keep a
// fixed order (apiKey, jwt, basic, clientCertificate, oidc): the first that finds credentials decides; oidc comes last
// so that a browser is sent to log in only when no other kind of credential was presented. A method the CRD's
// CEL rules would refuse (or that cannot be used) is left out with a diagnostic; a policy left
// with no method still applies, and answers 401 to everyone unless it allows anonymous requests:
// a broken policy fails closed, never open. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrAuthn, IrAuthnMethod, IrJwtMethod } from '../../ir/apim.js';
import { refOf, type AuthPolicy, type Secret } from '../../resources/resource.js';
import type { NamespaceConsumers } from './consumers.js';
import { readJwksKeys } from './jwks.js';
import { translateOidcMethod } from './oidc.js';
import { parseDurationMs } from './period.js';

export const DEFAULT_API_KEY_HEADER = 'x-api-key';
export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'ES256'] as const;
export const DEFAULT_CLOCK_SKEW_SEC = 60;
/** Remote key sets are fetched again after this long (Envoy's `cache_duration` default, 5 min). */
export const JWKS_CACHE_MS = 300_000;
export const DEFAULT_REALM = 'isthmus';

export interface AuthPolicyEvaluation {
  readonly authn: IrAuthn;
  /** The first problem, for the Accepted condition (reason Invalid); absent when everything was used. */
  readonly invalid?: string;
}

export function authPolicyName(p: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `authpolicy/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

/** `secrets`: the snapshot's Secrets by `namespace/name`, for the oidc method's client and cookie secrets. */
export function evaluateAuthPolicy(policy: AuthPolicy, consumers: NamespaceConsumers, diagnostics: Diagnostic[], secrets: ReadonlyMap<string, Secret> = new Map()): AuthPolicyEvaluation {
  const problems: string[] = [];
  const invalid = (path: string, message: string): void => {
    diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(policy), source: policy.source, path, message });
    problems.push(`${path}: ${message}`);
  };
  const { forward } = policy.spec;
  // Without methods (only `externalAuth`), nothing is asked of the client here: the service decides.
  const m = policy.spec.methods ?? {};
  if (policy.spec.methods === undefined && policy.spec.externalAuth === undefined) invalid('spec', 'expected methods, externalAuth or both, found neither; every request is refused (401)');
  const methods: IrAuthnMethod[] = [];
  if (m.apiKey !== undefined) {
    const { header, query, cookie } = m.apiKey;
    const from = header === undefined && query === undefined && cookie === undefined ? { header: DEFAULT_API_KEY_HEADER } : { ...(header !== undefined ? { header: header.toLowerCase() } : {}), ...(query !== undefined ? { query } : {}), ...(cookie !== undefined ? { cookie } : {}) };
    methods.push({ kind: 'api-key', from, keys: consumers.apiKeys });
  }
  if (m.jwt !== undefined) {
    const jwt = m.jwt;
    const path = 'spec.methods.jwt';
    let jwks: IrJwtMethod['jwks'] | undefined;
    // The CRD's CEL rule (has(jwksUri) != has(jwks)): JSON Schema cannot say it, so it is checked here.
    if ((jwt.jwksUri === undefined) === (jwt.jwks === undefined)) invalid(path, `expected exactly one of jwksUri and jwks, found ${jwt.jwksUri === undefined ? 'neither' : 'both'}; the jwt method is left out`);
    else if (jwt.jwksUri !== undefined) jwks = { kind: 'remote', url: jwt.jwksUri, cacheMs: JWKS_CACHE_MS };
    else {
      const read = readJwksKeys(jwt.jwks?.keys);
      if (read.kind === 'ok') jwks = { kind: 'inline', keys: read.keys };
      else invalid(`${path}.jwks`, `${read.message}; the jwt method is left out`);
    }
    const skewMs = jwt.clockSkew === undefined ? DEFAULT_CLOCK_SKEW_SEC * 1000 : parseDurationMs(jwt.clockSkew);
    if (skewMs === undefined) invalid(`${path}.clockSkew`, `expected a duration such as "60s", found "${jwt.clockSkew}"; the jwt method is left out`);
    if (jwks !== undefined && skewMs !== undefined) {
      const from = jwt.fromHeader === undefined && jwt.fromQuery === undefined
        ? { header: { name: 'authorization', prefix: 'Bearer ' } }
        : { ...(jwt.fromHeader !== undefined ? { header: { name: jwt.fromHeader.name.toLowerCase(), prefix: jwt.fromHeader.prefix ?? '' } } : {}), ...(jwt.fromQuery !== undefined ? { query: jwt.fromQuery } : {}) };
      methods.push({
        kind: 'jwt',
        issuer: jwt.issuer,
        audiences: [...(jwt.audiences ?? [])],
        algorithms: [...(jwt.algorithms ?? DEFAULT_JWT_ALGORITHMS)],
        jwks,
        clockSkewSec: Math.floor(skewMs / 1000),
        from,
        consumerClaim: jwt.consumerClaim ?? 'sub',
        consumers: consumers.jwtSubjects,
      });
    }
  }
  if (m.basic !== undefined) methods.push({ kind: 'basic', users: consumers.basicUsers });
  if (m.clientCertificate !== undefined) methods.push({ kind: 'client-certificate', fingerprints: consumers.certificates?.fingerprints ?? [], subjects: consumers.certificates?.subjects ?? [] });
  if (m.oidc !== undefined) {
    const oidc = translateOidcMethod(m.oidc, policy.metadata.namespace ?? 'default', secrets, consumers.jwtSubjects);
    if (oidc.kind === 'ok') methods.push(oidc.method);
    else invalid(oidc.path, oidc.message);
  }
  const hasClaims = m.jwt !== undefined || m.oidc !== undefined;
  if (forward?.claims !== undefined && !hasClaims) {
    diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_INVALID', object: refOf(policy), source: policy.source, path: 'spec.forward.claims', message: 'claims are forwarded from JWTs and OpenID Connect ID tokens only, and this policy has neither a jwt nor an oidc method; ignored' });
  }
  const fwd = forward === undefined ? undefined : {
    ...(forward.consumerHeader !== undefined ? { consumerHeader: forward.consumerHeader.toLowerCase() } : {}),
    ...(forward.groupsHeader !== undefined ? { groupsHeader: forward.groupsHeader.toLowerCase() } : {}),
    ...(forward.claims !== undefined && hasClaims ? { claims: Object.fromEntries(Object.entries(forward.claims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([c, h]) => [c, h.toLowerCase()])) } : {}),
  };
  const authn: IrAuthn = {
    policy: authPolicyName(policy),
    methods,
    missing: policy.spec.allowAnonymous === true || (policy.spec.methods === undefined && policy.spec.externalAuth !== undefined) ? 'allow' : 'deny',
    realm: policy.spec.realm ?? DEFAULT_REALM,
    ...(fwd !== undefined && Object.keys(fwd).length > 0 ? { forward: fwd } : {}),
  };
  return problems.length === 0 ? { authn } : { authn, invalid: problems[0]! };
}
