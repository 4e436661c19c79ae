// Precedence of API management policies on a route (src/translate/apim/precedence.ts): the most
// specific attachment wins (rule > route > listener > Gateway > workload), and at one level the
// oldest policy wins while the others are Conflicted, with a diagnostic and a status condition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_ROUTE, authnOf, authPolicy, BASE, CART_ROUTE, CATALOG_ROUTE, GATEWAY, rateLimitsOf, route, run, SHOP, statusOf } from './apim-fixtures.js';

const policyOn = (listener: string, name: string, yaml: string): string | undefined => authnOf(route(run(yaml).ir, listener, name))?.policy;

test('a Gateway-level AuthPolicy covers every route on every listener of the Gateway', () => {
  const yaml = BASE + authPolicy('gw-wide', `[${GATEWAY}]`);
  const { ir, diagnostics } = run(yaml);
  assert.deepEqual(diagnostics, []);
  for (const [l, r] of [['public', CART_ROUTE], ['public', CATALOG_ROUTE], ['internal', CART_ROUTE], ['internal', ADMIN_ROUTE]] as const) {
    assert.equal(authnOf(route(ir, l, r))?.policy, 'authpolicy/default/gw-wide', `${l} ${r}`);
  }
});

test('listener (sectionName) over Gateway; route over listener; rule (sectionName) over route', () => {
  const yaml =
    BASE +
    authPolicy('a-gateway', `[${GATEWAY}]`) +
    authPolicy('b-listener', '[{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: internal}]') +
    authPolicy('c-route', `[${SHOP}]`) +
    authPolicy('d-rule', '[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: catalog}]');
  // The newest policies are the most specific: age never beats specificity.
  const { ir, diagnostics } = run(yaml);
  assert.deepEqual(diagnostics, []);
  assert.equal(authnOf(route(ir, 'internal', ADMIN_ROUTE))?.policy, 'authpolicy/default/b-listener');
  assert.equal(authnOf(route(ir, 'internal', CART_ROUTE))?.policy, 'authpolicy/default/c-route');
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE))?.policy, 'authpolicy/default/c-route');
  assert.equal(authnOf(route(ir, 'public', CATALOG_ROUTE))?.policy, 'authpolicy/default/d-rule');
  assert.equal(authnOf(route(ir, 'internal', CATALOG_ROUTE))?.policy, 'authpolicy/default/d-rule');
});

test('less specific policies are overridden, not conflicted: no diagnostic, Accepted on the routes they keep', () => {
  const { statuses, diagnostics } = run(BASE + authPolicy('a-gateway', `[${GATEWAY}]`, '', '2024-01-01T00:00:00Z') + authPolicy('c-route', `[${SHOP}]`, '', '2025-01-01T00:00:00Z'));
  assert.deepEqual(diagnostics, []);
  const gw = statusOf(statuses, 'AuthPolicy', 'a-gateway').status.ancestors;
  assert.equal(gw.length, 1);
  assert.equal(gw[0]!.conditions[0]!.status, 'True');
  assert.match(gw[0]!.conditions[0]!.message, /applies to 1 route/); // only the admin route is left to it
});

test('two policies at the same level: the older wins; the younger is Conflicted (status + ERR_POLICY_CONFLICTED)', () => {
  const yaml = BASE + authPolicy('young', `[${SHOP}]`, '', '2025-06-01T00:00:00Z') + authPolicy('old', `[${SHOP}]`, '', '2024-06-01T00:00:00Z');
  const { ir, statuses, diagnostics } = run(yaml);
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE))?.policy, 'authpolicy/default/old');
  assert.equal(authnOf(route(ir, 'public', CATALOG_ROUTE))?.policy, 'authpolicy/default/old');
  const conflicted = diagnostics.filter((d) => d.code === 'ERR_POLICY_CONFLICTED');
  assert.equal(conflicted.length, 1);
  assert.equal(conflicted[0]!.object?.name, 'young');
  assert.equal(conflicted[0]!.path, 'spec.targetRefs[0]');
  assert.match(conflicted[0]!.message, /governed by the older AuthPolicy default\/old/);
  const young = statusOf(statuses, 'AuthPolicy', 'young').status.ancestors;
  assert.deepEqual(young.map((a) => [a.ancestorRef.kind, a.ancestorRef.name, a.controllerName]), [['Gateway', 'gw', 'isthmus.dev/gateway-controller']]);
  assert.deepEqual(young[0]!.conditions.map((c) => [c.type, c.status, c.reason]), [['Accepted', 'False', 'Conflicted']]);
  assert.deepEqual(statusOf(statuses, 'AuthPolicy', 'old').status.ancestors[0]!.conditions.map((c) => c.reason), ['Accepted']);
});

