// `isthmus lb`'s plan: LoadBalancer Services → listeners on their addresses, sending to every
// healthy node's node port; health targets as kube-proxy offers them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, type Diagnostic } from '../../src/core/diagnostic.js';
import { indexResources } from '../../src/store/resource-index.js';
import { planLoadBalancer } from '../../src/translate/services/load-balancer-listeners.js';
import { snapshotOf } from '../translate/golden-harness.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  ports: [{name: http, port: 80, nodePort: 30080}, {name: dns, port: 53, protocol: UDP, nodePort: 30053}]
status: {loadBalancer: {ingress: [{ip: 127.0.0.50}]}}
---
apiVersion: v1
kind: Service
metadata: {name: local, namespace: shop, annotations: {isthmus.dev/l4-scheduler: sh}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: 32000
  ports: [{port: 443, nodePort: 30443}]
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: shop}
spec: {type: NodePort, ports: [{port: 8080, nodePort: 30081}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: Hostname, address: node-b}, {type: InternalIP, address: 127.0.0.12}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-c, labels: {node.kubernetes.io/exclude-from-external-load-balancers: ""}}
status: {addresses: [{type: InternalIP, address: 127.0.0.13}]}
`;

test('LoadBalancer Services become listeners on their address that send to every healthy node', () => {
  const snapshot = snapshotOf(CONFIG, 'lb.yaml');
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  const index = indexResources(snapshot.resources);
  const down = new Set(['node-a|tcp|30080']);
  const diagnostics: Diagnostic[] = [];
  const plan = planLoadBalancer(index, { nodes: [{ name: 'node-a', address: '127.0.0.11' }], listenAddress: '127.0.0.1', healthy: (k) => !down.has(k) }, diagnostics);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(plan.nodes.map((n) => n.name), ['node-a', 'node-b'], 'node-c is excluded by its label');
  assert.deepEqual(
    plan.listeners.map((l) => [l.name, l.protocol, `${l.address}:${l.port}`, l.scheduler, l.routes[0]!.backends[0]!.endpoints.map((e) => `${e.address}:${e.port}`)]),
    [
      ['lb/shop/local/443', 'TCP', '127.0.0.1:443', 'sh', ['127.0.0.11:30443', '127.0.0.12:30443']],
      ['lb/shop/web/dns', 'UDP', '127.0.0.50:53', 'rr', ['127.0.0.11:30053', '127.0.0.12:30053']],
      ['lb/shop/web/http', 'TCP', '127.0.0.50:80', 'rr', ['127.0.0.12:30080']],
    ],
  );
  assert.deepEqual(
    plan.targets.map((t) => [t.key, t.check.kind]).sort(),
    [
      ['node-a|http|32000|/healthz', 'http'],
      ['node-a|tcp|30080', 'tcp'],
      ['node-a|udp|30053', 'none'],
      ['node-b|http|32000|/healthz', 'http'],
      ['node-b|tcp|30080', 'tcp'],
      ['node-b|udp|30053', 'none'],
    ],
  );
});

test('no nodes at all: a warning, and the listeners have no backends', () => {
  const snapshot = snapshotOf(CONFIG.split('---\napiVersion: v1\nkind: Node')[0]!, 'lb.yaml');
  const diagnostics: Diagnostic[] = [];
  const plan = planLoadBalancer(indexResources(snapshot.resources), { nodes: [], listenAddress: '0.0.0.0', healthy: () => undefined }, diagnostics);
  assert.equal(plan.listeners.every((l) => l.routes[0]!.backends[0]!.endpoints.length === 0), true);
  assert.match(diagnostics.map(formatDiagnostic).join('\n'), /no nodes: name them with --node NAME=ADDRESS.*ERR_LB_NO_NODES/);
});
