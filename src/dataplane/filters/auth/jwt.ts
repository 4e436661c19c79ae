// JWT bearer tokens (RFC 7519, RFC 8725's best practices) verified with jose: the signature with
// the issuer's keys (a remote JWKS through the shared JwksCache, or keys inline in the policy),
// then `iss`, `aud`, `exp`, `nbf` and `iat` against the injected clock. The algorithm allow-list is
// checked before any key is looked up, so `alg: none`, an HMAC token "signed" with the issuer's
// public key (RFC 8725 §2.1) or any algorithm the policy did not name is refused without a fetch.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../../core/clock.js';
import type { IrConsumer, IrJwtMethod } from '../../../ir/apim.js';
import type { RequestContext } from '../request-context.js';
import { ABSENT, type AuthnVerdict, type CompiledAuthnMethod } from './authn-method.js';
import { bearerChallenge } from './challenge.js';
import { keySetFrom, type JwksCache, type JwksKeySet, type JwksLookup } from './jwks-cache.js';
import { authorizationFor, queryValue } from './request-credentials.js';
import { VerifiedTokens } from './verified-tokens.js';

export interface JwtDeps {
  readonly clock: Clock;
  readonly jwks: JwksCache;
}

type Attempt = { readonly kind: 'verified'; readonly payload: JWTPayload } | { readonly kind: 'failed'; readonly error: unknown };

