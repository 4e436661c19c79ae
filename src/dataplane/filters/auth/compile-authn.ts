// AuthPolicy (or Istio's RequestAuthentication) on a route: its methods are tried in order, and the
// first that finds credentials of its kind decides: valid → the request goes on with a consumer;
// invalid → 401, never a second chance with another method (an attacker must not pick the weakest
// check by sending two kinds of credentials). No credentials at all: `missing: deny` → 401,
// `allow` → on as anonymous. The request phase runs for WebSocket upgrades too, and nothing here
// depends on a response, so an upgrade is authenticated exactly as any request.
//
// The credentials themselves go upstream untouched (an upstream may check the token again, or need
// it to call on); the IR has no field to strip them yet. The exception is the oidc session cookie:
// the gateway's own credential, which no upstream needs and none should be able to replay.
import type { IrAuthn, IrConsumer } from '../../../ir/apim.js';
import type { Clock } from '../../../core/clock.js';
import { assertNever } from '../../../core/assert-never.js';
import { removeHeader } from '../header-list.js';
import { CONTINUE, type BackendRequestFilter, type FilterOutcome, type RequestPhaseFilter } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';
import type { AuthnVerdict, CompiledAuthnMethod } from './authn-method.js';
import { compileApiKey } from './api-key.js';
import { compileBasic } from './basic.js';
import { compileJwt } from './jwt.js';
import { compileClientCertificate } from './client-certificate.js';
import type { JwksCache } from './jwks-cache.js';
import { compileOidc } from './oidc-login.js';
import { OidcDiscoveryCache } from './oidc-discovery.js';
import { unauthorizedReply } from './challenge.js';

/** `ctx.attributes` key of the authenticated IrConsumer (rate limits, the access log); absent when anonymous. */
export const CONSUMER_ATTRIBUTE = 'consumer';
/** `ctx.attributes` key of a verified JWT's payload (claim-keyed rate limits, forwarded claims). */
export const CLAIMS_ATTRIBUTE = 'claims';

export interface AuthnDeps {
  readonly clock: Clock;
  /** Shared by every compile for the process's life: keys survive config reloads. */
  readonly jwks: JwksCache;
  /** OpenID provider metadata, shared like `jwks`; a compile without one keeps its own. */
  readonly oidc?: OidcDiscoveryCache;
}

export interface CompiledAuthn {
  readonly request: RequestPhaseFilter;
  readonly backendRequest: BackendRequestFilter;
}

