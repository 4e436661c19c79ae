// AuthPolicy `spec.methods.oidc` → IrOidcMethod: defaults applied, both Secrets read (the client
// secret, and the key material cookies are sealed with), and what the CRD schema cannot say
// checked here. Any problem leaves the method out with ERR_POLICY_INVALID and a field path; the
// policy then fails closed like any policy without a usable method. Pure: no I/O, no clock.
import type { IrConsumer, IrOidcMethod } from '../../ir/apim.js';
import { isSecureOrLoopbackUrl } from '../../core/loopback-url.js';
import type { AuthPolicySpec } from '../../resources/apim-kinds.js';
import type { Secret } from '../../resources/resource.js';
import { readSecretValue } from '../../resources/well-known.js';
import { namespacedKey } from '../../store/resource-index.js';
import { parseDurationMs } from './period.js';

export const OIDC_CLIENT_SECRET_KEY = 'clientSecret';
export const OIDC_COOKIE_SECRET_KEY = 'cookieSecret';
export const DEFAULT_OIDC_REDIRECT_PATH = '/oauth2/callback';
export const DEFAULT_OIDC_LOGOUT_PATH = '/oauth2/logout';
export const DEFAULT_OIDC_COOKIE = 'isthmus_session';
/** A working day: long enough not to interrupt one, short enough that a lost laptop's session ends. */
export const DEFAULT_OIDC_SESSION_LIFETIME = '8h';
/** Discovery documents change rarely; an hour bounds how long a moved endpoint goes unnoticed. */
export const OIDC_DISCOVERY_CACHE_MS = 3_600_000;
export const DEFAULT_OIDC_CLOCK_SKEW_SEC = 60;
/** A key for A256GCM: 256 bits of the secret at least, so HKDF has as much entropy to draw from. */
export const MIN_COOKIE_SECRET_BYTES = 32;

type OidcSpec = NonNullable<NonNullable<AuthPolicySpec['methods']>['oidc']>;

export type OidcResult = { readonly kind: 'ok'; readonly method: IrOidcMethod } | { readonly kind: 'invalid'; readonly path: string; readonly message: string };

export function translateOidcMethod(spec: OidcSpec, namespace: string, secrets: ReadonlyMap<string, Secret>, consumers: Readonly<Record<string, IrConsumer>>): OidcResult {
  const path = 'spec.methods.oidc';
  const invalid = (field: string, message: string): OidcResult => ({ kind: 'invalid', path: `${path}${field}`, message: `${message}; the oidc method is left out` });

  // The client secret goes to the token endpoint named by the issuer's discovery document.
  if (!isSecureOrLoopbackUrl(spec.issuer)) return invalid('.issuer', `expected an https URL (or http on a loopback host), found "${spec.issuer}"`);
  if (spec.postLogoutRedirectUri !== undefined && !/^https?:\/\/[^/]/.test(spec.postLogoutRedirectUri)) return invalid('.postLogoutRedirectUri', `expected an absolute http(s) URL, found "${spec.postLogoutRedirectUri}"`);
  const redirectPath = spec.redirectPath ?? DEFAULT_OIDC_REDIRECT_PATH;
  const logoutPath = spec.logoutPath ?? DEFAULT_OIDC_LOGOUT_PATH;
  if (redirectPath === logoutPath) return invalid('.logoutPath', `expected a path other than redirectPath, found "${logoutPath}" for both`);
  const lifetime = spec.sessionLifetime ?? DEFAULT_OIDC_SESSION_LIFETIME;
  const sessionTtlMs = parseDurationMs(lifetime);
  const skewMs = spec.clockSkew === undefined ? DEFAULT_OIDC_CLOCK_SKEW_SEC * 1000 : parseDurationMs(spec.clockSkew);
  if (skewMs === undefined) return invalid('.clockSkew', `expected a duration such as "60s", found "${spec.clockSkew}"`);
  if (sessionTtlMs === undefined || sessionTtlMs < 60_000) return invalid('.sessionLifetime', `expected a duration of at least 1m such as "8h", found "${lifetime}"`);

  const read = (field: string, name: string, key: string): Buffer | OidcResult => {
    const secret = secrets.get(namespacedKey(namespace, name));
    if (secret === undefined) return invalid(field, `Secret "${name}" not found in namespace "${namespace}"`);
    const value = readSecretValue(secret, key);
    if (value === undefined || value.length === 0) return invalid(field, `Secret "${name}" has no "${key}" key (keys: ${Object.keys({ ...secret.data, ...secret.stringData }).sort().join(', ') || 'none'})`);
    return value;
  };
  const clientSecret = read('.clientSecretRef', spec.clientSecretRef.name, OIDC_CLIENT_SECRET_KEY);
  if (!Buffer.isBuffer(clientSecret)) return clientSecret;
  const cookieSecret = read('.cookieSecretRef', spec.cookieSecretRef.name, OIDC_COOKIE_SECRET_KEY);
  if (!Buffer.isBuffer(cookieSecret)) return cookieSecret;
  if (cookieSecret.length < MIN_COOKIE_SECRET_BYTES) return invalid('.cookieSecretRef', `Secret "${spec.cookieSecretRef.name}" "${OIDC_COOKIE_SECRET_KEY}": expected at least ${MIN_COOKIE_SECRET_BYTES} bytes, found ${cookieSecret.length} (e.g. openssl rand -base64 32)`);

  // OIDC Core §3.1.2.1: `openid` must be among the scopes, or the provider does plain OAuth 2.0.
  const scopes = [...new Set(['openid', ...(spec.scopes ?? [])])];
  return {
    kind: 'ok',
    method: {
      kind: 'oidc',
      issuer: spec.issuer,
      clientId: spec.clientId,
      clientSecret: clientSecret.toString('utf8'),
      tokenEndpointAuth: spec.tokenEndpointAuthMethod ?? 'client_secret_basic',
      redirectPath,
      logoutPath,
      ...(spec.postLogoutRedirectUri !== undefined ? { postLogoutRedirectUri: spec.postLogoutRedirectUri } : {}),
      scopes,
      cookieName: spec.cookieName ?? DEFAULT_OIDC_COOKIE,
      sessionTtlMs,
      cookieSecret: cookieSecret.toString('base64'),
      discoveryCacheMs: OIDC_DISCOVERY_CACHE_MS,
      clockSkewSec: Math.floor(skewMs / 1000),
      consumerClaim: spec.consumerClaim ?? 'sub',
      consumers,
    },
  };
}
