// DestinationRule consistentHash through the real `isthmus run` with three echo backends:
// `httpCookie` with a `ttl` makes the gateway generate the cookie for a client without one (as
// Envoy does) and the client sticks to one backend by sending it back; `httpQueryParameterName`
// keeps each parameter value on one backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, httpRequest, startEcho, startGateway, type EchoBackend } from './cli-harness.js';

function podYaml(b: EchoBackend): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${b.name}, namespace: shop, labels: {app: shop}}
spec:
  containers: [{name: c, image: c, ports: [{name: http, containerPort: ${b.port}}]}]
status:
  podIP: ${b.address}
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
    hosts: ["*/shop.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.test]
  gateways: [istio-system/edge]
  http:
  - match: [{uri: {prefix: /cart}}]
    route: [{destination: {host: shop, subset: by-cookie}}]
  - match: [{uri: {prefix: /search}}]
    route: [{destination: {host: shop, subset: by-query}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop, namespace: shop}
spec:
  host: shop
  subsets:
  - name: by-cookie
    labels: {app: shop}
    trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: shop-affinity, ttl: 60s, path: /cart}}}}
  - name: by-query
    labels: {app: shop}
    trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: user}}}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: shop}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
`;

test('consistentHash httpCookie with ttl generates the cookie; httpQueryParameterName hashes on the parameter', async (t) => {
  const backends = [await startEcho(t, '127.0.0.14', 'shop-a'), await startEcho(t, '127.0.0.15', 'shop-b'), await startEcho(t, '127.0.0.16', 'shop-c')];
  const dir = configDir(t, { 'pods.yaml': backends.map(podYaml).join('---\n'), 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir] });
  const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

  // No cookie: one is generated and set; sent back, it keeps the client on the same backend.
  const first = await httpRequest({ port: gateway.httpPort, path: '/cart', headers: { host: 'shop.test' } });
  assert.equal(first.status, 200, first.body);
  const setCookie = first.headers['set-cookie']?.[0] ?? '';
  const m = /^shop-affinity=([0-9a-f]+); Max-Age=60; Path=\/cart; HttpOnly$/.exec(setCookie);
  assert.ok(m, `Set-Cookie: ${setCookie}`);
  const backend = nameOf(first.body);
  for (let i = 0; i < 10; i++) {
    const res = await httpRequest({ port: gateway.httpPort, path: `/cart/${i}`, headers: { host: 'shop.test', cookie: `other=1; shop-affinity=${m[1]}` } });
    assert.equal(nameOf(res.body), backend);
    assert.equal(res.headers['set-cookie'], undefined, 'a client that sends the cookie gets no new one');
  }

  // Query parameter: each value sticks to one backend; many values spread over several.
  const seen = new Set<string>();
  for (let u = 0; u < 20; u++) {
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) names.add(nameOf((await httpRequest({ port: gateway.httpPort, path: `/search?q=${i}&user=u${u}`, headers: { host: 'shop.test' } })).body));
    assert.equal(names.size, 1, `user u${u} reached ${[...names].join(', ')}`);
    seen.add([...names][0]!);
  }
  assert.ok(seen.size >= 2, `20 users all on ${[...seen].join(', ')}`);
});
