// API versions on their routes: draft → 404 without filters or backends; published, deprecated
// and retired → an api-lifecycle filter (the filter answers 410 for retired); successor names a
// version (linked by its route's path) or a URL; a route in two APIs → the older API, Conflicted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authPolicy, BASE, CART_ROUTE, CATALOG_ROUTE, ADMIN_ROUTE, GATEWAY, lifecycleOf, route, run, statusOf } from './apim-fixtures.js';

function api(name: string, versions: string, created = '2024-01-01T00:00:00Z', extra = ''): string {
  return `---
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
${extra}  versions:
${versions}`;
}
const rule = (section: string): string => `[{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: ${section}}]`;

test('deprecated, retired and published versions carry their lifecycle; successor by version name links to its path', () => {
  const yaml = BASE + api('shop', `    - {name: v1, stage: deprecated, deprecatedAt: "2025-01-01T00:00:00Z", sunsetAt: "2026-01-01T00:00:00Z", successor: v2, routes: ${rule('cart')}}
    - {name: v2, stage: published, routes: ${rule('catalog')}}
    - {name: v0, stage: retired, successor: "https://example.com/v2", routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: admin}]}
`, undefined, '  deprecationPolicy: https://example.com/policy\n');
  const { ir, diagnostics } = run(yaml);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(lifecycleOf(route(ir, 'public', CART_ROUTE)), { api: 'api/default/shop/v1', stage: 'deprecated', deprecatedAt: '2025-01-01T00:00:00Z', sunsetAt: '2026-01-01T00:00:00Z', successor: '/catalog', policyLink: 'https://example.com/policy' });
  assert.deepEqual(lifecycleOf(route(ir, 'public', CATALOG_ROUTE)), { api: 'api/default/shop/v2', stage: 'published' });
  assert.deepEqual(lifecycleOf(route(ir, 'internal', ADMIN_ROUTE)), { api: 'api/default/shop/v0', stage: 'retired', successor: 'https://example.com/v2', policyLink: 'https://example.com/policy' });
});

test('a draft version is not served: its routes answer 404, with no filters (not even an AuthPolicy\'s) and no backend', () => {
  const { ir } = run(BASE + authPolicy('gw', `[${GATEWAY}]`) + api('shop', `    - {name: next, stage: draft, routes: ${rule('cart')}}\n`));
  const cart = route(ir, 'public', CART_ROUTE);
  assert.deepEqual(cart.action, { kind: 'respond', status: 404 });
  assert.deepEqual(cart.filters, []);
  assert.notDeepEqual(route(ir, 'public', CATALOG_ROUTE).action.kind, 'respond');
});

test('a successor that names nothing is left out with a diagnostic; the version still applies (Accepted False, Invalid)', () => {
  const { ir, statuses, diagnostics } = run(BASE + api('shop', `    - {name: v1, stage: deprecated, successor: v9, routes: ${rule('cart')}}\n`));
  assert.deepEqual(lifecycleOf(route(ir, 'public', CART_ROUTE)), { api: 'api/default/shop/v1', stage: 'deprecated' });
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_INVALID', 'spec.versions[0].successor']]);
  assert.equal(statusOf(statuses, 'API', 'shop').status.ancestors[0]!.conditions[0]!.reason, 'Invalid');
});

test('one route in two APIs: the older API wins, the newer is Conflicted; a Gateway target is Invalid for an API', () => {
  const yaml = BASE + api('young', `    - {name: v1, stage: retired, routes: ${rule('cart')}}\n`, '2025-01-01T00:00:00Z') + api('old', `    - {name: v1, stage: published, routes: ${rule('cart')}}\n    - {name: v2, stage: published, routes: [${GATEWAY}]}\n`, '2024-01-01T00:00:00Z');
  const { ir, statuses, diagnostics } = run(yaml);
  assert.equal(lifecycleOf(route(ir, 'public', CART_ROUTE))?.api, 'api/default/old/v1');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name, d.path]), [
    ['ERR_POLICY_UNSUPPORTED', 'old', 'spec.versions[1].routes[0]'],
    ['ERR_POLICY_CONFLICTED', 'young', 'spec.versions[0].routes[0]'],
  ]);
  assert.equal(statusOf(statuses, 'API', 'young').status.ancestors[0]!.conditions[0]!.reason, 'Conflicted');
});
