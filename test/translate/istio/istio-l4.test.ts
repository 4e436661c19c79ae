// Istio L4 at the edge: TCP and TLS PASSTHROUGH Gateway servers with VirtualService tcp and tls routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../../src/core/diagnostic.js';
import { translate } from '../../../src/translate/translate.js';
import { GOLDEN_OPTIONS, snapshotOf } from '../golden-harness.js';

const CONFIG = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: mesh, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 8443, name: tls, protocol: TLS}
      hosts: ["*"]
      tls: {mode: PASSTHROUGH}
    - port: {number: 5432, name: pg, protocol: TCP}
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: sni, namespace: mesh, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  hosts: [a.example.com, "*.b.example.com"]
  gateways: [edge]
  tls:
    - match: [{sniHosts: [a.example.com], port: 8443}]
      route: [{destination: {host: a, port: {number: 443}}}]
    - match: [{sniHosts: ["*.b.example.com", c.example.com]}]
      route: [{destination: {host: b, port: {number: 443}}, weight: 80}, {destination: {host: ghost, port: {number: 443}}, weight: 20}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: mesh, creationTimestamp: "2026-01-03T00:00:00Z"}
spec:
  hosts: ["*"]
  gateways: [mesh/edge]
  tcp:
    - match: [{port: 5432}]
      route: [{destination: {host: pg.mesh.svc.cluster.local, port: {number: 5432}}}]
    - route: [{destination: {host: a, port: {number: 443}}}]
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: mesh}
spec: {ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: mesh}
spec: {ports: [{port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: pg, namespace: mesh}
spec: {ports: [{port: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: a-1, namespace: mesh, labels: {kubernetes.io/service-name: a}}
addressType: IPv4
ports: [{port: 8443}]
endpoints: [{addresses: [10.1.0.1]}, {addresses: [10.1.0.2]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: b-1, namespace: mesh, labels: {kubernetes.io/service-name: b}}
addressType: IPv4
ports: [{port: 443}]
endpoints: [{addresses: [10.2.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pg-1, namespace: mesh, labels: {kubernetes.io/service-name: pg}}
addressType: IPv4
ports: [{port: 5432}]
endpoints: [{addresses: [10.3.0.1]}]
`;

test('TLS PASSTHROUGH and TCP servers get L4 listeners; tls routes by SNI, the first tcp route; endpoints from the clusters', () => {
  const snapshot = snapshotOf(CONFIG, 'istio-l4.yaml');
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  const { ir, diagnostics } = translate(snapshot, GOLDEN_OPTIONS);
  const l4 = ir.l4Listeners ?? [];
  assert.deepEqual(l4.map((l) => [l.name, l.protocol, l.tls?.mode, l.port]), [
    ['istio/port/5432/l4', 'TCP', undefined, 5432],
    ['istio/port/8443/l4', 'TLS', 'passthrough', 8443],
  ]);
  const tcp = l4[0]!;
  assert.equal(tcp.routes.length, 1, 'the first tcp route takes the port');
  assert.deepEqual(tcp.routes[0]!.backends.map((b) => b.endpoints.map((e) => `${e.address}:${e.port}`)), [['10.3.0.1:5432']]);
  const tls = l4[1]!;
  assert.deepEqual(tls.routes.map((r) => [r.name, r.sniHosts]), [
    ['virtualservice/mesh/sni/tls/0', ['a.example.com']],
    // c.example.com is not among the VirtualService's hosts: left out.
    ['virtualservice/mesh/sni/tls/1', ['*.b.example.com']],
  ]);
  assert.deepEqual(tls.routes[0]!.backends[0]!.endpoints.map((e) => `${e.address}:${e.port}`), ['10.1.0.1:8443', '10.1.0.2:8443']);
  assert.deepEqual(tls.routes[1]!.backends.map((b) => [b.weight, b.endpoints.length]), [[80, 1], [20, 0]]);
  assert.match(diagnostics.map(formatDiagnostic).join('\n'), /VirtualService mesh\/sni spec\.tls\[1\]\.route\[1\]\.destination: .*ghost.*connections for this share are closed/);
});
