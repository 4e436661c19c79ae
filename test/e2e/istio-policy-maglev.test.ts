// DestinationRule consistentHash with maglev through the real `isthmus run` and three echo
// backends: each x-user value keeps reaching one pod, and the users spread over the pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, httpRequest, startEcho, startGateway, type EchoBackend } from './cli-harness.js';

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
  - route: [{destination: {host: shop}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop, namespace: shop}
spec:
  host: shop
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: shop}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
`;

test('consistentHash maglev keeps each x-user on one pod and spreads users over the pods', async (t) => {
  const backends = [await startEcho(t, '127.0.0.21', 'shop-a'), await startEcho(t, '127.0.0.22', 'shop-b'), await startEcho(t, '127.0.0.23', 'shop-c')];
  const dir = configDir(t, { 'pods.yaml': backends.map(podYaml).join('---\n'), 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir] });
  const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

  // The applied cluster is a Maglev one (not the ring hash it used to be served as).
  const config = (await adminJson(gateway.adminPort, '/api/config')) as { clusters: Array<{ name: string; lb: { kind: string; tableSize?: number } }> };
  const lbs = config.clusters.map((c) => c.lb);
  assert.ok(lbs.some((lb) => lb.kind === 'maglev' && lb.tableSize === 65537), JSON.stringify(lbs));

  const seen = new Set<string>();
  for (let u = 0; u < 24; u++) {
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await httpRequest({ port: gateway.httpPort, path: `/item/${i}`, headers: { host: 'shop.test', 'x-user': `user-${u}` } });
      assert.equal(res.status, 200, res.body);
      names.add(nameOf(res.body));
    }
    assert.equal(names.size, 1, `user-${u} reached ${[...names].join(', ')}`);
    seen.add([...names][0]!);
  }
  assert.ok(seen.size >= 2, `24 users all on ${[...seen].join(', ')}`);
});
