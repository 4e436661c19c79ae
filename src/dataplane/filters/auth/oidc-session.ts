// What the oidc method keeps in the browser, sealed: the session (the ID token's verified claims,
// the raw ID token for the logout's id_token_hint, an expiry) and, during a login, the state,
// nonce, PKCE verifier and the URL to return to. Sealed means encrypted and authenticated: a JWE
// (RFC 7516) with `dir` and A256GCM, so the browser can neither read the claims nor change one
// bit without the whole cookie being refused, and the gateway keeps no session store (any replica
// opens any cookie; a restart logs no one out). oauth2-proxy and Envoy's OAuth2 filter do the same.
//
// Keys: HKDF-SHA256 (RFC 5869) of the configured secret, salted with the issuer and client id, with
// one `info` per purpose: a login-state cookie can never be passed off as a session, and two
// policies sharing a secret still cannot open each other's cookies. Rotating the secret logs
// everyone out (their cookies no longer open), which is what rotating it is for.
import { hkdfSync } from 'node:crypto';
import { EncryptJWT, errors, jwtDecrypt, type JWTPayload } from 'jose';

export interface OidcSession {
  /** The ID token's payload as verified at login. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The raw ID token, for `id_token_hint` at logout; left out when the cookie would be too large. */
  readonly idToken?: string;
  /** Seconds since the epoch. */
  readonly expiresAtSec: number;
}

export interface OidcLoginState {
  readonly state: string;
  readonly nonce: string;
  /** RFC 7636 code_verifier. */
  readonly verifier: string;
  /** Origin-relative path and query the user asked for (never an absolute URL: no open redirect). */
  readonly returnTo: string;
}

export type Opened<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'expired' } | { readonly kind: 'invalid' };

/** Browsers keep cookies of up to 4096 bytes, name and attributes included (RFC 6265 §6.1). */
export const MAX_COOKIE_VALUE_BYTES = 3800;

const ENCRYPTION = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };

export interface CookieSealer {
  sealSession(session: OidcSession, nowMs: number): Promise<string>;
  openSession(value: string, nowMs: number): Promise<Opened<OidcSession>>;
  sealLogin(login: OidcLoginState, nowMs: number, ttlSec: number): Promise<string>;
  openLogin(value: string, nowMs: number): Promise<Opened<OidcLoginState>>;
}

/** `secret` is the raw key material (at least 32 bytes; the translator checks). */
export function createCookieSealer(secret: Uint8Array, issuer: string, clientId: string): CookieSealer {
  const derive = (purpose: string): Uint8Array => new Uint8Array(hkdfSync('sha256', secret, `${issuer}\n${clientId}`, `isthmus oidc ${purpose} cookie v1`, 32));
  const sessionKey = derive('session');
  const loginKey = derive('login');

  const seal = (payload: JWTPayload, key: Uint8Array, nowMs: number, expSec: number): Promise<string> =>
    new EncryptJWT(payload).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt(Math.floor(nowMs / 1000)).setExpirationTime(expSec).encrypt(key);

  const open = async (value: string, key: Uint8Array, nowMs: number): Promise<Opened<JWTPayload>> => {
    try {
      // No clock tolerance: the gateway set `exp` with its own clock.
      const { payload } = await jwtDecrypt(value, key, { ...ENCRYPTION, currentDate: new Date(nowMs), requiredClaims: ['exp'] });
      return { kind: 'ok', value: payload };
    } catch (error) {
      return error instanceof errors.JWTExpired ? { kind: 'expired' } : { kind: 'invalid' };
    }
  };

  return {
    async sealSession(session, nowMs) {
      const sealed = await seal({ c: session.claims, ...(session.idToken === undefined ? {} : { t: session.idToken }) }, sessionKey, nowMs, session.expiresAtSec);
      // A long ID token must not make the browser drop the cookie silently (a login loop): the
      // hint is optional at logout, so it goes first; then only the claims a gateway uses.
      if (sealed.length <= MAX_COOKIE_VALUE_BYTES) return sealed;
      if (session.idToken !== undefined) return this.sealSession({ claims: session.claims, expiresAtSec: session.expiresAtSec }, nowMs);
      const { iss, sub, aud, exp, iat } = session.claims;
      return seal({ c: { iss, sub, aud, exp, iat } }, sessionKey, nowMs, session.expiresAtSec);
    },
    async openSession(value, nowMs) {
      const opened = await open(value, sessionKey, nowMs);
      if (opened.kind !== 'ok') return opened;
      const { c, t, exp } = opened.value;
      if (typeof c !== 'object' || c === null || Array.isArray(c) || typeof exp !== 'number') return { kind: 'invalid' };
      return { kind: 'ok', value: { claims: c as Record<string, unknown>, ...(typeof t === 'string' ? { idToken: t } : {}), expiresAtSec: exp } };
    },
    sealLogin(login, nowMs, ttlSec) {
      return seal({ s: login.state, n: login.nonce, v: login.verifier, r: login.returnTo }, loginKey, nowMs, Math.floor(nowMs / 1000) + ttlSec);
    },
    async openLogin(value, nowMs) {
      const opened = await open(value, loginKey, nowMs);
      if (opened.kind !== 'ok') return opened;
      const { s, n, v, r } = opened.value;
      if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof r !== 'string') return { kind: 'invalid' };
      return { kind: 'ok', value: { state: s, nonce: n, verifier: v, returnTo: r } };
    },
  };
}