test('same creation time: namespace/name decides; no timestamp counts as newest', () => {
  const same = BASE + authPolicy('zeta', `[${SHOP}]`, '', '2024-01-01T00:00:00Z') + authPolicy('alpha', `[${SHOP}]`, '', '2024-01-01T00:00:00Z');
  assert.equal(policyOn('public', CART_ROUTE, same), 'authpolicy/default/alpha');
  const undated = BASE + authPolicy('aaa', `[${SHOP}]`).replace(', creationTimestamp: "2024-01-01T00:00:00Z"', '') + authPolicy('zzz', `[${SHOP}]`, '', '2030-01-01T00:00:00Z');
  assert.equal(policyOn('public', CART_ROUTE, undated), 'authpolicy/default/zzz');
});

test('a policy targeting both a route and one of its rules counts at its most specific attachment, without conflicting with itself', () => {
  const yaml = BASE + authPolicy('both', `[${SHOP}, {group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: cart}]`) + authPolicy('route-only', `[${SHOP}]`, '', '2020-01-01T00:00:00Z');
  const { ir, diagnostics } = run(yaml);
  // On the cart rule, "both" is at rule level and beats the older route-level policy.
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE))?.policy, 'authpolicy/default/both');
  // On catalog both are at route level: the older one wins, and "both" is Conflicted there.
  assert.equal(authnOf(route(ir, 'public', CATALOG_ROUTE))?.policy, 'authpolicy/default/route-only');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name]), [['ERR_POLICY_CONFLICTED', 'both']]);
});

test('RateLimitPolicy follows the same rules, independently of AuthPolicy', () => {
  const rl = (name: string, targets: string, created: string, requests: number): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  targetRefs: ${targets}
  limits: [{requests: ${requests}, period: 1m}]
`;
  const yaml = BASE + rl('gateway', `[${GATEWAY}]`, '2024-01-01T00:00:00Z', 100) + rl('route', `[${SHOP}]`, '2025-01-01T00:00:00Z', 10);
  const { ir } = run(yaml);
  assert.equal(rateLimitsOf(route(ir, 'public', CART_ROUTE))?.limits[0]?.requests, 10);
  assert.equal(rateLimitsOf(route(ir, 'internal', ADMIN_ROUTE))?.limits[0]?.requests, 100);
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE)), undefined, 'no AuthPolicy: no authn filter');
  assert.deepEqual(rateLimitsOf(route(ir, 'public', CART_ROUTE))?.limits[0]?.key, { kind: 'route' }, 'by defaults to route');
});

test('filters are appended after the route\'s own, and a route no policy covers is left as it was', () => {
  const yaml = BASE.replace('      backendRefs: [{name: web, port: 80}]\n    - name: catalog', '      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-a, value: b}]}}]\n      backendRefs: [{name: web, port: 80}]\n    - name: catalog') + authPolicy('rule', '[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: cart}]');
  const plain = run(BASE);
  const { ir } = run(yaml);
  assert.deepEqual(route(ir, 'public', CART_ROUTE).filters.map((f) => f.kind), ['request-header-modifier', 'authn']);
  assert.deepEqual(route(ir, 'public', CATALOG_ROUTE), route(plain.ir, 'public', CATALOG_ROUTE));
});
