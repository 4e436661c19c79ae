// TransformPolicy → the `transform` filter: templates parsed into parts, unknown variables and
// unsafe edits reported with their field path (the rest still applies), replacePrefix decided per
// route from what it matched, precedence and status like every other policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrTransform } from '../../../src/ir/apim.js';
import type { IrRoute } from '../../../src/ir/types.js';
import { parseTemplate } from '../../../src/translate/apim/transform-template.js';
import { ADMIN_ROUTE, BASE, CART_ROUTE, CATALOG_ROUTE, GATEWAY, route, run, SHOP, statusOf } from './apim-fixtures.js';

function transformOf(r: IrRoute): IrTransform | undefined {
  const f = r.filters.find((x) => x.kind === 'transform');
  return f?.kind === 'transform' ? f.transform : undefined;
}

const policy = (name: string, targets: string, spec: string, created = '2024-01-01T00:00:00Z'): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: TransformPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  targetRefs: ${targets}
${spec}
`;

test('templates parse into parts once; $$ is a dollar; unknown variables and unclosed ${ are values, not exceptions', () => {
  assert.deepEqual(parseTemplate('Bearer ${claims.org.id}/${consumer} $$1 $x'), {
    kind: 'ok',
    template: [{ kind: 'text', text: 'Bearer ' }, { kind: 'claim', path: ['org', 'id'] }, { kind: 'text', text: '/' }, { kind: 'consumer' }, { kind: 'text', text: ' $1 $x' }],
  });
  assert.deepEqual(parseTemplate('${header.X-Tenant}${requestId}${clientAddress}${method}${path}${consumer.groups}'), {
    kind: 'ok',
    template: [{ kind: 'header', name: 'x-tenant' }, { kind: 'request-id' }, { kind: 'client-address' }, { kind: 'method' }, { kind: 'path' }, { kind: 'consumer-groups' }],
  });
  assert.deepEqual(parseTemplate(''), { kind: 'ok', template: [{ kind: 'text', text: '' }] });
  const unknown = parseTemplate('${user}');
  assert.equal(unknown.kind, 'invalid');
  assert.match(unknown.kind === 'invalid' ? unknown.message : '', /unknown variable "\$\{user\}"/);
  assert.equal(parseTemplate('a ${consumer').kind, 'invalid');
  assert.equal(parseTemplate('${claims.}').kind, 'invalid');
  assert.equal(parseTemplate('${header.a b}').kind, 'invalid');
});

test('TransformPolicy on a route: headers, body and a prefix rewrite of what the route matched; status Accepted', () => {
  const { ir, diagnostics, statuses } = run(BASE + policy('shop', `[${SHOP}]`, `  request:
    headers: {remove: [X-Secret], set: [{name: X-Consumer, value: "\${consumer}"}], add: [{name: x-tag, value: "v1"}]}
    body: {json: {remove: [a.b], rename: [{from: x, to: y.z}], set: [{path: who, value: "\${consumer.groups}"}, {path: n, value: 7}, {path: s, value: "plain"}, {path: mixed, value: "id-\${requestId}"}]}}
    path: {replacePrefix: /v2}
  response:
    headers: {set: [{name: x-served, value: "\${requestId}"}]}
    body: {maxBytes: 1000, json: {remove: [secret]}}`));
  assert.deepEqual(diagnostics, []);
  const t = transformOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(t, {
    policy: 'transformpolicy/default/shop',
    request: {
      headers: { remove: ['x-secret'], set: [{ name: 'x-consumer', value: [{ kind: 'consumer' }] }], add: [{ name: 'x-tag', value: [{ kind: 'text', text: 'v1' }] }] },
      body: {
        maxBytes: 65536,
        remove: [['a', 'b']],
        rename: [{ from: ['x'], to: ['y', 'z'] }],
        set: [
          { path: ['who'], value: { kind: 'template', template: [{ kind: 'consumer-groups' }] } },
          { path: ['n'], value: { kind: 'json', value: 7 } },
          { path: ['s'], value: { kind: 'json', value: 'plain' } },
          { path: ['mixed'], value: { kind: 'template', template: [{ kind: 'text', text: 'id-' }, { kind: 'request-id' }] } },
        ],
      },
      path: { kind: 'prefix', matchedPrefix: '/cart', value: '/v2' },
    },
    response: { headers: { remove: [], set: [{ name: 'x-served', value: [{ kind: 'request-id' }] }], add: [] }, body: { maxBytes: 1000, remove: [['secret']], rename: [], set: [] } },
  });
  // The prefix is per route: the catalog rule matched /catalog.
  assert.deepEqual(transformOf(route(ir, 'public', CATALOG_ROUTE))!.request!.path, { kind: 'prefix', matchedPrefix: '/catalog', value: '/v2' });
  assert.equal(transformOf(route(ir, 'internal', ADMIN_ROUTE)), undefined, 'the admin route is not targeted');
  assert.deepEqual(statusOf(statuses, 'TransformPolicy', 'shop').status.ancestors[0]!.conditions.map((c) => [c.status, c.reason]), [['True', 'Accepted']]);
});

test('TransformPolicy: unknown variables, control characters, managed headers and __proto__ paths are left out with their field path; the rest applies', () => {
  const { ir, diagnostics, statuses } = run(BASE + policy('bad', `[${SHOP}]`, `  request:
    headers:
      set: [{name: x-a, value: "\${user.email}"}, {name: x-ok, value: "\${method}"}, {name: content-length, value: "1"}, {name: x-crlf, value: "a\\r\\nx-admin: 1"}]
    body: {json: {set: [{path: __proto__.polluted, value: true}, {path: ok, value: "\${nope}"}], remove: [fine]}}
    path: {replacePrefix: /a, replaceFull: /b}`));
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]).sort(), [
    ['ERR_POLICY_INVALID', 'spec.request.body.json.set[0].path'],
    ['ERR_POLICY_INVALID', 'spec.request.body.json.set[1].value'],
    ['ERR_POLICY_INVALID', 'spec.request.headers.set[0].value'],
    ['ERR_POLICY_INVALID', 'spec.request.headers.set[2].name'],
    ['ERR_POLICY_INVALID', 'spec.request.headers.set[3].value'],
    ['ERR_POLICY_INVALID', 'spec.request.path'],
  ]);
  assert.match(diagnostics.find((d) => d.path === 'spec.request.headers.set[0].value')!.message, /unknown variable "\$\{user\.email\}"/);
  const t = transformOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(t.request!.headers!.set, [{ name: 'x-ok', value: [{ kind: 'method' }] }]);
  assert.deepEqual(t.request!.body!.set, []);
  assert.deepEqual(t.request!.body!.remove, [['fine']]);
  assert.equal(t.request!.path, undefined);
  assert.deepEqual(statusOf(statuses, 'TransformPolicy', 'bad').status.ancestors[0]!.conditions.map((c) => [c.status, c.reason]), [['False', 'Invalid']]);
});

test('TransformPolicy: the route-level policy wins over the Gateway-level one; same level, the older; unresolved targets reported', () => {
  const spec = (v: string): string => `  request: {headers: {set: [{name: x-v, value: ${v}}]}}`;
  const { ir, diagnostics, statuses } = run(
    BASE +
      policy('gw', `[${GATEWAY}]`, spec('gw')) +
      policy('shop', `[${SHOP}, {group: gateway.networking.k8s.io, kind: HTTPRoute, name: missing}]`, spec('shop')) +
      policy('shop2', `[${SHOP}]`, spec('shop2'), '2024-02-01T00:00:00Z'),
  );
  assert.equal(transformOf(route(ir, 'public', CART_ROUTE))!.policy, 'transformpolicy/default/shop');
  assert.equal(transformOf(route(ir, 'internal', ADMIN_ROUTE))!.policy, 'transformpolicy/default/gw');
  assert.deepEqual(diagnostics.map((d) => d.code).sort(), ['ERR_POLICY_CONFLICTED', 'ERR_POLICY_TARGET_NOT_FOUND']);
  const reasons = statusOf(statuses, 'TransformPolicy', 'shop').status.ancestors.map((a) => a.conditions[0]!.reason).sort();
  assert.deepEqual(reasons, ['Accepted', 'TargetNotFound']);
  assert.deepEqual(statusOf(statuses, 'TransformPolicy', 'shop2').status.ancestors[0]!.conditions.map((c) => c.reason), ['Conflicted']);
});

test('TransformPolicy: replacePrefix is left out on a route that rewrites its own path, once per policy; replaceFull applies anywhere', () => {
  const rewriting = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: rw, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: public}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /rw}}]
      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /x}}}]
      backendRefs: [{name: web, port: 80}]
`;
  const { ir, diagnostics } = run(BASE + rewriting + policy('p', `[${GATEWAY}]`, '  request: {path: {replacePrefix: /v2}, headers: {add: [{name: x-a, value: a}]}}'));
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_UNSUPPORTED', 'spec.request.path']]);
  const rw = transformOf(route(ir, 'public', 'httproute/default/rw/rule/0/match/0'))!;
  assert.equal(rw.request!.path, undefined);
  assert.equal(rw.request!.headers!.add.length, 1, 'the other edits still apply');
  assert.deepEqual(transformOf(route(ir, 'internal', ADMIN_ROUTE))!.request!.path, { kind: 'prefix', matchedPrefix: '/admin', value: '/v2' });
  const full = run(BASE + policy('f', `[${SHOP}]`, '  request: {path: {replaceFull: /only}}'));
  assert.deepEqual(transformOf(route(full.ir, 'public', CART_ROUTE))!.request!.path, { kind: 'full', value: '/only' });
});
