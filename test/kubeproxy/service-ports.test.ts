// The kube-proxy model read from YAML: what every renderer and the L4 Service listeners start from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { collectServicePorts } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { snapshotOf } from '../translate/golden-harness.js';

function portsOf(yaml: string) {
  const snapshot = snapshotOf(yaml, 'test.yaml');
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  return collectServicePorts(indexResources(snapshot.resources));
}

const WEB = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  selector: {app: web}
  sessionAffinity: ClientIP
  externalTrafficPolicy: Local
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - {addresses: [10.244.1.5], nodeName: node-a, targetRef: {kind: Pod, name: web-a}}
  - {addresses: [10.244.2.7], nodeName: node-b, conditions: {ready: false, serving: true, terminating: true}}
`;

test('a NodePort Service with two endpoints: addresses, policies, affinity and endpoint conditions', () => {
  const { ports, diagnostics } = portsOf(WEB);
  assert.deepEqual(diagnostics, []);
  assert.equal(ports.length, 1);
  const p = ports[0]!;
  assert.equal(p.servicePortName, 'shop/web:http');
  assert.deepEqual([p.type, p.protocol, p.family, p.clusterIP, p.port, p.nodePort], ['NodePort', 'TCP', 'IPv4', '10.96.0.10', 80, 30080]);
  assert.deepEqual(p.sessionAffinity, { kind: 'ClientIP', timeoutSeconds: 10_800 });
  assert.equal(p.externalTrafficPolicy, 'Local');
  assert.equal(p.internalTrafficPolicy, 'Cluster');
  assert.deepEqual(p.endpoints, [
    { address: '10.244.1.5', port: 8080, ready: true, serving: true, terminating: false, nodeName: 'node-a', target: 'pod/shop/web-a' },
    { address: '10.244.2.7', port: 8080, ready: false, serving: true, terminating: true, nodeName: 'node-b' },
  ]);
});

test('bad input: a nodePort out of range or taken twice, an EndpointSlice of another family: diagnostics, the rest stays', () => {
  const { ports, diagnostics } = portsOf(`${WEB}
---
apiVersion: v1
kind: Service
metadata: {name: late, namespace: shop, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  type: NodePort
  clusterIP: 10.96.0.11
  ports: [{name: a, port: 81, nodePort: 30080}, {name: b, port: 82, nodePort: 80}, {name: c, port: 83, nodePort: 30083}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: late-v6, namespace: shop, labels: {kubernetes.io/service-name: late}}
addressType: IPv6
ports: [{name: a, port: 81}]
endpoints: [{addresses: ["fd00::1"]}]
`);
  const texts = diagnostics.map(formatDiagnostic);
  assert.equal(texts.length, 3, texts.join('\n'));
  assert.match(texts[0]!, /Service shop\/late spec\.ports\[0\]\.nodePort: nodePort 30080\/TCP is already taken by Service shop\/web.*ERR_SERVICE_NODE_PORT_INVALID/);
  assert.match(texts[1]!, /Service shop\/late spec\.ports\[1\]\.nodePort: nodePort 80 is outside the node-port range 30000-32767.*ERR_SERVICE_NODE_PORT_INVALID/);
  assert.match(texts[2]!, /^warning: EndpointSlice shop\/late-v6 addressType: IPv6 endpoints for Service shop\/late.*ERR_ENDPOINT_FAMILY_MISMATCH/);
  const late = ports.filter((p) => p.service === 'late');
  assert.deepEqual(late.map((p) => [p.portName, p.nodePort, p.endpoints.length]), [['a', undefined, 0], ['b', undefined, 0], ['c', 30083, 0]]);
  // The older Service keeps the contested port.
  assert.equal(ports.find((p) => p.service === 'web')!.nodePort, 30080);
});

test('dual-stack: one entry per family, each with its own cluster IP and endpoints; headless and ExternalName have none', () => {
  const { ports } = portsOf(`
apiVersion: v1
kind: Service
metadata: {name: ds, namespace: default}
spec:
  clusterIPs: [10.96.0.20, "fd00:96::20"]
  ipFamilies: [IPv4, IPv6]
  ports: [{port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ds-4, namespace: default, labels: {kubernetes.io/service-name: ds}}
addressType: IPv4
ports: [{port: 5353, protocol: UDP}]
endpoints: [{addresses: [10.244.0.9]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ds-6, namespace: default, labels: {kubernetes.io/service-name: ds}}
addressType: IPv6
ports: [{port: 5353, protocol: UDP}]
endpoints: [{addresses: ["fd00:244::9"]}]
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: default}
spec: {clusterIP: None, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: example.org}
`);
  const ds = ports.filter((p) => p.service === 'ds');
  assert.deepEqual(ds.map((p) => [p.servicePortName, p.protocol, p.family, p.clusterIP, p.endpoints.map((e) => `${e.address}:${e.port}`)]), [
    ['default/ds', 'UDP', 'IPv4', '10.96.0.20', ['10.244.0.9:5353']],
    ['default/ds', 'UDP', 'IPv6', 'fd00:96::20', ['fd00:244::9:5353']],
  ]);
  assert.equal(ports.find((p) => p.service === 'headless')!.clusterIP, undefined);
  assert.equal(ports.some((p) => p.service === 'ext'), false);
});
