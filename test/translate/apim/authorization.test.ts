// AccessPolicy (targetRefs, precedence, CIDR validation) and Istio AuthorizationPolicy (selector
// against --istio-gateway-labels, ALLOW/DENY, from × to expansion, when keys, peer identities and
// unsupported actions reported) → the `authz` filter of each route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrAuthz } from '../../../src/ir/apim.js';
import type { IrRoute } from '../../../src/ir/types.js';
import { ADMIN_ROUTE, BASE, CART_ROUTE, CATALOG_ROUTE, GATEWAY, route, run, SHOP, statusOf } from './apim-fixtures.js';

function authzOf(r: IrRoute): IrAuthz | undefined {
  const f = r.filters.find((x) => x.kind === 'authz');
  return f?.kind === 'authz' ? f.authz : undefined;
}

const access = (name: string, targets: string, rules: string, created = '2024-01-01T00:00:00Z'): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: AccessPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  targetRefs: ${targets}
  rules: ${rules}
`;

test('AccessPolicy: rules become IR conditions; allow present → noMatch deny; consumers resolved in the namespace', () => {
  const { ir, diagnostics, statuses } = run(BASE + access('partners', `[${GATEWAY}]`, `
    deny: [{paths: ["/cart/admin/*"], notMethods: [get]}]
    allow:
      - {consumers: [acme, other/globex], groups: [gold], claims: {groups: [admins]}, clientIPs: [10.0.0.0/8, "2001:db8::/32"], headers: {X-Env: [prod]}, notHosts: [Internal.test]}`));
  assert.deepEqual(diagnostics, []);
  const authz = authzOf(route(ir, 'public', CART_ROUTE))!;
  assert.equal(authz.policy, 'accesspolicy/default/partners');
  assert.equal(authz.noMatch, 'deny');
  assert.deepEqual(authz.rules, [
    { name: 'accesspolicy/default/partners/deny/0', action: 'deny', conditions: [{ kind: 'method', values: ['GET'], negate: true }, { kind: 'path', values: ['/cart/admin/*'], negate: false }] },
    {
      name: 'accesspolicy/default/partners/allow/0',
      action: 'allow',
      conditions: [
        { kind: 'consumer', values: ['default/acme', 'other/globex'], negate: false },
        { kind: 'group', values: ['gold'], negate: false },
        { kind: 'claim', path: ['groups'], values: ['admins'], negate: false },
        { kind: 'host', values: ['internal.test'], negate: true },
        { kind: 'header', name: 'x-env', values: ['prod'], negate: false },
        { kind: 'ip', of: 'client', cidrs: ['10.0.0.0/8', '2001:db8::/32'], negate: false },
      ],
    },
  ]);
  assert.deepEqual(statusOf(statuses, 'AccessPolicy', 'partners').status.ancestors[0]!.conditions.map((c) => [c.status, c.reason]), [['True', 'Accepted']]);
  // Only deny rules: everything else is allowed.
  const denyOnly = run(BASE + access('d', `[${SHOP}]`, '{deny: [{paths: ["*.js"]}]}'));
  assert.equal(authzOf(route(denyOnly.ir, 'public', CATALOG_ROUTE))!.noMatch, 'allow');
  assert.equal(authzOf(route(denyOnly.ir, 'internal', ADMIN_ROUTE)), undefined, 'the admin route is not targeted');
});

test('AccessPolicy: the route-level policy wins over the Gateway-level one; same level, the older wins', () => {
  const { ir, diagnostics } = run(BASE + access('gw', `[${GATEWAY}]`, '{allow: [{groups: [a]}]}') + access('shop', `[${SHOP}]`, '{allow: [{groups: [b]}]}') + access('shop2', `[${SHOP}]`, '{allow: [{groups: [c]}]}', '2024-02-01T00:00:00Z'));
  assert.equal(authzOf(route(ir, 'public', CART_ROUTE))!.policy, 'accesspolicy/default/shop');
  assert.equal(authzOf(route(ir, 'internal', ADMIN_ROUTE))!.policy, 'accesspolicy/default/gw');
  assert.deepEqual(diagnostics.map((d) => d.code), ['ERR_POLICY_CONFLICTED']);
});

test('AccessPolicy: a bad CIDR drops an allow rule (allows less) and only the address condition of a deny rule (denies more)', () => {
  const { ir, diagnostics, statuses } = run(BASE + access('bad', `[${GATEWAY}]`, '{deny: [{clientIPs: [10.0.0.0/40], paths: [/x]}], allow: [{clientIPs: [nope]}]}'));
  const authz = authzOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authz.rules, [{ name: 'accesspolicy/default/bad/deny/0', action: 'deny', conditions: [{ kind: 'path', values: ['/x'], negate: false }] }]);
  assert.equal(authz.noMatch, 'deny', 'still an allow list: nothing is allowed');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_INVALID', 'spec.rules.allow[0]'], ['ERR_POLICY_INVALID', 'spec.rules.deny[0]']]);
  assert.equal(statusOf(statuses, 'AccessPolicy', 'bad').status.ancestors[0]!.conditions[0]!.reason, 'Invalid');
});

test('AccessPolicy: the CRD schema refuses unknown fields and an empty allow list', () => {
  const { load } = run(BASE + access('x', `[${GATEWAY}]`, '{allow: [], deny: [{bogus: [1]}]}'));
  assert.ok(load.some((l) => /allow/.test(l)), load.join('\n'));
  assert.ok(load.some((l) => /bogus/.test(l)), load.join('\n'));
});

const AP = (name: string, spec: string, apiVersion = 'security.istio.io/v1'): string => `---
apiVersion: ${apiVersion}
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: istio-system, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
${spec}
`;
const LABELS = { istioGatewayLabels: new Map([['istio', 'ingressgateway']]) };
const SELECT = '  selector: {matchLabels: {istio: ingressgateway}}';

test('Istio AuthorizationPolicy selecting this gateway: DENY and ALLOW on every route, from × to expanded, when keys mapped', () => {
  const { ir, diagnostics } = run(BASE + AP('deny-admin', `${SELECT}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin/*"]}}], from: [{source: {notRemoteIpBlocks: [10.0.0.0/8]}}]}]`) + AP('allow-jwt', `${SELECT}
  rules:
    - from: [{source: {requestPrincipals: ["https://idp/*"]}}, {source: {ipBlocks: ["192.0.2.0/24"]}}]
      to: [{operation: {methods: [GET], hosts: [Public.test]}}]
      when:
        - {key: "request.auth.claims[groups]", values: [admins]}
        - {key: "request.auth.claims[org][tier]", notValues: [free]}
        - {key: "request.headers[X-Env]", values: [prod]}
        - {key: remote.ip, values: ["2001:db8::/32"]}`, 'security.istio.io/v1beta1'), LABELS);
  assert.deepEqual(diagnostics, []);
  for (const [l, r] of [['public', CART_ROUTE], ['internal', ADMIN_ROUTE]] as const) {
    const authz = authzOf(route(ir, l, r))!;
    assert.equal(authz.policy, 'authorizationpolicy/istio-system/allow-jwt,authorizationpolicy/istio-system/deny-admin');
    assert.equal(authz.noMatch, 'deny');
    assert.deepEqual(authz.rules.map((x) => [x.name, x.action]), [
      ['authorizationpolicy/istio-system/allow-jwt/rule/0/from/0', 'allow'],
      ['authorizationpolicy/istio-system/allow-jwt/rule/0/from/1', 'allow'],
      ['authorizationpolicy/istio-system/deny-admin/rule/0', 'deny'],
    ]);
    assert.deepEqual(authz.rules[0]!.conditions, [
      { kind: 'request-principal', values: ['https://idp/*'], negate: false },
      { kind: 'host', values: ['public.test'], negate: false },
      { kind: 'method', values: ['GET'], negate: false },
      { kind: 'claim', path: ['groups'], values: ['admins'], negate: false },
      { kind: 'claim', path: ['org', 'tier'], values: ['free'], negate: true },
      { kind: 'header', name: 'x-env', values: ['prod'], negate: false },
      { kind: 'ip', of: 'client', cidrs: ['2001:db8::/32'], negate: false },
    ]);
    assert.deepEqual(authz.rules[1]!.conditions[0], { kind: 'ip', of: 'peer', cidrs: ['192.0.2.0/24'], negate: false });
    assert.deepEqual(authz.rules[2]!.conditions, [{ kind: 'ip', of: 'client', cidrs: ['10.0.0.0/8'], negate: true }, { kind: 'path', values: ['/admin/*'], negate: false }]);
  }
});

test('Istio: not selecting us, no selector or targetRef → not applied; an AccessPolicy on a route wins over the workload policies', () => {
  const other = run(BASE + AP('a', '  selector: {matchLabels: {istio: other}}\n  rules: [{}]'), LABELS);
  assert.equal(authzOf(route(other.ir, 'public', CART_ROUTE)), undefined);
  assert.deepEqual(other.diagnostics, []);
  const none = run(BASE + AP('a', '  rules: [{}]') + AP('b', '  targetRefs: [{kind: Gateway, name: gw}]\n  rules: [{}]'), LABELS);
  assert.equal(authzOf(route(none.ir, 'public', CART_ROUTE)), undefined);
  assert.deepEqual(none.diagnostics.map((d) => [d.code, d.path]), [['ERR_ISTIO_UNSUPPORTED', 'spec.selector'], ['ERR_ISTIO_UNSUPPORTED', 'spec.targetRefs']]);
  const both = run(BASE + AP('a', `${SELECT}\n  rules: [{}]`) + access('shop', `[${SHOP}]`, '{deny: [{paths: [/x]}]}'), LABELS);
  assert.equal(authzOf(route(both.ir, 'public', CART_ROUTE))!.policy, 'accesspolicy/default/shop');
  assert.equal(authzOf(route(both.ir, 'internal', ADMIN_ROUTE))!.policy, 'authorizationpolicy/istio-system/a');
});

test('Istio: AUDIT rules become audit rules (never refuse); CUSTOM goes to ext-auth, not authz; an ALLOW policy without rules allows nothing', () => {
  const { ir, diagnostics } = run(BASE + AP('ext', `${SELECT}\n  action: CUSTOM\n  provider: {name: opa}\n  rules: [{}]`) + AP('audit', `${SELECT}\n  action: AUDIT\n  rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]`), LABELS);
  assert.deepEqual(authzOf(route(ir, 'public', CART_ROUTE)), {
    policy: 'authorizationpolicy/istio-system/audit',
    rules: [{ name: 'authorizationpolicy/istio-system/audit/rule/0', action: 'audit', conditions: [{ kind: 'path', values: ['/admin/*'], negate: false }] }],
    noMatch: 'allow',
  });
  // The CUSTOM policy names a provider no mesh config defines: reported, and it fails closed.
  assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.path]), [['error', 'ERR_AUTHZ_PROVIDER_NOT_FOUND', 'spec.provider.name']]);
  const nothing = run(BASE + AP('allow-nothing', `${SELECT}`), LABELS);
  assert.deepEqual(authzOf(route(nothing.ir, 'public', CART_ROUTE)), { policy: 'authorizationpolicy/istio-system/allow-nothing', rules: [], noMatch: 'deny' });
});

test('Istio: peer identities never match at an edge; unsupported fields drop ALLOW rules and are ignored in DENY rules', () => {
  const { ir, diagnostics } = run(BASE + AP('mtls', `${SELECT}
  rules:
    - from: [{source: {principals: ["cluster.local/ns/a/sa/b"]}}, {source: {notNamespaces: [x], requestPrincipals: ["*"]}}]
    - to: [{operation: {ports: ["8080"]}}]
    - when: [{key: source.namespace, values: [a]}]`) + AP('deny-port', `${SELECT}
  action: DENY
  rules: [{to: [{operation: {ports: ["9090"], paths: [/p]}}], when: [{key: connection.sni, values: [x]}]}]`), LABELS);
  const authz = authzOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authz.rules, [
    { name: 'authorizationpolicy/istio-system/deny-port/rule/0', action: 'deny', conditions: [{ kind: 'path', values: ['/p'], negate: false }] },
    { name: 'authorizationpolicy/istio-system/mtls/rule/0/from/1', action: 'allow', conditions: [{ kind: 'request-principal', values: ['*'], negate: false }] },
  ]);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]).sort(), [
    ['ERR_AUTHZ_PEER_IDENTITY', 'spec.rules[0].from[0].source.principals'],
    ['ERR_AUTHZ_PEER_IDENTITY', 'spec.rules[0].from[1].source.notNamespaces'],
    ['ERR_ISTIO_UNSUPPORTED', 'spec.rules[1].to[0].operation.ports'],
    ['ERR_ISTIO_UNSUPPORTED', 'spec.rules[1]'],
    ['ERR_AUTHZ_PEER_IDENTITY', 'spec.rules[2].when[0]'],
    ['ERR_ISTIO_UNSUPPORTED', 'spec.rules[0].to[0].operation.ports'],
    ['ERR_ISTIO_UNSUPPORTED', 'spec.rules[0].when[0].key'],
  ].sort());
});
