// Delegate VirtualServices through the real command: a root VirtualService bound to an Istio
// Gateway hands /shop to a delegate in another namespace. Requests land on the delegate's
// destinations in the delegate's order (first match wins), with the root's match merged in, and a
// delegate route whose match lies outside the root's is not served (the root's later routes are).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, get, httpRequest, serviceYaml, startEcho, startGateway } from './cli-harness.js';

function istioYaml(): string {
  return `apiVersion: networking.istio.io/v1
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
metadata: {name: root, namespace: default}
spec:
  hosts: [shop.test]
  gateways: [istio-system/edge]
  http:
  - match: [{uri: {prefix: /shop}}]
    headers: {response: {set: {x-root: "yes"}}}
    delegate: {name: shop, namespace: team}
  - route: [{destination: {host: front}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: team}
spec:
  http:
  - match: [{uri: {prefix: /shop/cart}}]
    route: [{destination: {host: cart}}]
  - match: [{uri: {prefix: /elsewhere}}]
    route: [{destination: {host: cart}}]
  - match: [{uri: {prefix: /shop}, headers: {x-beta: {exact: "1"}}}]
    route: [{destination: {host: cart}}]
  - route: [{destination: {host: catalog}}]
`;
}

test('a delegate VirtualService serves the routes its root hands it, in order', async (t) => {
  const cart = await startEcho(t, '127.0.0.2', 'cart');
  const catalog = await startEcho(t, '127.0.0.3', 'catalog');
  const front = await startEcho(t, '127.0.0.4', 'front');
  const dir = configDir(t, {
    'services.yaml': `${serviceYaml(cart, 'team')}---\n${serviceYaml(catalog, 'team')}---\n${serviceYaml(front)}`,
    'istio.yaml': istioYaml(),
  });
  const gateway = await startGateway(t, { config: [dir] });
  const host = 'shop.test';

  // The delegate's first route, before its catch-all (its short host names resolve in its own
  // namespace, team).
  const toCart = await get(gateway.httpPort, '/shop/cart/1', host);
  assert.equal(toCart.status, 200, toCart.body);
  assert.equal(toCart.name, 'cart');
  // What the delegate route leaves unset comes from the root route: its response header.
  assert.equal(toCart.headers['x-root'], 'yes');
  // The delegate's third route: the root's prefix with the delegate's header match.
  const beta = await httpRequest({ port: gateway.httpPort, path: '/shop/items', headers: { host, 'x-beta': '1' } });
  assert.equal((JSON.parse(beta.body) as { name: string }).name, 'cart');
  // The delegate's last route has no match: it takes the root's (/shop), after the ones before it.
  assert.equal((await get(gateway.httpPort, '/shop/items', host)).name, 'catalog');
  // /elsewhere is outside the root's /shop: that delegate route is not served (Istio drops it),
  // so /elsewhere falls to the root's next route.
  assert.equal((await get(gateway.httpPort, '/elsewhere', host)).name, 'front');
  assert.equal((await get(gateway.httpPort, '/', host)).name, 'front');

  const diagnostics = JSON.stringify(await adminJson(gateway.adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /VirtualService team\/shop spec\.http\[1\]\.match\[0\][^"]*does not lie within/);
});
