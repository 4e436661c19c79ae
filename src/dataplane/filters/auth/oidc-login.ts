// OpenID Connect login for browser users (the `oidc` method): what Envoy's OAuth2 filter, Kong's
// openid-connect plugin and oauth2-proxy do at the edge. The authorization code flow (OIDC Core
// §3.1) with PKCE S256 (RFC 7636) and a confidential client:
//
//   no session, a browser navigation → 302 to the provider's authorization_endpoint, with state,
//     nonce and code_challenge; state, nonce, verifier and the page asked for go into a short-lived
//     sealed cookie scoped to the callback path;
//   GET redirectPath?code&state      → state checked against that cookie, code exchanged, ID token
//     verified (oidc-token.ts), sealed session cookie set, 302 back to the page;
//   a valid session cookie           → authenticated: consumer and claims as the jwt method sets them;
//   logoutPath                       → session cookie cleared, 302 to the provider's
//     end_session_endpoint (RP-Initiated Logout 1.0) or to postLogoutRedirectUri, else `/`.
//
// Who gets a redirect and who a 401: only a GET or HEAD that asks for HTML (Accept has text/html,
// or Sec-Fetch-Mode is navigate) is a browser navigation a login page can answer. An API client
// (fetch with Accept: application/json, a POST, a WebSocket upgrade) would follow a 302 into a
// login form it cannot fill, so it gets the 401 the other methods give.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../core/clock.js';
import type { IrConsumer, IrOidcMethod } from '../../../ir/apim.js';
import type { FilterResponse } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';
import { ABSENT, type AuthnVerdict, type CompiledAuthnMethod } from './authn-method.js';
import { quoted } from './challenge.js';
import type { JwksCache } from './jwks-cache.js';
import { clearCookie, setCookie, stripCookies } from './oidc-cookies.js';
import type { OidcDiscoveryCache, OidcProviderMetadata } from './oidc-discovery.js';
import { createCookieSealer } from './oidc-session.js';
import { exchangeCode, verifyIdToken } from './oidc-token.js';
import { cookieValue, headerValue } from './request-credentials.js';

export interface OidcDeps {
  readonly clock: Clock;
  readonly jwks: JwksCache;
  readonly discovery: OidcDiscoveryCache;
}

/** A login must come back within this long (the login cookie's lifetime), as oauth2-proxy's CSRF cookie. */
export const LOGIN_TTL_SEC = 600;
/** The provider's keys, as long as a jwt method keeps a remote set. */
const JWKS_CACHE_MS = 300_000;
const TOKEN_TIMEOUT_MS = 5000;

