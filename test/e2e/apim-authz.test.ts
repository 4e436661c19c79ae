// Authorization through the real gateway: an AccessPolicy (allow by group, deny a path prefix)
// behind API keys, and an Istio AuthorizationPolicy on a JWT's claims behind an Istio
// RequestAuthentication with an inline key set (tokens signed with jose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { configDir, httpRequest, startEcho, startGateway } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

const ACME = 'authz-acme-4f9a2c7d1e';
const GLOBEX = 'authz-globex-8b3e6f0a5c';
const ISSUER = 'https://idp.authz.test';
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

test('AccessPolicy by group with a DENY path prefix, and an Istio AuthorizationPolicy on JWT claims, end to end', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  const token = (groups: string[]): Promise<string> =>
    new SignJWT({ groups }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(privateKey);

  const route = (name: string, prefix: string): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: ${prefix}}}], backendRefs: [{name: api, port: 80}]}]
`;
  const consumer = (name: string, group: string, key: string): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: ${name}, namespace: default}
spec: {groups: [${group}], apiKeys: [{secretRef: {name: ${name}-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: ${name}-key, namespace: default}
stringData: {sha256: ${sha(key)}}
`;
  const dir = configDir(t, {
    'authz.yaml': `${gatewayAndService(echo.port)}${route('partners', '/partners')}${route('staff', '/staff')}${consumer('acme', 'partners', ACME)}${consumer('globex', 'others', GLOBEX)}---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: partners}]
  methods: {apiKey: {header: x-api-key}}
---
apiVersion: isthmus.dev/v1alpha1
kind: AccessPolicy
metadata: {name: partners-only, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: partners}]
  rules:
    deny: [{paths: ["/partners/internal/*"]}]
    allow: [{groups: [partners]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: idp, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: "${ISSUER}", jwks: '${jwks}'}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: admins, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
    - from: [{source: {requestPrincipals: ["${ISSUER}/*"]}}]
      when: [{key: "request.auth.claims[groups]", values: [admins]}]
`,
  });
  const gw = await startGateway(t, { config: [dir], extraArgs: ['--istio-gateway-labels', 'istio=ingressgateway'] });
  const get = (p: string, headers: Record<string, string> = {}) => httpRequest({ port: gw.httpPort, path: p, headers: { host: 'api.test', ...headers } });

  // AccessPolicy: acme is in the partners group, globex is not.
  const ok = await get('/partners/orders', { 'x-api-key': ACME });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(JSON.parse(ok.body).name, 'api');
  const other = await get('/partners/orders', { 'x-api-key': GLOBEX });
  assert.equal(other.status, 403);
  const body = JSON.parse(other.body) as Record<string, unknown>;
  assert.deepEqual([body.status, body.reason, typeof body.message, body.request_id], [403, 'forbidden', 'string', other.headers['x-request-id']]);
  // The DENY on the path prefix wins over acme's ALLOW; authentication still comes first.
  assert.equal((await get('/partners/internal/keys', { 'x-api-key': ACME })).status, 403);
  assert.equal((await get('/partners/orders')).status, 401);

  // Istio: RequestAuthentication verifies the token, AuthorizationPolicy decides on its claims.
  assert.equal((await get('/staff/report', { authorization: `Bearer ${await token(['admins', 'dev'])}` })).status, 200);
  assert.equal((await get('/staff/report', { authorization: `Bearer ${await token(['dev'])}` })).status, 403);
  assert.equal((await get('/staff/report')).status, 403, 'no token: no principal, no allow rule matches');
  assert.equal((await get('/staff/report', { authorization: 'Bearer not.a.token' })).status, 401);

  const config = (await httpRequest({ port: gw.adminPort, path: '/api/config' })).body;
  assert.match(config, /"kind":"authz"/);
});
