// `--serve-services`: NodePort and LoadBalancer Services → L4 listeners in the IR, with kube-proxy's
// choice of endpoints, the scheduler and PROXY protocol annotations, and the bind step's conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { translate } from '../../src/translate/translate.js';
import { GOLDEN_OPTIONS, snapshotOf } from './golden-harness.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: data
  creationTimestamp: "2026-01-01T00:00:00Z"
  annotations: {isthmus.dev/l4-scheduler: lc, isthmus.dev/proxy-protocol: v2}
spec:
  type: LoadBalancer
  clusterIP: 10.96.1.1
  externalTrafficPolicy: Local
  ports: [{name: pg, port: 5432, nodePort: 30432}, {name: dns, port: 53, protocol: UDP, nodePort: 30053}]
status: {loadBalancer: {ingress: [{ip: 127.0.0.9}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: data, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5432}, {name: dns, port: 5353, protocol: UDP}]
endpoints:
  - {addresses: [10.0.0.1], nodeName: here}
  - {addresses: [10.0.0.2], nodeName: elsewhere}
  - {addresses: [10.0.0.3], nodeName: here, conditions: {ready: false}}
---
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: data}
spec:
  type: NodePort
  sessionAffinity: ClientIP
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: odd, namespace: data, annotations: {isthmus.dev/l4-scheduler: fastest}}
spec:
  type: NodePort
  ports: [{port: 81, nodePort: 30081}]
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: data}
spec: {ports: [{port: 82}]}
`;

test('NodePort and LoadBalancer Services become L4 listeners with kube-proxy endpoints and the annotated scheduler', () => {
  const snapshot = snapshotOf(CONFIG, 'services.yaml');
  const off = translate(snapshot, GOLDEN_OPTIONS);
  assert.equal(off.ir.l4Listeners, undefined, 'without --serve-services there are none');
  const { ir, diagnostics } = translate(snapshot, { ...GOLDEN_OPTIONS, services: { nodeAddress: '0.0.0.0', nodeName: 'here' } });
  const l4 = ir.l4Listeners ?? [];
  assert.deepEqual(
    l4.map((l) => [l.name, l.protocol, `${l.address}:${l.port}`, l.scheduler]),
    [
      ['service/data/db/dns/nodeport/0.0.0.0', 'UDP', '0.0.0.0:30053', 'lc'],
      ['service/data/db/dns/loadbalancer/127.0.0.9', 'UDP', '127.0.0.9:53', 'lc'],
      ['service/data/db/pg/nodeport/0.0.0.0', 'TCP', '0.0.0.0:30432', 'lc'],
      ['service/data/db/pg/loadbalancer/127.0.0.9', 'TCP', '127.0.0.9:5432', 'lc'],
      ['service/data/odd/81/nodeport/0.0.0.0', 'TCP', '0.0.0.0:30081', 'rr'],
      ['service/data/sticky/80/nodeport/0.0.0.0', 'TCP', '0.0.0.0:30080', 'sh'],
    ],
  );
  const pg = l4.find((l) => l.name === 'service/data/db/pg/nodeport/0.0.0.0')!;
  // externalTrafficPolicy Local on node "here": the ready endpoint of this node only.
  assert.deepEqual(pg.routes[0]!.backends, [{ name: 'service/data/db/5432', weight: 1, endpoints: [{ address: '10.0.0.1', port: 5432 }], proxyProtocol: 'v2' }]);
  assert.equal(l4.find((l) => l.protocol === 'UDP')!.idleTimeoutMs, 30_000);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'warning: Service data/odd metadata.annotations["isthmus.dev/l4-scheduler"]: unknown scheduler "fastest" (expected one of rr, wrr, lc, wlc, sh, dh, sed, nq, maglev); using rr [ERR_L4_SERVICE_INVALID] (services.yaml#3)',
  ]);
});

test('an L4 listener on a port an HTTP bind or an older L4 listener holds is left out with a diagnostic', () => {
  const snapshot = snapshotOf(
    `${CONFIG}
---
apiVersion: v1
kind: Service
metadata: {name: clash, namespace: data}
spec:
  type: LoadBalancer
  ports: [{name: web, port: 8080, nodePort: 30090}, {name: pg, port: 5432, nodePort: 30091}]
status: {loadBalancer: {ingress: [{ip: 127.0.0.9}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: data}
spec:
  ingressClassName: isthmus
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: plain, port: {number: 82}}}}]}}]
`,
    'services.yaml',
  );
  const { ir, diagnostics } = translate(snapshot, { ...GOLDEN_OPTIONS, binds: { listenAddress: '0.0.0.0', portMap: new Map([[80, 8080]]) }, services: { nodeAddress: '0.0.0.0' } });
  const names = (ir.l4Listeners ?? []).map((l) => l.name);
  assert.ok(names.includes('service/data/clash/web/nodeport/0.0.0.0'));
  assert.ok(!names.includes('service/data/clash/web/loadbalancer/127.0.0.9'));
  assert.ok(!names.includes('service/data/clash/pg/loadbalancer/127.0.0.9'));
  const texts = diagnostics.map(formatDiagnostic).filter((t) => t.includes('ERR_L4_LISTENER_CONFLICT'));
  assert.deepEqual(texts, [
    'error: Service data/clash: L4 listener service/data/clash/pg/loadbalancer/127.0.0.9 (TCP 127.0.0.9:5432) overlaps L4 listener service/data/db/pg/loadbalancer/127.0.0.9 of Service data/db; it is not served [ERR_L4_LISTENER_CONFLICT]',
    'error: Service data/clash: L4 listener service/data/clash/web/loadbalancer/127.0.0.9 (TCP 127.0.0.9:8080) overlaps HTTP bind 0.0.0.0:8080; it is not served [ERR_L4_LISTENER_CONFLICT]',
  ]);
});
