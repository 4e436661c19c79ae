// kube-proxy's ipvs mode and a Local traffic policy with no endpoint on this node: unlike the
// iptables mode (which DROPs external traffic), its syncEndpoint (pkg/proxy/ipvs/proxier.go,
// kubernetes#97081) gives the node-local virtual servers the cluster endpoints, so pods on this
// node can still connect. With a local endpoint, only the local one is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { renderIpvs } from '../../src/kubeproxy/ipvs-render.js';
import { collectServicePorts } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { snapshotOf } from '../translate/golden-harness.js';

const YAML = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.0.20
  externalTrafficPolicy: Local
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{port: 8080, protocol: TCP}]
endpoints:
  - {addresses: [10.244.1.5], nodeName: node-a}
  - {addresses: [10.244.2.7], nodeName: node-b}
`;

function ipvsLines(nodeName: string): string[] {
  const snapshot = snapshotOf(YAML, 'web.yaml');
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  const { ports } = collectServicePorts(indexResources(snapshot.resources));
  const out = renderIpvs(ports, { nodeName, nodeIPs: ['192.168.0.2'] });
  // Accept either shape of the renderer's result (text alone, or text with notes).
  const text = typeof out === 'string' ? out : (out as { text: string }).text;
  return text.split('\n').filter((l) => l.startsWith('-'));
}

test('ipvs, externalTrafficPolicy Local, an endpoint on this node: the node port uses it alone, the cluster IP uses both', () => {
  assert.deepEqual(ipvsLines('node-a'), [
    '-A -t 10.96.0.20:80 -s rr',
    '-a -t 10.96.0.20:80 -r 10.244.1.5:8080 -m -w 1',
    '-a -t 10.96.0.20:80 -r 10.244.2.7:8080 -m -w 1',
    '-A -t 192.168.0.2:30080 -s rr',
    '-a -t 192.168.0.2:30080 -r 10.244.1.5:8080 -m -w 1',
  ]);
});

test('ipvs, externalTrafficPolicy Local, no endpoint on this node: the node port falls back to the cluster endpoints', () => {
  assert.deepEqual(ipvsLines('node-c'), [
    '-A -t 10.96.0.20:80 -s rr',
    '-a -t 10.96.0.20:80 -r 10.244.1.5:8080 -m -w 1',
    '-a -t 10.96.0.20:80 -r 10.244.2.7:8080 -m -w 1',
    '-A -t 192.168.0.2:30080 -s rr',
    '-a -t 192.168.0.2:30080 -r 10.244.1.5:8080 -m -w 1',
    '-a -t 192.168.0.2:30080 -r 10.244.2.7:8080 -m -w 1',
  ]);
});
