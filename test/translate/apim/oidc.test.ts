// AuthPolicy `oidc` → IrOidcMethod: defaults, the two Secrets read, and each problem leaving the
// method out with ERR_POLICY_INVALID and a field path (the policy then fails closed); the CRD schema
// refuses what it can say; /api/config shows neither secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configView } from '../../../src/cli/config-view.js';
import { authnOf, BASE, CART_ROUTE, GATEWAY, route, run, statusOf } from './apim-fixtures.js';

const COOKIE_SECRET = Buffer.alloc(32, 7).toString('base64');

const secret = (name: string, data: Record<string, string>): string => `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
type: Opaque
data: {${Object.entries(data).map(([k, v]) => `${k}: ${v}`).join(', ')}}
`;

const SECRETS = secret('portal-client', { clientSecret: Buffer.from('s3cret').toString('base64') }) + secret('portal-cookie', { cookieSecret: COOKIE_SECRET });

const policy = (oidc: string, extra = ''): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: portal, namespace: default}
spec:
  targetRefs: [${GATEWAY}]
  methods:
    oidc: ${oidc}
${extra}`;

const BASIC_OIDC = '{issuer: "https://idp.test", clientId: portal, clientSecretRef: {name: portal-client}, cookieSecretRef: {name: portal-cookie}}';
const CONSUMER = `---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: alice, namespace: default}
spec: {groups: [staff], jwtSubjects: [alice]}
`;

test('oidc defaults: callback and logout paths, openid scope, cookie name, 8 h sessions, client_secret_basic; secrets read; Consumers by subject', () => {
  const { ir, diagnostics } = run(BASE + SECRETS + CONSUMER + policy(BASIC_OIDC, '  forward: {claims: {email: X-Email}}'));
  assert.deepEqual(diagnostics, []);
  const authn = authnOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authn.methods, [
    {
      kind: 'oidc',
      issuer: 'https://idp.test',
      clientId: 'portal',
      clientSecret: 's3cret',
      tokenEndpointAuth: 'client_secret_basic',
      redirectPath: '/oauth2/callback',
      logoutPath: '/oauth2/logout',
      scopes: ['openid'],
      cookieName: 'isthmus_session',
      sessionTtlMs: 8 * 3_600_000,
      cookieSecret: COOKIE_SECRET,
      discoveryCacheMs: 3_600_000,
      clockSkewSec: 60,
      consumerClaim: 'sub',
      consumers: { alice: { name: 'default/alice', groups: ['staff'] } },
    },
  ]);
  assert.deepEqual(authn.forward, { claims: { email: 'x-email' } }, 'claims are forwarded from the ID token');
});

test('oidc options: scopes keep openid first, paths, cookie name, lifetime, post auth, post-logout URI; loopback http issuers pass', () => {
  const { ir, diagnostics } = run(BASE + SECRETS + policy(`{issuer: "http://127.0.0.1:8080", clientId: portal, clientSecretRef: {name: portal-client}, cookieSecretRef: {name: portal-cookie},
      scopes: [email, openid, groups], redirectPath: /auth/cb, logoutPath: /auth/out, cookieName: __Host-portal, sessionLifetime: 30m, clockSkew: 5s,
      tokenEndpointAuthMethod: client_secret_post, postLogoutRedirectUri: "https://portal.test/bye", consumerClaim: email}`));
  assert.deepEqual(diagnostics, []);
  const m = authnOf(route(ir, 'public', CART_ROUTE))!.methods[0]!;
  assert.ok(m.kind === 'oidc');
  assert.deepEqual(
    [m.issuer, m.scopes, m.redirectPath, m.logoutPath, m.cookieName, m.sessionTtlMs, m.clockSkewSec, m.tokenEndpointAuth, m.postLogoutRedirectUri, m.consumerClaim],
    ['http://127.0.0.1:8080', ['openid', 'email', 'groups'], '/auth/cb', '/auth/out', '__Host-portal', 1_800_000, 5, 'client_secret_post', 'https://portal.test/bye', 'email'],
  );
});

test('oidc problems leave the method out with a field path; the policy fails closed and is Invalid', () => {
  const cases: [string, string, string, RegExp][] = [
    ['no client Secret', '', BASIC_OIDC, /clientSecretRef: Secret "portal-client" not found in namespace "default"/],
    ['no clientSecret key', secret('portal-client', { other: 'eA==' }) + secret('portal-cookie', { cookieSecret: COOKIE_SECRET }), BASIC_OIDC, /clientSecretRef: Secret "portal-client" has no "clientSecret" key \(keys: other\)/],
    ['short cookie secret', secret('portal-client', { clientSecret: 'eA==' }) + secret('portal-cookie', { cookieSecret: Buffer.alloc(16).toString('base64') }), BASIC_OIDC, /cookieSecretRef: .*expected at least 32 bytes, found 16/],
    ['http issuer off loopback', SECRETS, BASIC_OIDC.replace('https://idp.test', 'http://idp.test'), /issuer: expected an https URL \(or http on a loopback host\), found "http:\/\/idp.test"/],
    ['same paths', SECRETS, BASIC_OIDC.replace('}}', '}, redirectPath: /x, logoutPath: /x}'), /logoutPath: expected a path other than redirectPath/],
    ['a lifetime below 1m', SECRETS, BASIC_OIDC.replace('}}', '}, sessionLifetime: 30s}'), /sessionLifetime: expected a duration of at least 1m/],
  ];
  for (const [what, secrets, oidc, message] of cases) {
    const { ir, diagnostics, statuses } = run(BASE + secrets + policy(oidc));
    const authn = authnOf(route(ir, 'public', CART_ROUTE))!;
    assert.deepEqual(authn.methods, [], what);
    assert.equal(authn.missing, 'deny', what);
    assert.equal(diagnostics.length, 1, `${what}: ${JSON.stringify(diagnostics)}`);
    assert.equal(diagnostics[0]!.code, 'ERR_POLICY_INVALID');
    assert.match(`${diagnostics[0]!.path}: ${diagnostics[0]!.message}`, message, what);
    assert.match(diagnostics[0]!.message, /the oidc method is left out/);
    assert.deepEqual(statusOf(statuses, 'AuthPolicy', 'portal').status.ancestors[0]!.conditions.map((c) => [c.status, c.reason]), [['False', 'Invalid']], what);
  }
});

test('the CRD schema refuses an oidc method without its secrets, an unknown field, a bad cookie name or a relative redirect path', () => {
  for (const [oidc, field] of [
    ['{issuer: "https://idp.test", clientId: portal, clientSecretRef: {name: portal-client}}', 'cookieSecretRef'],
    [BASIC_OIDC.replace('}}', '}, clientSecret: plain}'), 'clientSecret'],
    [BASIC_OIDC.replace('}}', '}, cookieName: "a b"}'), 'cookieName'],
    [BASIC_OIDC.replace('}}', '}, redirectPath: callback}'), 'redirectPath'],
  ] as const) {
    const { load, ir } = run(BASE + SECRETS + policy(oidc));
    assert.ok(load.some((l) => l.includes(field)), `${field}: ${load.join('\n')}`);
    assert.equal(authnOf(route(ir, 'public', CART_ROUTE)), undefined, 'the object is not loaded at all');
  }
});

test('/api/config redacts the client secret and the cookie key', () => {
  const { ir } = run(BASE + SECRETS + policy(BASIC_OIDC));
  const shown = JSON.stringify(configView(ir));
  assert.ok(!shown.includes('s3cret') && !shown.includes(COOKIE_SECRET), shown);
  assert.ok(shown.includes('"clientSecret":"[redacted]"') && shown.includes('"cookieSecret":"[redacted]"'));
});