export function compileAuthn(authn: IrAuthn, deps: AuthnDeps): CompiledAuthn {
  let discovery = deps.oidc;
  const methods: CompiledAuthnMethod[] = authn.methods.map((m) => {
    switch (m.kind) {
      case 'api-key':
        return compileApiKey(m, authn.realm);
      case 'jwt':
        return compileJwt(m, authn.realm, deps);
      case 'basic':
        return compileBasic(m, authn.realm, deps.clock);
      case 'client-certificate':
        return compileClientCertificate(m, authn.realm);
      case 'oidc':
        return compileOidc(m, authn.realm, { clock: deps.clock, jwks: deps.jwks, discovery: (discovery ??= new OidcDiscoveryCache({ clock: deps.clock })) });
      default:
        return assertNever(m, 'authn method');
    }
  });
  const denyMissing = authn.missing === 'deny';

  /** Every method's challenge; the one that refused the credentials says why (RFC 6750 §3). */
  const deny = (ctx: RequestContext, refusedBy: number, description: string, headers?: readonly string[]): FilterOutcome => {
    const reply = unauthorizedReply(
      ctx,
      description,
      methods.map((m, i) => m.challenge(i === refusedBy ? description : undefined)),
    );
    // A method's own headers on its refusal (oidc clears a cookie that cannot be opened).
    return headers === undefined ? reply : { ...reply, headers: [...(reply.headers ?? []), ...headers] };
  };

  const decide = (ctx: RequestContext, index: number, verdict: Exclude<AuthnVerdict, { kind: 'absent' }>): FilterOutcome => {
    if (verdict.kind === 'rejected') return deny(ctx, index, verdict.description, verdict.headers);
    if (verdict.kind === 'respond') return verdict.response;
    if (verdict.consumer !== undefined) ctx.attributes.set(CONSUMER_ATTRIBUTE, verdict.consumer);
    if (verdict.claims !== undefined) ctx.attributes.set(CLAIMS_ATTRIBUTE, verdict.claims);
    return CONTINUE;
  };

  /** Synchronous while the methods are; a Promise from the first method that needs one. */
  const tryFrom = (ctx: RequestContext, from: number): FilterOutcome | Promise<FilterOutcome> => {
    for (let i = from; i < methods.length; i++) {
      const verdict = methods[i]!.authenticate(ctx);
      if (verdict instanceof Promise) return verdict.then((v) => (v.kind === 'absent' ? tryFrom(ctx, i + 1) : decide(ctx, i, v)));
      if (verdict.kind !== 'absent') return decide(ctx, i, verdict);
    }
    return denyMissing ? missing(ctx, 0) : CONTINUE;
  };

  /** No credentials: a method may answer instead of the 401 (oidc's login redirect for a browser). */
  const missing = (ctx: RequestContext, from: number): FilterOutcome | Promise<FilterOutcome> => {
    for (let i = from; i < methods.length; i++) {
      const answer = methods[i]!.onMissing?.(ctx);
      if (answer instanceof Promise) return answer.then((a) => a ?? missing(ctx, i + 1));
      if (answer !== undefined) return answer;
    }
    return deny(ctx, -1, 'missing credentials');
  };

  const forward = compileForward(authn.forward);
  const methodEdits = methods.flatMap((m) => (m.backendRequest === undefined ? [] : [m.backendRequest]));
  const backendRequest: BackendRequestFilter =
    methodEdits.length === 0
      ? forward
      : (ctx, draft) => {
          for (const edit of methodEdits) edit(ctx, draft);
          forward(ctx, draft);
        };
  return { request: (ctx) => tryFrom(ctx, 0), backendRequest };
}

/**
 * `forward`: the consumer's name, its groups (comma-joined) and chosen claims as request headers
 * upstream. The client's own copies of those names are removed first, whether or not the request
 * was authenticated, so no client can send `x-consumer: admin` and be believed.
 */
function compileForward(forward: IrAuthn['forward']): BackendRequestFilter {
  if (forward === undefined) return () => {};
  const consumerHeader = forward.consumerHeader?.toLowerCase();
  const groupsHeader = forward.groupsHeader?.toLowerCase();
  const claims = Object.entries(forward.claims ?? {}).map(([claim, header]) => [claim, header.toLowerCase()] as const);
  const names = [consumerHeader, groupsHeader, ...claims.map(([, h]) => h)].filter((n): n is string => n !== undefined);
  if (names.length === 0) return () => {};
  return (ctx, draft) => {
    for (const name of names) removeHeader(draft.headers, name);
    // ctx.attributes allocates on first use; a route whose requests are anonymous need not.
    const consumer = ctx.attributes.get(CONSUMER_ATTRIBUTE) as IrConsumer | undefined;
    if (consumer !== undefined) {
      if (consumerHeader !== undefined) draft.headers.push(consumerHeader, headerSafe(consumer.name));
      if (groupsHeader !== undefined && consumer.groups.length > 0) draft.headers.push(groupsHeader, headerSafe(consumer.groups.join(',')));
    }
    const payload = ctx.attributes.get(CLAIMS_ATTRIBUTE) as Readonly<Record<string, unknown>> | undefined;
    if (payload === undefined) return;
    for (const [claim, header] of claims) {
      if (!Object.hasOwn(payload, claim)) continue;
      const value = payload[claim];
      if (value === undefined || value === null) continue;
      draft.headers.push(header, headerSafe(typeof value === 'string' ? value : JSON.stringify(value)));
    }
  };
}

/**
 * A claim (or a subject-named consumer) is the issuer's text, not ours: a CR, LF or other control
 * character would make node refuse the whole upstream request (RFC 9110 §5.5). Such a value goes
 * as JSON with every non-ASCII character escaped, which is unambiguous and always a legal field value.
 */
function headerSafe(value: string): string {
  if (!/[^\t\x20-\x7e]/.test(value)) return value;
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
