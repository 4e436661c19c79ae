// JWT methods of an AuthPolicy (the CRD's CEL rule, inline key sets, defaults) and Istio
// RequestAuthentication (selector against --istio-gateway-labels, missing: allow, below any AuthPolicy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authnOf, authPolicy, BASE, CART_ROUTE, GATEWAY, route, run, SHOP, statusOf } from './apim-fixtures.js';

const jwtPolicy = (jwt: string): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [${GATEWAY}]
  methods:
    jwt: ${jwt}
  forward: {claims: {email: X-Email}}
`;
const RSA_PUBLIC = '{kty: RSA, kid: k1, n: "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", e: AQAB}';

test('jwt defaults: Authorization Bearer, RS256/ES256, 60 s skew, sub; remote JWKS cached; claims forwarded lower-cased', () => {
  const { ir, diagnostics } = run(BASE + jwtPolicy('{issuer: "https://idp.test", jwksUri: "https://idp.test/jwks"}'));
  assert.deepEqual(diagnostics, []);
  const authn = authnOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authn.methods, [{ kind: 'jwt', issuer: 'https://idp.test', audiences: [], algorithms: ['RS256', 'ES256'], jwks: { kind: 'remote', url: 'https://idp.test/jwks', cacheMs: 300_000 }, clockSkewSec: 60, from: { header: { name: 'authorization', prefix: 'Bearer ' } }, consumerClaim: 'sub', consumers: {} }]);
  assert.deepEqual(authn.forward, { claims: { email: 'x-email' } });
  assert.equal(authn.missing, 'deny');
});

test('jwt with both jwksUri and jwks (the CRD\'s CEL rule) is left out; the policy fails closed and reports Invalid', () => {
  const { ir, statuses, diagnostics } = run(BASE + jwtPolicy(`{issuer: i, jwksUri: "https://idp.test/jwks", jwks: {keys: [${RSA_PUBLIC}]}}`));
  const authn = authnOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authn.methods, []);
  assert.equal(authn.missing, 'deny', 'no usable method and no anonymous access: every request gets 401');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_INVALID', 'spec.methods.jwt']]);
  assert.match(diagnostics[0]!.message, /exactly one of jwksUri and jwks, found both/);
  assert.deepEqual(statusOf(statuses, 'AuthPolicy', 'jwt').status.ancestors[0]!.conditions.map((c) => [c.status, c.reason]), [['False', 'Invalid']]);
});

test('an inline key set with a private key member is refused', () => {
  const priv = RSA_PUBLIC.replace('e: AQAB', 'e: AQAB, d: secret');
  const { ir, diagnostics } = run(BASE + jwtPolicy(`{issuer: i, jwks: {keys: [${priv}]}}`));
  assert.deepEqual(authnOf(route(ir, 'public', CART_ROUTE))!.methods, []);
  assert.match(diagnostics[0]!.message, /private key members \(d\)/);
  const ok = run(BASE + jwtPolicy(`{issuer: i, jwks: {keys: [${RSA_PUBLIC}]}, algorithms: [PS256], clockSkew: 5s, fromQuery: token}`));
  const m = authnOf(route(ok.ir, 'public', CART_ROUTE))!.methods[0]!;
  assert.ok(m.kind === 'jwt' && m.jwks.kind === 'inline');
  assert.deepEqual([m.algorithms, m.clockSkewSec, m.from], [['PS256'], 5, { query: 'token' }]);
});

const RA = (selector: string, extra = ''): string => `---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ra, namespace: default}
spec:
  ${selector}
  jwtRules:
    - issuer: https://idp.test
      jwksUri: https://idp.test/jwks
      outputClaimToHeaders: [{header: X-Sub, claim: sub}]
${extra}`;

test('RequestAuthentication selecting this gateway: missing allow, Istio token locations; an AuthPolicy overrides it', () => {
  const { ir, diagnostics } = run(BASE + RA('selector: {matchLabels: {istio: ingressgateway}}') + authPolicy('route', `[${SHOP}]`));
  assert.deepEqual(diagnostics, []);
  const admin = authnOf(route(ir, 'internal', 'httproute/default/admin/rule/0/match/0'))!;
  assert.equal(admin.policy, 'requestauthentication/default/ra');
  assert.equal(admin.missing, 'allow');
  const m = admin.methods[0]!;
  assert.ok(m.kind === 'jwt');
  assert.deepEqual(m.from, { header: { name: 'authorization', prefix: 'Bearer ' }, query: 'access_token' });
  assert.deepEqual(admin.forward, { claims: { sub: 'x-sub' } });
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE))!.policy, 'authpolicy/default/route');
});

test('RequestAuthentication for other workloads is not applied; one without a selector is reported', () => {
  const other = run(BASE + RA('selector: {matchLabels: {app: reviews}}'));
  assert.equal(authnOf(route(other.ir, 'public', CART_ROUTE)), undefined);
  assert.deepEqual(other.diagnostics, []);
  const labelled = run(BASE + RA('selector: {matchLabels: {app: reviews}}'), { istioGatewayLabels: new Map([['app', 'reviews']]) });
  assert.equal(authnOf(route(labelled.ir, 'public', CART_ROUTE))?.policy, 'requestauthentication/default/ra');
  const bare = run(BASE + RA('selector: {matchLabels: {}}'));
  assert.equal(authnOf(route(bare.ir, 'public', CART_ROUTE)), undefined);
  assert.deepEqual(bare.diagnostics.map((d) => [d.code, d.path]), [['ERR_ISTIO_UNSUPPORTED', 'spec.selector']]);
});
