// The `mesh` binding (translate/istio/mesh-listener.ts) through translateSidecar: which
// VirtualServices and routes a sidecar takes, the names a host answers to, passthrough Services.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../../src/core/diagnostic.js';
import type { IrVirtualHost } from '../../../src/ir/types.js';
import { translateSidecar } from '../../../src/translate/translate-sidecar.js';
import { translate } from '../../../src/translate/translate.js';
import { snapshotOf } from '../golden-harness.js';

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: shop}
spec: {ports: [{name: http, port: 80}, {name: admin, port: 9090}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: other}
spec: {ports: [{name: http, port: 9080}]}
`;

function sidecar(yaml: string, namespace = 'shop', labels: ReadonlyMap<string, string> = new Map()) {
  const result = translateSidecar(snapshotOf(SERVICES + yaml, 'mesh.yaml'), {
    mesh: { namespace, port: 15001, labels },
    binds: { listenAddress: '127.0.0.1', portMap: new Map([[15001, 0]]) },
  });
  const listener = result.ir.listeners[0]!;
  const vhost = (name: string): IrVirtualHost | undefined => listener.virtualHosts.find((v) => v.hostnames.includes(name));
  return { result, listener, vhost, diagnostics: result.diagnostics.map(formatDiagnostic) };
}

test('a VirtualService without gateways binds to mesh; one bound only to a Gateway does not', () => {
  const { vhost } = sidecar(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}], headers: {response: {set: {x-vs: mesh}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge-only, namespace: shop}
spec:
  hosts: [multi]
  gateways: [edge]
  http: [{directResponse: {status: 418}}]
`);
  assert.equal(vhost('reviews')?.routes[0]?.name, 'virtualservice/shop/reviews/http/0');
  // The edge-only VS is not applied: multi is passed through.
  assert.equal(vhost('multi')?.name, 'mesh/outbound/passthrough/multi.shop.svc.cluster.local');
});

test('`gateways: [mesh, edge]` binds to both, and the edge translation still serves it', () => {
  const vs = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: shop}
spec:
  hosts: [reviews]
  gateways: [mesh, edge]
  http:
  - match: [{uri: {prefix: /edge}, gateways: [edge]}]
    directResponse: {status: 418}
  - route: [{destination: {host: reviews}}]
`;
  const { vhost } = sidecar(vs);
  // The match limited to the edge Gateway is not the sidecar's.
  assert.deepEqual(vhost('reviews')?.routes.map((r) => r.name), ['virtualservice/shop/both/http/1']);
  const edge = translate(snapshotOf(SERVICES + vs, 'mesh.yaml'), { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' });
  const edgeRoutes = edge.ir.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes.map((r) => r.name)));
  assert.ok(edgeRoutes.includes('virtualservice/shop/both/http/0/match/0'));
});

test('a Service answers to its DNS names; the short name only in the sidecar\'s namespace', () => {
  const { vhost } = sidecar('');
  assert.deepEqual(vhost('reviews.shop.svc.cluster.local')?.hostnames, ['reviews.shop.svc.cluster.local', 'reviews', 'reviews.shop', 'reviews.shop.svc']);
  assert.deepEqual(vhost('reviews.other')?.hostnames, ['reviews.other.svc.cluster.local', 'reviews.other', 'reviews.other.svc']);
  const fromOther = sidecar('', 'other');
  assert.equal(fromOther.vhost('reviews')?.name, 'mesh/outbound/passthrough/reviews.other.svc.cluster.local');
});

test('a multi-port Service is passed through by the port in the authority (Host or :authority)', () => {
  const { vhost, result } = sidecar('');
  const routes = vhost('multi')!.routes;
  assert.deepEqual(
    routes.map((r) => [r.name, r.match.headers?.map((h) => `${h.name}~${h.value}`)]),
    [
      ['mesh/outbound/passthrough/shop/multi/80/port/80/host', ['host~[^:]*(:80)?']],
      ['mesh/outbound/passthrough/shop/multi/80/port/80/authority', [':authority~[^:]*(:80)?']],
      ['mesh/outbound/passthrough/shop/multi/9090/port/9090/host', ['host~[^:]*:9090']],
      ['mesh/outbound/passthrough/shop/multi/9090/port/9090/authority', [':authority~[^:]*:9090']],
    ],
  );
  const clusters = result.ir.clusters.map((c) => c.name);
  assert.ok(clusters.includes('service/shop/multi/80') && clusters.includes('service/shop/multi/9090'), clusters.join(', '));
  // A single-port Service takes any port: there is nothing else it could mean.
  assert.deepEqual(vhost('reviews')!.routes.map((r) => r.match.headers), [undefined]);
});

test('a VirtualService on a multi-port Service: one route table per port, chosen by the authority\'s port; a missing destination answers 500 with a diagnostic', () => {
  const { vhost, diagnostics } = sidecar(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi, namespace: shop}
spec:
  hosts: [multi.shop.svc.cluster.local]
  http:
  - match: [{port: 9090}]
    route: [{destination: {host: multi, port: {number: 9090}}}]
  - route: [{destination: {host: nowhere}}]
`);
  // A route table per Service port, as a sidecar has: the match.port route only in 9090's.
  assert.deepEqual(
    vhost('multi')!.routes.map((r) => `${r.name} ${r.match.headers?.map((h) => h.value).join(',')}`),
    [
      'virtualservice/shop/multi/http/1/port/80/host [^:]*(:80)?',
      'virtualservice/shop/multi/http/1/port/80/authority [^:]*(:80)?',
      'virtualservice/shop/multi/http/0/match/0/port/9090/host [^:]*:9090',
      'virtualservice/shop/multi/http/0/match/0/port/9090/authority [^:]*:9090',
      'virtualservice/shop/multi/http/1/port/9090/host [^:]*:9090',
      'virtualservice/shop/multi/http/1/port/9090/authority [^:]*:9090',
    ],
  );
  assert.ok(diagnostics.some((d) => d.includes('VirtualService shop/multi') && d.includes('spec.http[1].route[0]') && d.includes('nowhere')), diagnostics.join('\n'));
});

