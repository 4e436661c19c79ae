// A real OpenID Provider for browser logins: panva's `oidc-provider` with the authorization code
// flow, its development login and consent pages (any login name, any password), RP-Initiated
// Logout, and one confidential web client. HTTP on 127.0.0.1 (issuer `http://127.0.0.1:PORT`), on a
// port the caller picks, so the gateway's config can name the issuer before the provider (which
// must know the gateway's callback URL) starts. Users' claims: `sub` is the login name, `email`
// `<login>@example.test`, `groups` [`staff`], in the ID token itself (conformIdTokenClaims off).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider, { type Configuration, type JWK } from 'oidc-provider';

export interface LoginClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export class OidcLoginProvider {
  #server: http.Server | undefined;
  /** Token endpoint POSTs served: one per code exchanged (or attempted). */
  tokenRequests = 0;

  private constructor(readonly port: number) {}

  static async start(port: number, client: LoginClient): Promise<OidcLoginProvider> {
    const self = new OidcLoginProvider(port);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key: JWK = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: `login-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' };
    const configuration: Configuration = {
      clients: [
        {
          client_id: client.clientId,
          client_secret: client.clientSecret,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: [client.redirectUri],
          post_logout_redirect_uris: [client.postLogoutRedirectUri],
          token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
        },
      ],
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@example.test`, email_verified: true, groups: ['staff'] }) }),
      claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
      scopes: ['openid', 'email', 'groups'],
      // Claims of the granted scopes go into the ID token, where the gateway reads them.
      conformIdTokenClaims: false,
      jwks: { keys: [key] },
      cookies: { keys: [randomUUID()] },
      pkce: { required: () => true },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, introspection: { enabled: false }, revocation: { enabled: false } },
    };
    const provider = new Provider(self.issuer, configuration);
    const handle = provider.callback();
    const server = http.createServer((req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/token')) self.tokenRequests++;
      void handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    self.#server = server;
    return self;
  }

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
