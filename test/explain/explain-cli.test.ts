// `isthmus explain` as a user runs it (bin/isthmus.js) on a folder: a request to a node port of the
// Service in front of the gateway walks kube-proxy's chain to a gateway pod, then the gateway's
// listener, the routes (with why earlier ones missed), the filters and the endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, runCli } from '../e2e/cli-harness.js';
import { kubeProxyChainNames } from '../../src/kubeproxy/chain-names.js';
import { collectServicePorts } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { snapshotOf } from '../translate/golden-harness.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: isthmus, namespace: edge}
spec:
  type: NodePort
  clusterIP: 10.96.0.50
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: isthmus-1, namespace: edge, labels: {kubernetes.io/service-name: isthmus}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.244.1.10], nodeName: node-a}, {addresses: [10.244.2.10], nodeName: node-b}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: isthmus
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /static, pathType: Prefix, backend: {service: {name: assets, port: {number: 80}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 80, targetPort: 9000}]}
---
apiVersion: v1
kind: Service
metadata: {name: assets, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: api-1, namespace: shop, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
ports: [{port: 9000}]
endpoints: [{addresses: [10.244.3.7], targetRef: {kind: Pod, name: api-7d9c}}]
`;

test('a request to a node port: rule chain with probabilities → gateway listener → route after the one that missed → endpoint', async (t) => {
  const dir = configDir(t, { 'all.yaml': CONFIG });
  const r = await runCli(['explain', '--config', dir, 'http://192.168.1.10:30080/api/orders?id=1', '-H', 'Host: shop.example.com', '--node-ip', '192.168.1.10']);
  assert.equal(r.code, 0, r.stderr);
  const sp = collectServicePorts(indexResources(snapshotOf(CONFIG, 'x.yaml').resources)).ports.find((p) => p.service === 'isthmus')!;
  const out = r.stdout;
  assert.match(out, new RegExp(`^1\\. node-port: node port 30080 of Service edge/isthmus:http \\(TCP port 80\\): KUBE-SERVICES → KUBE-NODEPORTS → ${kubeProxyChainNames.external(sp)}$`, 'm'));
  assert.match(out, new RegExp(`^2\\. rule-chain: ${kubeProxyChainNames.service(sp)}: one of 2 endpoint rules$`, 'm'));
  assert.match(out, new RegExp(`-m statistic --mode random --probability 0\\.5000000000 -j ${kubeProxyChainNames.endpoint(sp, sp.endpoints[0]!)} → DNAT 10\\.244\\.1\\.10:8080`));
  assert.match(out, /\(the last rule: no statistic match\) -j KUBE-SEP-\w+ → DNAT 10\.244\.2\.10:8080; overall 50\.0 %/);
  // The endpoints' port 8080 is the gateway's bind (80 → --port-map default 8080).
  assert.match(out, /^3\. listener: bind 0\.0\.0\.0:8080 \(http\) → listener ingress\/http$/m);
  assert.match(out, /^5\. route: route ingress\/shop\/shop\/rule\/0\/path\/1 \(path prefix \/api\), after 1 earlier route that did not match$/m);
  assert.match(out, /ingress\/shop\/shop\/rule\/0\/path\/0: path prefix \/static does not match "\/api\/orders"/);
  assert.match(out, /endpoint: cluster service\/shop\/api\/80 .*one of 1 endpoint\n\s+10\.244\.3\.7:9000 \(pod\/shop\/api-7d9c\)/);
});

test('a path no route takes ends refused (exit 3); a connection to a cluster IP; bad usage exits 2', async (t) => {
  const dir = configDir(t, { 'all.yaml': CONFIG });
  const miss = await runCli(['explain', '--config', dir, 'http://127.0.0.1:8080/nothing', '-H', 'Host: shop.example.com', '--json']);
  assert.equal(miss.code, 3, miss.stderr);
  const steps = JSON.parse(miss.stdout).steps as { stage: string; outcome: string; details: string[] }[];
  assert.deepEqual(steps.at(-1)!.stage, 'route');
  assert.deepEqual(steps.at(-1)!.outcome, 'refused');
  assert.equal(steps.at(-1)!.details.length, 2);
  const conn = await runCli(['explain', '--config', dir, '--connect', '10.96.0.50:80']);
  assert.equal(conn.code, 3, 'a TCP connection reaches the gateway, which has no L4 listener there: explained, ends refused');
  assert.match(conn.stdout, /^1\. cluster-ip: cluster IP 10\.96\.0\.50:80 of Service edge\/isthmus:http/m);
  assert.match(conn.stdout, /listener: no TCP listener of this gateway .*explain a URL/);
  const bad = await runCli(['explain', '--config', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /give one URL, or --connect ADDR:PORT/);
});

const LB_CONFIG = CONFIG.replace(
  'type: NodePort\n  clusterIP: 10.96.0.50',
  'type: LoadBalancer\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000\n  loadBalancerIP: 203.0.113.7\n  clusterIP: 10.96.0.50',
) + `---
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 192.168.1.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: 192.168.1.12}]}
`;

test('--via-lb: the path starts at isthmus lb (nodes in rotation by the Local health check), then the chosen node\'s rules, then the gateway', async (t) => {
  const dir = configDir(t, { 'all.yaml': LB_CONFIG });
  const r = await runCli(['explain', '--config', dir, 'http://203.0.113.7/api/orders', '-H', 'Host: shop.example.com', '--via-lb', '--lb-node', 'node-c=192.168.1.13']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = r.stdout;
  // node-c (named on the command line) has no local endpoint: its /healthz fails, so it is out.
  assert.match(out, /^1\. load-balancer: isthmus lb at 203\.0\.113\.7:80 for LoadBalancer Service edge\/isthmus:http \(TCP port 80\): each connection to node port 30080 of one of 2 nodes passing the health check \(HTTP GET \/healthz on port 32000.*following node-a$/m);
  assert.match(out, /node-c 192\.168\.1\.13:30080 — out of rotation/);
  assert.match(out, /^2\. node-port: node port 30080 of Service edge\/isthmus:http/m);
  // Local policy on node-a: its own endpoint only, no probability split.
  assert.match(out, /DNAT 10\.244\.1\.10:8080/);
  assert.doesNotMatch(out, /DNAT 10\.244\.2\.10:8080/);
  assert.match(out, /route ingress\/shop\/shop\/rule\/0\/path\/1/);
  // A Service of another loadBalancerClass is not the lb's: the path starts at the node as without --via-lb.
  const otherClass = configDir(t, { 'all.yaml': LB_CONFIG.replace('type: LoadBalancer\n', 'type: LoadBalancer\n  loadBalancerClass: example.com/other\n') });
  const other = await runCli(['explain', '--config', otherClass, '--connect', '203.0.113.7:80', '--via-lb']);
  assert.match(other.stdout, /^1\. load-balancer: load-balancer address 203\.0\.113\.7:80 of Service/m, other.stdout);
  // Without --via-lb the address is kube-proxy's on the receiving node, as before.
  const direct = await runCli(['explain', '--config', dir, '--connect', '203.0.113.7:80']);
  assert.match(direct.stdout, /^1\. load-balancer: load-balancer address 203\.0\.113\.7:80 of Service/m);
});