test('the outbound listener binds where --listen says, and nothing else is bound', () => {
  const { result } = sidecar('');
  assert.equal(result.ir.listeners.length, 1);
  assert.deepEqual(result.ir.binds.map((b) => [b.address, b.protocol, b.listeners.map((l) => l.listener)]), [['127.0.0.1', 'http', ['mesh/outbound']]]);
  assert.deepEqual(result.statuses, []);
});

test('a mesh root VirtualService delegates: the delegate routes take the root route place, in order', () => {
  const { vhost, diagnostics } = sidecar(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /api}}]
    delegate: {name: reviews-api, namespace: shop}
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: shop}
spec:
  http:
  - match: [{uri: {prefix: /api/v2}}]
    directResponse: {status: 418}
  - route: [{destination: {host: reviews}}]
`);
  const names = vhost('reviews')?.routes.map((r) => r.name) ?? [];
  assert.ok(names[0]?.includes('/delegate/shop/reviews-api/http/0'), names.join('\n'));
  assert.ok(names[1]?.includes('/delegate/shop/reviews-api/http/1'), names.join('\n'));
  assert.equal(names.at(-1), 'virtualservice/shop/root/http/1');
  assert.deepEqual(diagnostics.filter((d) => d.includes('delegate')), []);
});

test('a route whose match names only a Gateway is the edge one, not the sidecar one', () => {
  const { vhost } = sidecar(`---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  gateways: [mesh, edge]
  http:
  - match: [{uri: {prefix: /edge}, gateways: [edge]}]
    directResponse: {status: 418}
  - match: [{uri: {prefix: /both}, gateways: [edge, mesh]}]
    directResponse: {status: 200}
  - route: [{destination: {host: reviews}}]
`);
  assert.deepEqual(vhost('reviews')?.routes.map((r) => r.name), ['virtualservice/shop/reviews/http/1/match/0', 'virtualservice/shop/reviews/http/2']);
});

test('a mesh VirtualService may route to a ServiceEntry host, as at the edge', () => {
  const { result, vhost, diagnostics } = sidecar(`---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: shop}
spec:
  hosts: [payments.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.9}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: payments.example.com, port: {number: 80}}}]}]
