// A real OpenID Connect provider for tests: panva's `oidc-provider` (the certified implementation)
// on a free 127.0.0.1 port, issuer `http://127.0.0.1:PORT`, plain HTTP (loopback only, no proxy in
// front, so no `proxy` setting: the issuer and every endpoint it advertises are what the socket
// sees). It serves client_credentials clients only: the token endpoint issues JWT access tokens
// (RFC 9068) for the resource servers given (RFC 8707 resource indicators), signed RS256 with the
// provider's own key set, which it publishes at its `jwks_uri`. `rotateKeys()` restarts it on the
// same port with a new signing key (the old one still published), as an issuer rotates its keys.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';

export interface OidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The scopes the client may ask for (space-separated). */
  readonly scope: string;
}

export interface OidcResource {
  /** The resource indicator (an absolute URI); it becomes the token's `aud`. */
  readonly indicator: string;
  /** The scopes this resource server knows (space-separated). */
  readonly scope: string;
}

export interface OidcProviderOptions {
  readonly clients: readonly OidcClient[];
  readonly resources: readonly OidcResource[];
  /** Lifetime of the access tokens; default 300 s. */
  readonly accessTokenTtlSec?: number;
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** An RSA signing key as a private JWK with a fresh `kid`. */
function newSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: `isthmus-test-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' };
}

export class OidcTestProvider {
  #server: http.Server | undefined;
  /** Signing keys, the one in use first. */
  #keys: JWK[] = [newSigningKey()];
  #jwksFetches = 0;

  private constructor(
    readonly port: number,
    readonly options: OidcProviderOptions,
  ) {}

  /** Listens on a port the OS picks; resolves once the provider answers. */
  static async start(options: OidcProviderOptions): Promise<OidcTestProvider> {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const provider = new OidcTestProvider(port, options);
    await provider.#listen();
    return provider;
  }

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The `kid` tokens are signed with now. */
  get signingKid(): string {
    return this.#keys[0]!.kid!;
  }

  /** GETs of the key set served so far (across restarts): how often a verifier fetched the keys. */
  get jwksFetches(): number {
    return this.#jwksFetches;
  }

  /** The discovery document (`/.well-known/openid-configuration`), as the provider serves it. */
  async discovery(): Promise<{ issuer: string; token_endpoint: string; jwks_uri: string } & Record<string, unknown>> {
    const res = await request('GET', `${this.issuer}/.well-known/openid-configuration`, {});
    if (res.status !== 200) throw new Error(`discovery answered ${res.status}`);
    return res.body as { issuer: string; token_endpoint: string; jwks_uri: string };
  }

  /** A client_credentials token request (RFC 6749 §4.4) with client_secret_basic and one resource indicator. */
  async clientCredentialsToken(client: OidcClient, resource: string, scope?: string): Promise<TokenResponse> {
    const { token_endpoint } = await this.discovery();
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource, ...(scope === undefined ? {} : { scope }) });
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic.
    const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    return await request('POST', token_endpoint, { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
  }

  /**
   * Key rotation: a new signing key, the previous one still published (tokens it signed stay
   * valid), and the provider restarted on the same port with the new set. Returns the new `kid`.
   */
  async rotateKeys(): Promise<string> {
    this.#keys = [newSigningKey(), this.#keys[0]!];
    await this.close();
    await this.#listen();
    return this.signingKid;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #configuration(): Configuration {
    const { clients, resources, accessTokenTtlSec = 300 } = this.options;
    const byIndicator = new Map(resources.map((r) => [r.indicator, r]));
    return {
      clients: clients.map(
        (c): ClientMetadata => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: c.scope,
        }),
      ),
      ttl: { ClientCredentials: accessTokenTtlSec },
      // Scopes beyond openid/offline_access must be declared before a client may hold them.
      scopes: [...new Set(resources.flatMap((r) => r.scope.split(' ')))],
      jwks: { keys: this.#keys },
      // Cookies sign interaction sessions, which a client_credentials-only provider never opens;
      // keys are set anyway so that it does not warn about its development defaults.
      cookies: { keys: [randomUUID()] },
      features: {
        // The built-in login pages are for development; no end-user logs in here.
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        revocation: { enabled: false },
        resourceIndicators: {
          enabled: true,
          // A token request must name its resource: no default audience.
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, indicator) => {
            const known = byIndicator.get(indicator);
            if (known === undefined) throw new errors.InvalidTarget();
            // RFC 9068 JWT access tokens, signed RS256 with the provider's key (jwt.sign picks it from `jwks`).
            return { scope: known.scope, audience: known.indicator, accessTokenTTL: accessTokenTtlSec, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
    };
  }

  async #listen(): Promise<void> {
    const provider = new Provider(this.issuer, this.#configuration());
    const handle = provider.callback();
    const jwksPath = '/jwks';
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === jwksPath) this.#jwksFetches++;
      void handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    // The advertised jwks_uri is the path counted above.
    const { jwks_uri } = await this.discovery();
    if (new URL(jwks_uri).pathname !== jwksPath) throw new Error(`jwks_uri is ${jwks_uri}, expected the path ${jwksPath}`);
  }
}

/** One request with node's HTTP client; the JSON body parsed. */
function request(method: string, url: string, headers: Record<string, string>, body?: string): Promise<TokenResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { accept: 'application/json', ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          reject(new Error(`${method} ${url}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
