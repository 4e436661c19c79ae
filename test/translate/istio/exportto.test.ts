// exportTo in the sidecar (`--namespace` is the client's) and DestinationRule lookup order and
// wildcard hosts (destination-rule-lookup.ts), through translateSidecar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../../src/core/diagnostic.js';
import type { IrRoute } from '../../../src/ir/types.js';
import { translateSidecar } from '../../../src/translate/translate-sidecar.js';
import { snapshotOf } from '../golden-harness.js';

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: other}
spec: {ports: [{name: http, port: 9080}]}
`;

function sidecar(yaml: string, namespace: string) {
  const result = translateSidecar(snapshotOf(SERVICES + yaml, 'exportto.yaml'), {
    mesh: { namespace, port: 15001 },
    binds: { listenAddress: '127.0.0.1', portMap: new Map([[15001, 0]]) },
  });
  const listener = result.ir.listeners[0]!;
  const vhost = (name: string) => listener.virtualHosts.find((v) => v.hostnames.includes(name));
  const clusterOf = (name: string): string | undefined => {
    const action = vhost(name)?.routes[0]?.action as Extract<IrRoute['action'], { kind: 'forward' }> | undefined;
    return action?.backends[0]?.cluster;
  };
  return { result, vhost, clusterOf, diagnostics: result.diagnostics.map(formatDiagnostic) };
}

const PRIVATE_VS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  exportTo: ["."]
  http: [{directResponse: {status: 418}}]
`;

test('a VirtualService exported to "." applies in its own namespace only; elsewhere its host is passed through', () => {
  const own = sidecar(PRIVATE_VS, 'shop');
  assert.equal(own.vhost('reviews.shop')?.routes[0]?.name, 'virtualservice/shop/reviews/http/0');
  const other = sidecar(PRIVATE_VS, 'other');
  assert.equal(other.vhost('reviews.shop')?.name, 'mesh/outbound/passthrough/reviews.shop.svc.cluster.local');
  assert.ok(other.diagnostics.some((d) => d.includes('VirtualService shop/reviews spec.exportTo: not exported to namespace other') && d.includes('ERR_ISTIO_NOT_EXPORTED')), other.diagnostics.join('\n'));
});

test('exportTo "~" hides everywhere; a namespace list admits the namespaces it names', () => {
  const none = PRIVATE_VS.replace('exportTo: ["."]', 'exportTo: ["~"]');
  assert.equal(sidecar(none, 'shop').vhost('reviews.shop')?.name, 'mesh/outbound/passthrough/reviews.shop.svc.cluster.local');
  const listed = PRIVATE_VS.replace('exportTo: ["."]', 'exportTo: [other]');
  assert.equal(sidecar(listed, 'other').vhost('reviews.shop')?.routes[0]?.name, 'virtualservice/shop/reviews/http/0');
  assert.equal(sidecar(listed, 'shop').vhost('reviews.shop')?.name, 'mesh/outbound/passthrough/reviews.shop.svc.cluster.local');
});

const RULES = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-exact, namespace: shop}
spec: {host: reviews, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-wide, namespace: shop}
spec: {host: "*.shop.svc.cluster.local", exportTo: ["."], trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mesh-wide, namespace: istio-system}
spec: {host: "*.local", trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: client-override, namespace: other}
spec: {host: ratings.shop.svc.cluster.local, exportTo: ["."], trafficPolicy: {loadBalancer: {simple: RANDOM}}}
`;

test('an exact DestinationRule host wins over a wildcard one; a wildcard covers the Services without one', () => {
  const { clusterOf } = sidecar(RULES, 'shop');
  assert.equal(clusterOf('reviews'), 'destinationrule/shop/reviews-exact/shop/reviews/9080');
  assert.equal(clusterOf('ratings'), 'destinationrule/shop/shop-wide/shop/ratings/9080');
  // details lives in namespace other: the shop rules do not cover it; the root's *.local does.
  assert.equal(clusterOf('details.other'), 'destinationrule/istio-system/mesh-wide/other/details/9080');
});

test('lookup order: client namespace, then the service namespace (rules exported to the client), then istio-system', () => {
  const { clusterOf, diagnostics } = sidecar(RULES, 'other');
  // The client's own rule for ratings wins over every other.
  assert.equal(clusterOf('ratings.shop'), 'destinationrule/other/client-override/shop/ratings/9080');
  assert.equal(clusterOf('reviews.shop'), 'destinationrule/shop/reviews-exact/shop/reviews/9080');
  // details (in other) has no rule in other, the client's namespace and its own: the root's applies.
  assert.equal(clusterOf('details'), 'destinationrule/istio-system/mesh-wide/other/details/9080');
  assert.ok(!diagnostics.some((d) => d.includes('ERR_POLICY_CONFLICTED')), diagnostics.join('\n'));
});

test('a DestinationRule kept to its namespace is not applied to clients elsewhere, and says so on spec.exportTo', () => {
  const hidden = RULES.replace('name: reviews-exact, namespace: shop}\nspec: {host: reviews,', 'name: reviews-exact, namespace: shop}\nspec: {host: reviews, exportTo: ["."],');
  const { clusterOf, diagnostics } = sidecar(hidden, 'other');
  assert.equal(clusterOf('reviews.shop'), 'destinationrule/istio-system/mesh-wide/shop/reviews/9080');
  assert.ok(diagnostics.some((d) => d.includes('DestinationRule shop/reviews-exact spec.exportTo: not exported to namespace other')), diagnostics.join('\n'));
});

test('two rules with the same host in one namespace: the older wins, the newer is conflicted', () => {
  // Without timestamps the order is by namespace/name: reviews-again is older than reviews-exact.
  const twice = `${RULES}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-again, namespace: shop}
spec: {host: reviews.shop.svc.cluster.local}
`;
  const { clusterOf, diagnostics } = sidecar(twice, 'shop');
  assert.equal(clusterOf('reviews'), 'destinationrule/shop/reviews-again/shop/reviews/9080');
  assert.ok(diagnostics.some((d) => d.includes('DestinationRule shop/reviews-exact spec.host') && d.includes('ERR_POLICY_CONFLICTED')), diagnostics.join('\n'));
});