`);
  const action = vhost('reviews')?.routes[0]?.action;
  assert.equal(action?.kind, 'forward', diagnostics.join('\n'));
  const cluster = action?.kind === 'forward' ? result.ir.clusters.find((c) => c.name === action.backends[0]?.cluster) : undefined;
  assert.deepEqual(cluster?.endpoints.map((e) => `${e.address}:${e.port}`), ['127.0.0.9:80'], diagnostics.join('\n'));
});

test('match.sourceLabels and sourceNamespace select routes by the workload the sidecar serves', () => {
  const yaml = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: productpage, version: v1}}]
    directResponse: {status: 201}
  - match: [{sourceNamespace: other}]
    directResponse: {status: 202}
  - route: [{destination: {host: reviews}}]
`;
  const names = (ns: string, labels: Record<string, string>) =>
    sidecar(yaml, ns, new Map(Object.entries(labels))).vhost('reviews.shop')?.routes.map((r) => r.name);
  assert.deepEqual(names('shop', { app: 'productpage', version: 'v1', extra: 'x' }), ['virtualservice/shop/reviews/http/0/match/0', 'virtualservice/shop/reviews/http/2']);
  assert.deepEqual(names('shop', { app: 'productpage', version: 'v2' }), ['virtualservice/shop/reviews/http/2']);
  assert.deepEqual(names('other', {}), ['virtualservice/shop/reviews/http/1/match/0', 'virtualservice/shop/reviews/http/2']);
  // Nothing is reported: the fields are honoured, not ignored.
  assert.deepEqual(sidecar(yaml).diagnostics.filter((d) => /source/.test(d)), []);
});

test('at the edge, sourceLabels are matched against the gateway instance\'s own labels', () => {
  const snapshot = snapshotOf(SERVICES + `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.example]
  gateways: [edge]
  http:
  - match: [{sourceLabels: {istio: ingressgateway}}]
    directResponse: {status: 201}
  - match: [{sourceLabels: {app: productpage}}]
    directResponse: {status: 202}
  - match: [{sourceNamespace: elsewhere}]
    directResponse: {status: 203}
  - directResponse: {status: 204}
`, 'edge.yaml');
  const result = translate(snapshot, { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' });
  const vhost = result.ir.listeners.flatMap((l) => l.virtualHosts).find((v) => v.hostnames.includes('reviews.example'));
  assert.deepEqual(vhost?.routes.map((r) => r.name), ['virtualservice/shop/reviews/http/0/match/0', 'virtualservice/shop/reviews/http/3']);
});

test('wildcard VirtualService hosts: covered Services take the rules unless an exact host names them; other names match the wildcard', () => {
  const { vhost, listener, diagnostics } = sidecar(`---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all-shop, namespace: shop}
spec:
  hosts: ["*.shop.svc.cluster.local"]
  http: [{route: [{destination: {host: reviews}}], headers: {response: {set: {x-vs: all-shop}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: everything, namespace: shop}
spec:
  hosts: ["*.cluster.local"]
  http: [{directResponse: {status: 418}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings]
  http: [{directResponse: {status: 204}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external, namespace: shop}
spec:
  hosts: ["*.example.com"]
  http: [{directResponse: {status: 202}}]
`);
  assert.deepEqual(diagnostics.filter((d) => /wildcard/.test(d)), []);
  // reviews.shop is covered by both wildcards: the more specific one applies, under all its names.
  assert.equal(vhost('reviews')?.routes[0]?.name, 'virtualservice/shop/all-shop/http/0');
  assert.equal(vhost('reviews.shop.svc.cluster.local')?.routes[0]?.name, 'virtualservice/shop/all-shop/http/0');
  // ratings has its own VirtualService, which wins over the wildcards.
  assert.equal(vhost('ratings')?.routes[0]?.name, 'virtualservice/shop/ratings/http/0');
  // reviews.other is only under *.cluster.local.
  assert.equal(vhost('reviews.other')?.routes[0]?.name, 'virtualservice/shop/everything/http/0');
  // A non-Service name matches the wildcard host itself, at any depth.
  const external = listener.virtualHosts.find((v) => v.hostnames.includes('*.example.com'));
  assert.equal(external?.wildcardMatch, 'any-labels');
  assert.equal(external?.routes[0]?.name, 'virtualservice/shop/external/http/0');
});
