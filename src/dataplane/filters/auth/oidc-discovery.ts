// OpenID Provider metadata (OpenID Connect Discovery 1.0 §4), fetched from
// `${issuer}/.well-known/openid-configuration` and kept per issuer for the whole process, as the
// JWKS cache keeps key sets: a config reload neither refetches nor forgets it, concurrent logins
// share one fetch, a failed refetch keeps the document already held, and failures are retried at
// most once per cooldown rather than once per request.
//
// The document names the endpoints the gateway sends the client secret and the user to, so it is
// checked before use: its `issuer` must be the configured one exactly (Discovery §4.3, against a
// provider impersonating another), and every endpoint must be https, or http on a loopback host
// (the client secret crosses the token endpoint; plain HTTP over a network would give it away).
import type { Clock } from '../../../core/clock.js';
import { RemoteDocuments } from './remote-documents.js';
import { isLoopbackUrl } from '../../../core/loopback-url.js';

export interface OidcProviderMetadata {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  /** RP-Initiated Logout 1.0 §2.1; absent when the provider has none. */
  readonly endSessionEndpoint?: string;
  /** `id_token_signing_alg_values_supported`, asymmetric ones only; RS256 when the provider says nothing (Discovery §3). */
  readonly idTokenAlgorithms: readonly string[];
}

export type OidcDiscoveryLookup = { readonly kind: 'ok'; readonly metadata: OidcProviderMetadata } | { readonly kind: 'unavailable'; readonly reason: string };

export interface OidcDiscoveryOptions {
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly retryCooldownMs?: number;
  readonly maxBytes?: number;
}

const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

export class OidcDiscoveryCache {
  readonly #documents: RemoteDocuments<OidcProviderMetadata>;

  constructor(options: OidcDiscoveryOptions) {
    const timeoutMs = options.timeoutMs ?? 5000;
    const maxBytes = options.maxBytes ?? 256 * 1024;
    this.#documents = new RemoteDocuments(options.clock, options.retryCooldownMs ?? 10_000, (issuer) => fetchMetadata(issuer, timeoutMs, maxBytes));
  }

  /** The issuer's metadata, fetched when absent or older than `cacheMs`. */
  async metadata(issuer: string, cacheMs: number): Promise<OidcDiscoveryLookup> {
    const document = await this.#documents.get(issuer, cacheMs);
    if (document.value !== undefined) return { kind: 'ok', metadata: document.value };
    return { kind: 'unavailable', reason: document.lastError ?? 'provider metadata not fetched yet' };
  }

  /** Drops the issuers no oidc method uses any more. */
  retain(issuers: Iterable<string>): void {
    this.#documents.retain(issuers);
  }

  /** Fetches started so far (for tests and a metric). */
  get fetchCount(): number {
    return this.#documents.fetchCount;
  }
}

/** `${issuer}/.well-known/openid-configuration` (Discovery §4.1: the issuer's trailing slash removed first). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

async function fetchMetadata(issuer: string, timeoutMs: number, maxBytes: number): Promise<OidcProviderMetadata | string> {
  const url = discoveryUrl(issuer);
  let text: string;
  try {
    // No redirects: the document must come from the issuer's own well-known URL.
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return `discovery ${url} answered ${res.status}`;
    }
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    return `discovery ${url} could not be fetched: ${e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message)}`;
  }
  if (Buffer.byteLength(text) > maxBytes) return `discovery ${url} is larger than ${maxBytes} bytes`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `discovery ${url} is not JSON`;
  }
  return parseProviderMetadata(json, issuer);
}

/** The parts of a discovery document the login flow uses, checked; a string says what is wrong. */
export function parseProviderMetadata(json: unknown, issuer: string): OidcProviderMetadata | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'discovery document is not a JSON object';
  const doc = json as Record<string, unknown>;
  if (doc.issuer !== issuer) return `discovery document names issuer ${JSON.stringify(doc.issuer)}, expected ${JSON.stringify(issuer)}`;
  const endpoint = (name: string, required: boolean): string | undefined | Error => {
    const value = doc[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') return new Error(`discovery document has no ${name}`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return new Error(`discovery ${name} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url))) return new Error(`discovery ${name} ${value} is neither https nor http on a loopback address`);
    return value;
  };
  const authorization = endpoint('authorization_endpoint', true);
  const token = endpoint('token_endpoint', true);
  const jwks = endpoint('jwks_uri', true);
  const endSession = endpoint('end_session_endpoint', false);
  for (const e of [authorization, token, jwks, endSession]) if (e instanceof Error) return e.message;
  const listed = Array.isArray(doc.id_token_signing_alg_values_supported) ? doc.id_token_signing_alg_values_supported.filter((a): a is string => typeof a === 'string' && ASYMMETRIC.has(a)) : [];
  return {
    issuer,
    authorizationEndpoint: authorization as string,
    tokenEndpoint: token as string,
    jwksUri: jwks as string,
    ...(typeof endSession === 'string' ? { endSessionEndpoint: endSession } : {}),
    idTokenAlgorithms: listed.length > 0 ? listed : ['RS256'],
  };
}
