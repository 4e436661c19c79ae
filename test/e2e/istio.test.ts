// Istio at the edge through the real command: an Istio Gateway and a VirtualService that routes by
// header to one subset and splits the rest by weight across two subsets of one Service, whose Pods
// differ only by their `version` label (a DestinationRule defines the subsets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, get, httpRequest, startEcho, startGateway, type EchoBackend } from './cli-harness.js';

function podYaml(backend: EchoBackend, version: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${backend.name}, namespace: shop, labels: {app: reviews, version: ${version}}}
spec:
  containers: [{name: echo, image: echo, ports: [{name: http, containerPort: ${backend.port}}]}]
status:
  podIP: ${backend.address}
  conditions: [{type: Ready, status: "True"}]
`;
}

const ISTIO = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop/*.shop.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.shop.test]
  gateways: [istio-system/edge, unknown-gateway]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
    headers: {response: {set: {x-route: jason}}}
  - match: [{uri: {exact: /bad}}]
    route: [{destination: {host: reviews, subset: v9}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 75}
    - {destination: {host: reviews, subset: v2}, weight: 25}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: http}]
`;

test('an Istio VirtualService routes by header and by weight to subsets of one Service', async (t) => {
  const v1 = await startEcho(t, '127.0.0.2', 'reviews-v1');
  const v2 = await startEcho(t, '127.0.0.3', 'reviews-v2');
  const dir = configDir(t, { 'pods.yaml': `${podYaml(v1, 'v1')}---\n${podYaml(v2, 'v2')}`, 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir] });
  const host = 'reviews.shop.test';

  // By header: always v2, and the route's response header is set.
  for (let i = 0; i < 10; i++) {
    const res = await httpRequest({ port: gateway.httpPort, path: `/reviews/${i}`, headers: { host, 'end-user': 'jason' } });
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { name: string }).name, 'reviews-v2');
    assert.equal(res.headers['x-route'], 'jason');
  }

  // By weight: 75/25 over 400 requests (binomial sd ≈ 8.7; ±50 is more than 5 sd).
  const seen = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const res = await get(gateway.httpPort, `/reviews/${i}`, host);
    assert.equal(res.status, 200, res.body);
    seen.set(res.name ?? '?', (seen.get(res.name ?? '?') ?? 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ['reviews-v1', 'reviews-v2']);
  assert.ok(Math.abs((seen.get('reviews-v1') ?? 0) - 300) < 50, `v1 share: ${JSON.stringify([...seen])}`);

  // The route before it is first-match, not re-sorted: /bad reaches a subset nobody defines → 500,
  // while the rest keeps serving; a host the server does not admit gets no route.
  assert.equal((await get(gateway.httpPort, '/bad', host)).status, 500);
  assert.equal((await get(gateway.httpPort, '/', 'other.test')).status, 404);

  const diagnostics = JSON.stringify(await adminJson(gateway.adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /spec\.http\[1\]\.route\[0\]\.destination[^"]*subset \\?"v9\\?"/);
  assert.match(diagnostics, /spec\.gateways\[1\][^"]*shop\/unknown-gateway/);
});

test('an Istio Gateway whose selector does not match --istio-gateway-labels is not served', async (t) => {
  const v1 = await startEcho(t, '127.0.0.2', 'reviews-v1');
  const dir = configDir(t, { 'pods.yaml': podYaml(v1, 'v1'), 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--istio-gateway-labels', 'app=my-gateway'] });
  assert.equal((await get(gateway.httpPort, '/', 'reviews.shop.test')).status, 404);
});
