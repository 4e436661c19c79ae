// The back-channel half of the authorization code flow: the code (with its PKCE verifier) is
// exchanged at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5), and the ID token that comes
// back is verified as OIDC Core §3.1.3.7 says: signature with the provider's keys (the shared
// JwksCache, jwks_uri from discovery), `iss`, `aud` holding the client id (and `azp` naming it
// when present), `exp`, `iat`, and the `nonce` the login cookie holds. Every failure is a reason,
// never a throw: the callback turns it into a 401.
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../../core/clock.js';
import type { JwksCache } from './jwks-cache.js';
import type { OidcProviderMetadata } from './oidc-discovery.js';

export type Outcome<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'failed'; readonly reason: string };

export interface CodeExchange {
  readonly metadata: OidcProviderMetadata;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly auth: 'client_secret_basic' | 'client_secret_post';
  readonly code: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly timeoutMs: number;
}

/** POSTs the code; the raw ID token of a successful answer. */
export async function exchangeCode(x: CodeExchange): Promise<Outcome<string>> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: x.code, redirect_uri: x.redirectUri, code_verifier: x.verifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (x.auth === 'client_secret_basic') {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined.
    headers.authorization = `Basic ${Buffer.from(`${formEncode(x.clientId)}:${formEncode(x.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', x.clientId);
    form.set('client_secret', x.clientSecret);
  }
  let status: number;
  let text: string;
  try {
    const res = await fetch(x.metadata.tokenEndpoint, { method: 'POST', headers, body: form.toString(), redirect: 'error', signal: AbortSignal.timeout(x.timeoutMs) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    return failed(`token endpoint could not be reached: ${e.name === 'TimeoutError' ? `no answer in ${x.timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return failed(`token endpoint answered ${status} without JSON`);
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (status !== 200) {
    // RFC 6749 §5.2: `error` is one of a few ASCII codes; nothing else of the answer is echoed.
    const code = typeof fields.error === 'string' ? fields.error.replace(/[^a-z_]/g, '').slice(0, 40) : `status ${status}`;
    return failed(`token endpoint refused the code (${code})`);
  }
  if (typeof fields.id_token !== 'string') return failed('token endpoint answered without an id_token');
  return { kind: 'ok', value: fields.id_token };
}

export interface IdTokenCheck {
  readonly metadata: OidcProviderMetadata;
  readonly clientId: string;
  readonly nonce: string;
  readonly jwks: JwksCache;
  readonly jwksCacheMs: number;
  readonly clock: Clock;
  readonly clockSkewSec: number;
}

export async function verifyIdToken(idToken: string, c: IdTokenCheck): Promise<Outcome<JWTPayload>> {
  const options = { issuer: c.metadata.issuer, audience: c.clientId, algorithms: [...c.metadata.idTokenAlgorithms], clockTolerance: c.clockSkewSec, currentDate: new Date(c.clock.now()), requiredClaims: ['sub', 'exp', 'iat'] };
  let lookup = await c.jwks.keys(c.metadata.jwksUri, c.jwksCacheMs);
  if (lookup.kind === 'unavailable') return failed('signing keys unavailable');
  let payload: JWTPayload;
  try {
    payload = (await jwtVerify(idToken, lookup.keys, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSNoMatchingKey)) return failed(describe(error));
    // The provider rotated its keys since the last fetch (the cache rate-limits refetches).
    const seen = lookup.version;
    lookup = await c.jwks.refresh(c.metadata.jwksUri, seen);
    if (lookup.kind !== 'keys' || lookup.version === seen) return failed('no signing key matches the ID token');
    try {
      payload = (await jwtVerify(idToken, lookup.keys, options)).payload;
    } catch (again) {
      return failed(describe(again));
    }
  }
  // Core §3.1.3.7 item 5: with several audiences, azp must be present; when present, it names us.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp === undefined) return failed('ID token has several audiences and no azp');
  if (payload.azp !== undefined && payload.azp !== c.clientId) return failed('ID token azp is another client');
  // Core §3.1.3.7 item 11: the nonce binds the token to this browser's login (no replayed token).
  if (payload.nonce !== c.nonce) return failed('ID token nonce does not match the login');
  return { kind: 'ok', value: payload };
}

function failed(reason: string): { kind: 'failed'; reason: string } {
  return { kind: 'failed', reason };
}

/** application/x-www-form-urlencoded of one value (RFC 6749 Appendix B): spaces as `+`. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'ID token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `ID token ${error.claim.replace(/[^a-z0-9_]/gi, '')} claim rejected`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'ID token algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'ID token signature invalid';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'no signing key matches the ID token';
  return 'ID token malformed';
}
