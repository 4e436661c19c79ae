// ServiceEntry through the real command: backends that no Kubernetes Service declares, reached
// through an Istio Gateway. STATIC endpoints (loopback IPs, a per-endpoint port, labels that a
// DestinationRule subset selects), DNS on an endpoint's name and DNS on the entry's host itself
// (`localhost`, resolved when the gateway connects), and resolution NONE, which a gateway cannot
// serve (500, with a diagnostic naming the destination).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, get, startEcho, startGateway, type EchoBackend } from './cli-harness.js';

function istioYaml(v1: EchoBackend, v2: EchoBackend, byName: EchoBackend): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: egress, namespace: default}
spec:
  hosts: [egress.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /legacy/v2}}]
    route: [{destination: {host: legacy.internal, subset: v2}}]
  - match: [{uri: {prefix: /legacy}}]
    route: [{destination: {host: legacy.internal, port: {number: 8080}}}]
  - match: [{uri: {prefix: /partner}}]
    route: [{destination: {host: api.partner.test}}]
  - match: [{uri: {prefix: /local}}]
    route: [{destination: {host: localhost}}]
  - match: [{uri: {prefix: /none}}]
    route: [{destination: {host: passthrough.test}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: default}
spec:
  hosts: [legacy.internal]
  location: MESH_EXTERNAL
  ports: [{number: 8080, name: http, protocol: HTTP, targetPort: ${v1.port}}]
  resolution: STATIC
  endpoints:
  - {address: ${v1.address}, labels: {version: v1}}
  - {address: ${v2.address}, ports: {http: ${v2.port}}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy, namespace: default}
spec:
  host: legacy.internal
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: partner, namespace: default}
spec:
  hosts: [api.partner.test]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: localhost, ports: {http: ${byName.port}}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: local, namespace: default}
spec:
  hosts: [localhost]
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: ${byName.port}}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: passthrough, namespace: default}
spec:
  hosts: [passthrough.test]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: NONE
`;
}

test('VirtualService destinations reach backends declared only by ServiceEntries', async (t) => {
  const v1 = await startEcho(t, '127.0.0.5', 'legacy-v1');
  const v2 = await startEcho(t, '127.0.0.6', 'legacy-v2');
  const byName = await startEcho(t, 'localhost', 'by-name');
  const dir = configDir(t, { 'istio.yaml': istioYaml(v1, v2, byName) });
  const gateway = await startGateway(t, { config: [dir] });
  const host = 'egress.test';

  // STATIC: both endpoints serve the entry; the DestinationRule subset selects v2 by label.
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const res = await get(gateway.httpPort, `/legacy/${i}`, host);
    assert.equal(res.status, 200, res.body);
    seen.add(res.name ?? '?');
  }
  assert.deepEqual([...seen].sort(), ['legacy-v1', 'legacy-v2']);
  for (let i = 0; i < 5; i++) assert.equal((await get(gateway.httpPort, '/legacy/v2/x', host)).name, 'legacy-v2');

  // DNS: an endpoint's name, and the entry's own host, resolved when the gateway connects.
  const partner = await get(gateway.httpPort, '/partner', host);
  assert.equal(partner.status, 200, partner.body);
  assert.equal(partner.name, 'by-name');
  assert.equal((await get(gateway.httpPort, '/local', host)).name, 'by-name');

  // NONE has no address to forward to at a gateway: 500, and the diagnostic says why.
  assert.equal((await get(gateway.httpPort, '/none', host)).status, 500);
  const diagnostics = JSON.stringify(await adminJson(gateway.adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /spec\.http\[4\]\.route\[0\]\.destination[^"]*resolution NONE/);
});
