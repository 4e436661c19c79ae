// VirtualServices for one host, merged at the gateway in creation order, through the real command:
// the older one's routes come first, and a newer one's routes after an older catch-all are never
// reached (and a diagnostic names the newer VirtualService and host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, get, serviceYaml, startEcho, startGateway } from './cli-harness.js';

const ISTIO = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: everything, namespace: default, creationTimestamp: "2024-01-01T00:00:02Z"}
spec:
  hosts: [shop.test]
  gateways: [edge]
  http:
  - route: [{destination: {host: catalog}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: default, creationTimestamp: "2024-01-01T00:00:01Z"}
spec:
  hosts: [shop.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /cart}}]
    route: [{destination: {host: cart}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: late, namespace: default, creationTimestamp: "2024-01-01T00:00:03Z"}
spec:
  hosts: [shop.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /late}}]
    route: [{destination: {host: cart}}]
`;

test('VirtualServices for one host are merged in creation order at the gateway', async (t) => {
  const cart = await startEcho(t, '127.0.0.2', 'cart');
  const catalog = await startEcho(t, '127.0.0.3', 'catalog');
  const dir = configDir(t, { 'services.yaml': `${serviceYaml(cart)}---\n${serviceYaml(catalog)}`, 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir] });

  // "cart" is older than "everything" (written later in the file): its route comes first.
  assert.equal((await get(gateway.httpPort, '/cart/1', 'shop.test')).name, 'cart');
  assert.equal((await get(gateway.httpPort, '/other', 'shop.test')).name, 'catalog');
  // "late" is merged after the catch-all of "everything": never reached.
  assert.equal((await get(gateway.httpPort, '/late', 'shop.test')).name, 'catalog');
  const diagnostics = JSON.stringify(await adminJson(gateway.adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /VirtualService default\/late spec\.hosts\[0\][^"]*default\/everything[^"]*never reached/);
});
