// JWT authentication against a real OpenID Connect provider (oidc-provider, test/support), through
// the real gateway: the AuthPolicy's jwt method names the provider's issuer, an audience (a
// resource indicator) and the provider's own jwks_uri; tokens come from the provider's token
// endpoint by a real client_credentials POST. Then the provider rotates its signing key (restarted
// on the same port with a new key first in its JWKS) and a token with the new kid is accepted after
// one refetch of the key set. Everything talks over 127.0.0.1 only. The test lasts the gateway's
// start-up plus about 10.5 s: the JWKS cache's cooldown between two fetches of one URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, httpRequest, serviceYaml, sleep, startEcho, startGateway } from './cli-harness.js';
import { OidcTestProvider, type OidcClient } from '../support/oidc-provider.js';

const HOST = 'api.oidc.localhost';
const ORDERS = 'https://orders.isthmus.test';
const BILLING = 'https://billing.isthmus.test';
const PARTNER: OidcClient = { clientId: 'orders-partner-client', clientSecret: 'partner-secret-5mQ2xR8vT1', scope: 'orders:read billing:read' };
// A client no Consumer declares: still a valid token, its consumer is `jwt:<sub>`.
const REPORTING: OidcClient = { clientId: 'reporting-client', clientSecret: 'reporting-secret-9kLw3Zp7', scope: 'orders:read' };
/** The JWKS cache refetches for an unknown kid at most once per 10 s per URL (jwks-cache.ts). */
const REFETCH_COOLDOWN_MS = 10_000;

interface Echo {
  name: string;
  headers: Record<string, string[]>;
}

function header(echo: Echo, name: string): string[] | undefined {
  const found = Object.entries(echo.headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function kidOf(token: string): unknown {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>).kid;
}

test('AuthPolicy jwt against a real OpenID Connect provider: client_credentials tokens, audience, tampering, key rotation', { timeout: 30_000 }, async (t) => {
  const idp = await OidcTestProvider.start({
    clients: [PARTNER, REPORTING],
    resources: [
      { indicator: ORDERS, scope: 'orders:read' },
      { indicator: BILLING, scope: 'billing:read' },
    ],
  });
  t.after(() => idp.close());
  const discovery = await idp.discovery();
  assert.equal(discovery.issuer, idp.issuer);
  assert.equal(discovery.jwks_uri, `${idp.issuer}/jwks`);

  const backend = await startEcho(t, '127.0.0.1', 'orders');
  const dir = configDir(t, {
    'gateway.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: api-gw, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: ${HOST}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orders, namespace: default}
spec:
  parentRefs: [{name: api-gw}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /orders}}]
      backendRefs: [{name: orders, port: 80}]
`,
    'backend.yaml': serviceYaml(backend),
    'auth.yaml': `apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: orders-oidc, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: api-gw}]
  methods:
    jwt:
      issuer: ${idp.issuer}
      audiences: [${ORDERS}]
      jwksUri: ${discovery.jwks_uri}
  realm: orders
  forward:
    consumerHeader: x-consumer
    groupsHeader: x-consumer-groups
    claims: {scope: x-token-scope, client_id: x-client-id}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: orders-partner, namespace: default}
spec:
  groups: [partners]
  jwtSubjects: [${PARTNER.clientId}]