export function compileJwt(method: IrJwtMethod, realm: string, deps: JwtDeps): CompiledAuthnMethod {
  // RFC 8725 §3.1: only the algorithms the policy names; `none` even if it names it.
  const algorithms = method.algorithms.filter((a) => a.toLowerCase() !== 'none');
  const allowed = new Set(algorithms);
  const audience = method.audiences.length === 0 ? undefined : [...method.audiences];
  const skewSec = Math.max(0, method.clockSkewSec);
  // A Map, not the Record: a claim value of `__proto__` or `constructor` must name no one.
  const consumers = new Map<string, IrConsumer>(Object.entries(method.consumers));
  const jwks = method.jwks;
  const inline: JwksLookup | undefined =
    jwks.kind === 'inline'
      ? ((set) => (typeof set === 'string' ? { kind: 'unavailable', reason: set } : { kind: 'keys', keys: set, version: 1 }))(keySetFrom({ keys: jwks.keys }, `inline JWKS of ${method.issuer}`))
      : undefined;
  const header = method.from.header === undefined ? undefined : { name: method.from.header.name.toLowerCase(), prefix: method.from.header.prefix };
  const query = method.from.query;
  // Per compiled method: a token verified for one policy's issuer and audiences says nothing about another's.
  const verified = new VerifiedTokens();

  const tokenOf = (ctx: RequestContext): string | undefined => {
    if (header !== undefined) {
      const t = authorizationFor(ctx, header.name, header.prefix);
      if (t !== undefined) return t;
    }
    return query === undefined ? undefined : queryValue(ctx, query);
  };

  const attempt = async (token: string, keys: JwksKeySet): Promise<Attempt> => {
    const options = { issuer: method.issuer, audience, algorithms, clockTolerance: skewSec, currentDate: new Date(deps.clock.now()) };
    try {
      return { kind: 'verified', payload: (await jwtVerify(token, keys, options)).payload };
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) return { kind: 'failed', error };
      // No `kid` and several keys of the right type (jose leaves the choice to us): the first
      // that verifies wins, as jose's documentation does it.
      let last: unknown = error;
      for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
        try {
          return { kind: 'verified', payload: (await jwtVerify(token, key, options)).payload };
        } catch (e) {
          last = e;
          if (!(e instanceof errors.JWSSignatureVerificationFailed)) break;
        }
      }
      return { kind: 'failed', error: last };
    }
  };

  const verify = async (token: string): Promise<AuthnVerdict> => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return reject('malformed token');
    }
    if (typeof alg !== 'string' || !allowed.has(alg)) return reject(`algorithm ${typeof alg === 'string' ? alg.slice(0, 16) : '(none)'} not allowed`);

    let lookup = inline ?? (jwks.kind === 'remote' ? await deps.jwks.keys(jwks.url, jwks.cacheMs) : undefined);
    if (lookup === undefined || lookup.kind === 'unavailable') return reject('signing keys unavailable');
    let keysVersion = lookup.version;
    let result = await attempt(token, lookup.keys);
    if (result.kind === 'failed' && result.error instanceof errors.JWKSNoMatchingKey && jwks.kind === 'remote') {
      // An unknown kid: the issuer may have rotated its keys since the last fetch (rate-limited in the cache).
      const seen = lookup.version;
      lookup = await deps.jwks.refresh(jwks.url, seen);
      if (lookup.kind === 'keys' && lookup.version !== seen) {
        keysVersion = lookup.version;
        result = await attempt(token, lookup.keys);
      }
    }
    if (result.kind === 'failed') return reject(describe(result.error));

    const payload = result.payload;
    // jose checks `iat` only with maxTokenAge; a token issued in the future (beyond the skew) is
    // refused too, as its `exp` would otherwise outlive what the issuer meant.
    if (typeof payload.iat === 'number' && payload.iat > deps.clock.now() / 1000 + skewSec) return reject('token issued in the future');
    const verdict: AuthnVerdict = { kind: 'authenticated', claims: payload, ...consumerOf(payload) };
    verified.set(token, { verdict, payload, keysVersion });
    return verdict;
  };

  /**
   * A token verified before with the keys still held: only the time claims can have changed, and
   * they are checked as jose checks them (`exp`, `nbf` with the skew) plus our `iat` rule. The
   * answer is synchronous, so the request does not wait a turn of the event loop.
   */
  const fromCache = (token: string): AuthnVerdict | undefined => {
    const hit = verified.get(token);
    if (hit === undefined) return undefined;
    const version = jwks.kind === 'remote' ? deps.jwks.freshVersion(jwks.url, jwks.cacheMs) : hit.keysVersion;
    if (version !== hit.keysVersion) return undefined;
    const nowMs = deps.clock.now();
    const now = Math.floor(nowMs / 1000);
    const { exp, nbf, iat } = hit.payload;
    let problem: string | undefined;
    if (typeof exp === 'number' && exp <= now - skewSec) problem = 'token expired';
    else if (typeof nbf === 'number' && nbf > now + skewSec) problem = 'token not yet valid';
    else if (typeof iat === 'number' && iat > nowMs / 1000 + skewSec) problem = 'token issued in the future';
    if (problem === undefined) return hit.verdict;
    verified.delete(token);
    return reject(problem);
  };

  /**
   * The consumer claim names a Consumer when one declares that subject. Otherwise the token is
   * still valid: the request goes on as `jwt:<value>`, with no groups and no plan. The prefix keeps
   * it apart from Consumers (`namespace/name` never holds a colon), so a token whose `sub` happens
   * to read `default/acme` cannot borrow that Consumer's plan or limits, and per-consumer rate
   * limits and logs still tell subjects apart. A token without the claim has no consumer at all.
   */
  const consumerOf = (payload: JWTPayload): { consumer?: IrConsumer } => {
    const value = payload[method.consumerClaim];
    if (typeof value !== 'string' && typeof value !== 'number') return {};
    const key = String(value);
    return { consumer: consumers.get(key) ?? { name: `jwt:${key}`, groups: [] } };
  };

  return {
    challenge: bearerChallenge(realm),
    authenticate(ctx) {
      const token = tokenOf(ctx);
      if (token === undefined) return ABSENT;
      if (token === '' || /\s/.test(token)) return reject('malformed token');
      return fromCache(token) ?? verify(token);
    },
  };
}

function reject(description: string): AuthnVerdict {
  return { kind: 'rejected', description };
}

/** jose's error → the short reason sent as RFC 6750 `error_description` and in the 401 body. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return 'token not yet valid';
      case 'iss':
        return 'unexpected issuer';
      case 'aud':
        return 'unexpected audience';
      default:
        return `invalid ${error.claim.replace(/[^a-z0-9_]/gi, '')} claim`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid signature';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'no signing key matches the token';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed token';
  if (error instanceof errors.JOSENotSupported) return 'unsupported token';
  return 'invalid token';
}