export function compileOidc(method: IrOidcMethod, realm: string, deps: OidcDeps): CompiledAuthnMethod {
  const sealer = createCookieSealer(Buffer.from(method.cookieSecret, 'base64'), method.issuer, method.clientId);
  const sessionCookie = method.cookieName;
  const loginCookie = `${method.cookieName}_login`;
  const stripped = new Set([sessionCookie, loginCookie]);
  // A Map, not the Record: a claim value of `__proto__` must name no one.
  const consumers = new Map<string, IrConsumer>(Object.entries(method.consumers));
  const scope = method.scopes.join(' ');
  // No standard scheme exists for cookie sessions; draft-broyer-http-cookie-auth's `Cookie` scheme
  // names the cookie, which tells a client what a browser would have been given.
  const challenge = `Cookie realm=${quoted(realm)}, cookie-name=${quoted(sessionCookie)}`;

  const metadata = (): Promise<OidcProviderMetadata | undefined> => deps.discovery.metadata(method.issuer, method.discoveryCacheMs).then((l) => (l.kind === 'ok' ? l.metadata : undefined));
  const redirectUri = (ctx: RequestContext): string => `${ctx.scheme}://${ctx.authority}${method.redirectPath}`;
  const secure = (ctx: RequestContext): boolean => ctx.scheme === 'https';

  const consumerOf = (claims: Readonly<Record<string, unknown>>): { consumer?: IrConsumer } => {
    const value = claims[method.consumerClaim];
    if (typeof value !== 'string' && typeof value !== 'number') return {};
    const key = String(value);
    // `oidc:` keeps a subject no Consumer declares apart from Consumers (`namespace/name`), as `jwt:` does.
    return { consumer: consumers.get(key) ?? { name: `oidc:${key}`, groups: [] } };
  };

  const startLogin = async (ctx: RequestContext): Promise<FilterResponse> => {
    const provider = await metadata();
    if (provider === undefined) return providerUnavailable(ctx);
    const state = token();
    const nonce = token();
    const verifier = token();
    const sealed = await sealer.sealLogin({ state, nonce, verifier, returnTo: returnPath(ctx) }, deps.clock.now(), LOGIN_TTL_SEC);
    const location = new URL(provider.authorizationEndpoint);
    const params = { response_type: 'code', client_id: method.clientId, redirect_uri: redirectUri(ctx), scope, state, nonce, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries(params)) location.searchParams.set(k, v);
    return redirect(location.href, 'oidc_login', [setCookie(loginCookie, sealed, { path: method.redirectPath, maxAgeSec: LOGIN_TTL_SEC, secure: secure(ctx) })]);
  };

  const callback = async (ctx: RequestContext): Promise<AuthnVerdict> => {
    const clearLogin = clearCookie(loginCookie, { path: method.redirectPath, secure: secure(ctx) });
    const refuse = (description: string): AuthnVerdict => ({ kind: 'rejected', description, headers: ['set-cookie', clearLogin] });
    const sealed = cookieValue(ctx, loginCookie);
    if (sealed === undefined) return refuse('no login in progress');
    const login = await sealer.openLogin(sealed, deps.clock.now());
    if (login.kind === 'expired') return refuse('login expired');
    if (login.kind === 'invalid') return refuse('invalid login state');
    const params = new URLSearchParams(ctx.query);
    const error = params.get('error');
    // RFC 6749 §4.1.2.1: the provider's error code (ASCII), never its free text.
    if (error !== null) return refuse(`login failed (${error.replace(/[^a-z_]/g, '').slice(0, 40)})`);
    // RFC 6749 §10.12: the state proves this browser started this login (no login CSRF).
    if (!sameText(params.get('state') ?? '', login.value.state)) return refuse('state does not match the login');
    // RFC 9207: a provider that names itself must be ours (mix-up attacks with several providers).
    const iss = params.get('iss');
    if (iss !== null && iss !== method.issuer) return refuse('unexpected issuer in the authorization response');
    const code = params.get('code');
    if (code === null || code === '') return refuse('no authorization code');
    const provider = await metadata();
    if (provider === undefined) return { kind: 'respond', response: providerUnavailable(ctx) };
    const exchanged = await exchangeCode({ metadata: provider, clientId: method.clientId, clientSecret: method.clientSecret, auth: method.tokenEndpointAuth, code, verifier: login.value.verifier, redirectUri: redirectUri(ctx), timeoutMs: TOKEN_TIMEOUT_MS });
    if (exchanged.kind === 'failed') return refuse(exchanged.reason);
    const verified = await verifyIdToken(exchanged.value, { metadata: provider, clientId: method.clientId, nonce: login.value.nonce, jwks: deps.jwks, jwksCacheMs: JWKS_CACHE_MS, clock: deps.clock, clockSkewSec: method.clockSkewSec });
    if (verified.kind === 'failed') return refuse(verified.reason);
    const now = deps.clock.now();
    const ttlSec = Math.floor(method.sessionTtlMs / 1000);
    const session = await sealer.sealSession({ claims: verified.value, idToken: exchanged.value, expiresAtSec: Math.floor(now / 1000) + ttlSec }, now);
    return {
      kind: 'respond',
      response: redirect(login.value.returnTo, 'oidc_callback', [setCookie(sessionCookie, session, { path: '/', maxAgeSec: ttlSec, secure: secure(ctx) }), clearLogin]),
    };
  };

  const logout = async (ctx: RequestContext): Promise<AuthnVerdict> => {
    const sealed = cookieValue(ctx, sessionCookie);
    const session = sealed === undefined ? undefined : await sealer.openSession(sealed, deps.clock.now());
    const idToken = session?.kind === 'ok' ? session.value.idToken : undefined;
    const provider = await metadata();
    let location = method.postLogoutRedirectUri ?? '/';
    if (provider?.endSessionEndpoint !== undefined) {
      const url = new URL(provider.endSessionEndpoint);
      url.searchParams.set('client_id', method.clientId);
      if (idToken !== undefined) url.searchParams.set('id_token_hint', idToken);
      if (method.postLogoutRedirectUri !== undefined) url.searchParams.set('post_logout_redirect_uri', method.postLogoutRedirectUri);
      location = url.href;
    }
    return { kind: 'respond', response: redirect(location, 'oidc_logout', [clearCookie(sessionCookie, { path: '/', secure: secure(ctx) })]) };
  };

  const session = async (ctx: RequestContext, sealed: string): Promise<AuthnVerdict> => {
    const opened = await sealer.openSession(sealed, deps.clock.now());
    // Expired: as if there were no cookie, so a browser is sent to log in again.
    if (opened.kind === 'expired') return ABSENT;
    if (opened.kind === 'invalid') return { kind: 'rejected', description: 'invalid session', headers: ['set-cookie', clearCookie(sessionCookie, { path: '/', secure: secure(ctx) })] };
    return { kind: 'authenticated', claims: opened.value.claims, ...consumerOf(opened.value.claims) };
  };

  return {
    challenge: () => challenge,
    authenticate(ctx) {
      if (ctx.path === method.redirectPath) return callback(ctx);
      if (ctx.path === method.logoutPath) return logout(ctx);
      const sealed = cookieValue(ctx, sessionCookie);
      return sealed === undefined || sealed === '' ? ABSENT : session(ctx, sealed);
    },
    onMissing: (ctx) => (isBrowserNavigation(ctx) ? startLogin(ctx) : undefined),
    backendRequest: (_ctx, draft) => stripCookies(draft.headers, stripped),
  };
}