`,
  });
  const gw = await startGateway(t, { config: [dir] });
  const call = (authorization?: string, extra: Record<string, string> = {}) =>
    httpRequest({ port: gw.httpPort, path: '/orders/42', headers: { host: HOST, ...extra, ...(authorization === undefined ? {} : { authorization }) } });
  const tokenFor = async (client: OidcClient, resource: string, scope?: string): Promise<string> => {
    const res = await idp.clientCredentialsToken(client, resource, scope);
    assert.equal(res.status, 200, `token endpoint: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.token_type, 'Bearer');
    return String(res.body.access_token);
  };

  // A token from the provider's token endpoint (client_secret_basic, resource=orders): an RFC 9068
  // JWT whose sub is the client_id (client_credentials has no end-user).
  const token = await tokenFor(PARTNER, ORDERS, 'orders:read');
  const claims = payloadOf(token);
  assert.equal(claims.iss, idp.issuer);
  assert.equal(claims.aud, ORDERS);
  assert.equal(claims.sub, PARTNER.clientId);
  assert.equal(claims.client_id, PARTNER.clientId);
  assert.equal(kidOf(token), idp.signingKid);
  assert.equal(idp.jwksFetches, 0, 'the gateway fetches the keys on first use, not before');

  // Accepted: the consumer, its groups and the forwarded claims reach the backend; the client's
  // own x-consumer is replaced, not believed.
  const firstUse = performance.now();
  const ok = await call(`Bearer ${token}`, { 'x-consumer': 'default/admin' });
  assert.equal(ok.status, 200, ok.body);
  const echo = JSON.parse(ok.body) as Echo;
  assert.equal(echo.name, 'orders');
  assert.deepEqual(header(echo, 'x-consumer'), ['default/orders-partner']);
  assert.deepEqual(header(echo, 'x-consumer-groups'), ['partners']);
  assert.deepEqual(header(echo, 'x-token-scope'), ['orders:read']);
  assert.deepEqual(header(echo, 'x-client-id'), [PARTNER.clientId]);
  assert.deepEqual(header(echo, 'authorization'), [`Bearer ${token}`], 'the token goes upstream untouched');
  assert.equal(idp.jwksFetches, 1, 'one JWKS fetch from the provider');
  // Cached: a second request does not fetch again.
  assert.equal((await call(`Bearer ${token}`)).status, 200);

  // A valid token of a client no Consumer names: accepted, consumer jwt:<sub>, no groups.
  const reporting = JSON.parse((await call(`Bearer ${await tokenFor(REPORTING, ORDERS)}`)).body) as Echo;
  assert.deepEqual(header(reporting, 'x-consumer'), [`jwt:${REPORTING.clientId}`]);
  assert.equal(header(reporting, 'x-consumer-groups'), undefined);

  const refused = (res: { status: number; headers: Record<string, unknown>; body: string }, description: string) => {
    assert.equal(res.status, 401, res.body);
    assert.equal(res.headers['www-authenticate'], `Bearer realm="orders", error="invalid_token", error_description="${description}"`);
    assert.equal(JSON.parse(res.body).message, description);
  };

  // Same provider, same key, same client, but issued for the billing resource: wrong audience.
  const billing = await tokenFor(PARTNER, BILLING, 'billing:read');
  assert.equal(payloadOf(billing).aud, BILLING);
  refused(await call(`Bearer ${billing}`), 'unexpected audience');

  // Tampered: the payload says another subject, the provider's signature is kept.
  const [head, , signature] = token.split('.') as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
  refused(await call(`Bearer ${head}.${forged}.${signature}`), 'invalid signature');
  // The billing token's signature under the orders token's payload: valid signature, wrong token.
  refused(await call(`Bearer ${head}.${token.split('.')[1]!}.${billing.split('.')[2]!}`), 'invalid signature');

  // No token: 401, a challenge without an error code (RFC 6750 §3.1).
  const none = await call();
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="orders"');
  assert.equal(JSON.parse(none.body).message, 'missing credentials');
  assert.equal(idp.jwksFetches, 1, 'refusals cost no JWKS fetch');

  // Key rotation: the provider restarts on the same port and signs with a new key (the old one
  // still published). The gateway still holds the old set; the new kid is unknown to it, so it
  // refetches once, which the cache allows once its 10 s cooldown since the first fetch is over.
  const oldKid = idp.signingKid;
  const newKid = await idp.rotateKeys();
  assert.notEqual(newKid, oldKid);
  const rotated = await tokenFor(PARTNER, ORDERS, 'orders:read');
  assert.equal(kidOf(rotated), newKid);
  const wait = firstUse + REFETCH_COOLDOWN_MS + 500 - performance.now();
  if (wait > 0) await sleep(wait);
  const afterRotation = await call(`Bearer ${rotated}`);
  assert.equal(afterRotation.status, 200, afterRotation.body);
  assert.deepEqual(header(JSON.parse(afterRotation.body) as Echo, 'x-consumer'), ['default/orders-partner']);
  assert.equal(idp.jwksFetches, 2, 'exactly one refetch for the new kid');
  // Both keys now verify, with no further fetch: the old token (old kid, still published) and the new one.
  assert.equal((await call(`Bearer ${token}`)).status, 200);
  assert.equal((await call(`Bearer ${rotated}`)).status, 200);
  assert.equal(idp.jwksFetches, 2);
});