/** A top-level page load a login page can answer; see the file comment. */
export function isBrowserNavigation(ctx: RequestContext): boolean {
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.upgrade) return false;
  if (headerValue(ctx, 'sec-fetch-mode') === 'navigate') return true;
  return /\btext\/html\b/i.test(headerValue(ctx, 'accept') ?? '');
}

/**
 * Where to come back to: this request's path and query, origin-relative. `//evil` would leave the
 * site, and so would `/\evil`: browsers read a backslash as a slash in http(s) URLs (WHATWG URL).
 */
export function returnPath(ctx: RequestContext): string {
  const path = /^\/(?![/\\])/.test(ctx.path) ? ctx.path : '/';
  return `${path}${ctx.query}`;
}

/** 256 random bits, base64url: state, nonce and PKCE verifier (RFC 7636 §4.1: 43+ characters). */
function token(): string {
  return randomBytes(32).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function redirect(location: string, details: string, setCookies: readonly string[]): FilterResponse {
  const headers = ['location', location, 'cache-control', 'no-store'];
  for (const c of setCookies) headers.push('set-cookie', c);
  return { kind: 'respond', status: 302, details, headers, body: '', contentType: 'text/plain; charset=utf-8' };
}

function providerUnavailable(ctx: RequestContext): FilterResponse {
  const message = 'The identity provider cannot be reached; try again shortly.';
  return { kind: 'respond', status: 503, details: 'oidc_provider_unavailable', headers: ['cache-control', 'no-store', 'retry-after', '10'], body: JSON.stringify({ status: 503, reason: 'oidc_provider_unavailable', message, request_id: ctx.requestId }), contentType: 'application/json' };
}
