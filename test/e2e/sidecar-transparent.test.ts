// `isthmus sidecar` in transparent mode, in network namespaces this test builds:
//
//   client ns ──veth── gateway ns ──veth── v1 ns   (reviews v1, ratings)
//   10.77.0.1        10.77.0.2 │ 10.77.1.1 10.77.1.2
//                              └──veth── v2 ns     (reviews v2)
//                            10.77.2.1   10.77.2.2
//
// In the gateway namespace: `isthmus run` (the API gateway, inbound on :8080) and `isthmus
// sidecar` on 127.0.0.1:15001 as uid 1337, with the nat OUTPUT rules of `sidecar --print-iptables`.
// The gateway forwards to ClusterIPs (10.96.0.x) that nothing listens on: only the redirect to
// the sidecar makes the calls work, and the sidecar routes them by Host with a mesh
// VirtualService (by header, by weight) and a DestinationRule's subsets, and passes a Service
// without a VirtualService through. The gateway's inbound port is not intercepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CLI, configDir, repoRoot } from './cli-harness.js';
import { NetnsLab, requireNetnsTools } from './netns-harness.js';

const PROXY_UID = '1337';

/** The demo's gRPC echo server, started inside a namespace (node -e, CommonJS, absolute paths). */
function grpcServerScript(host: string, port: number, name: string): string {
  const module = path.join(repoRoot(), 'dist', 'src', 'demo', 'grpc-echo-server.js');
  return `import(${JSON.stringify(module)}).then(({ GrpcEchoServer }) => new GrpcEchoServer({ host: ${JSON.stringify(host)}, port: ${port}, name: ${JSON.stringify(name)} }).listen()).then(() => console.log('listening'));`;
}

/**
 * A unary call with @grpc/grpc-js to a ClusterIP, authority set to a Service name (what a
 * resolver would give it), bytes in and out unchanged (the echo server parses no protobuf).
 * Prints the answering Pod, the x-mesh response metadata and the echoed message.
 */
function grpcClientScript(target: string, authority: string): string {
  const grpcJs = createRequire(import.meta.url).resolve('@grpc/grpc-js');
  return `const grpc = require(${JSON.stringify(grpcJs)});
const client = new grpc.Client(${JSON.stringify(target)}, grpc.credentials.createInsecure(), { 'grpc.default_authority': ${JSON.stringify(authority)} });
let md;
const call = client.makeUnaryRequest('/greeter.v1.Greeter/Hello', (b) => b, (b) => b, Buffer.from('ping'), new grpc.Metadata(), (err, res) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log(JSON.stringify({ pod: md.get('x-echo-pod')[0], mesh: md.get('x-mesh')[0], body: res.toString() }));
  client.close();
});
call.on('metadata', (m) => (md = m));`;
}

const GATEWAY_CONFIG = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: edge}
spec:
  hosts: [api.test]
  gateways: [istio-system/edge]
  http:
  - match: [{uri: {prefix: /reviews}}]
    rewrite: {authority: "reviews.shop.svc.cluster.local:9080"}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /ratings}}]
    rewrite: {authority: "ratings.shop:9080"}
    route: [{destination: {host: ratings}}]
${['reviews', 'ratings']
  .map(
    (svc, i) => `---
apiVersion: v1
kind: Service
metadata: {name: ${svc}, namespace: edge}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${svc}-vip, namespace: edge, labels: {kubernetes.io/service-name: ${svc}}}
addressType: IPv4
ports: [{name: http, port: 9080, protocol: TCP}]
endpoints: [{addresses: ["10.96.0.${10 + i}"], conditions: {ready: true}}]
`,
  )
  .join('')}`;

function pod(name: string, app: string, version: string, ip: string, port: number): string {
  return `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {app: ${app}, version: ${version}}}
spec: {containers: [{name: echo, image: echo, ports: [{name: http, containerPort: ${port}}]}]}
status: {podIP: ${ip}, conditions: [{type: Ready, status: "True"}]}
`;
}

const SIDECAR_CONFIG = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: shop}
spec: {selector: {app: greeter}, ports: [{name: grpc, port: 50051, targetPort: grpc}]}
---
apiVersion: v1
kind: Pod
metadata: {name: greeter-v1, namespace: shop, labels: {app: greeter}}
spec: {containers: [{name: echo, image: echo, ports: [{name: grpc, containerPort: 50051}]}]}
status: {podIP: 10.77.2.2, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: greeter, namespace: shop}
spec:
  hosts: [greeter]
  http: [{route: [{destination: {host: greeter}}], headers: {response: {set: {x-mesh: greeter}}}}]
${pod('reviews-v1', 'reviews', 'v1', '10.77.1.2', 9081)}${pod('reviews-v2', 'reviews', 'v2', '10.77.2.2', 9082)}${pod('ratings-v1', 'ratings', 'v1', '10.77.1.2', 9083)}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v2}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;

test('transparent sidecar: the gateway namespace\'s outbound calls are routed by a mesh VirtualService; its inbound port is not intercepted', async (t) => {
  requireNetnsTools();
  const lab = new NetnsLab(t, 'sct');
  const [client, gw, v1, v2] = [await lab.namespace('client'), await lab.namespace('gw'), await lab.namespace('v1'), await lab.namespace('v2')];
  await lab.link(client, 'eth0', '10.77.0.1/30', gw, 'eth-client', '10.77.0.2/30');
  await lab.link(gw, 'eth-v1', '10.77.1.1/30', v1, 'eth0', '10.77.1.2/30');
  await lab.link(gw, 'eth-v2', '10.77.2.1/30', v2, 'eth0', '10.77.2.2/30');
  // The ClusterIP range needs a route for a connect() to start at all; the nat rule then sends
  // the connection to the sidecar before a packet leaves.
  await lab.exec(gw, ['ip', 'route', 'add', '10.96.0.0/16', 'dev', 'eth-v1']);

  const gatewayDir = configDir(t, { 'gateway.yaml': GATEWAY_CONFIG });
  const sidecarDir = configDir(t, { 'mesh.yaml': SIDECAR_CONFIG });
  // The sidecar runs as uid 1337 and must read its folder.
  chmodSync(sidecarDir, 0o755);

  const node = process.execPath;
  lab.spawn(v1, [node, CLI, 'echo', '--listen', '10.77.1.2:9081', '--name', 'reviews-v1']);
  lab.spawn(v1, [node, CLI, 'echo', '--listen', '10.77.1.2:9083', '--name', 'ratings-v1']);
  lab.spawn(v2, [node, CLI, 'echo', '--listen', '10.77.2.2:9082', '--name', 'reviews-v2']);
  const grpcServer = lab.spawn(v2, [node, '-e', grpcServerScript('10.77.2.2', 50051, 'greeter-v1')]);

  const rules = await lab.exec(gw, [node, CLI, 'sidecar', '--print-iptables', '--proxy-uid', PROXY_UID, '--listen', '127.0.0.1:15001']);
  for (const line of rules.stdout.trim().split('\n')) {
    const [cmd, ...args] = line.split(' ');
    assert.equal(cmd, 'iptables');
    await lab.exec(gw, ['iptables', ...args]);
  }
  const sidecar = lab.spawn(gw, ['setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups', node, CLI, 'sidecar', '--config', sidecarDir, '--namespace', 'edge', '--admin-port', '15000']);
  const gateway = lab.spawn(gw, [node, CLI, 'run', '--workers', '1', '--config', gatewayDir, '--http-port', '8080', '--admin-port', '9901', '--access-log', 'stdout']);

  const curl = async (ns: string, args: readonly string[]): Promise<{ status: number; body: string }> => {
    const { stdout } = await lab.exec(ns, ['curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args]);
    const nl = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(nl + 1)), body: stdout.slice(0, nl) };
  };
  await lab.waitFor(`the sidecar (stderr: ${sidecar.stderr()})`, async () => (await curl(gw, ['http://127.0.0.1:15000/ready'])).status === 200);
  await lab.waitFor(`the gateway (stderr: ${gateway.stderr()})`, async () => (await curl(gw, ['http://127.0.0.1:9901/ready'])).status === 200);
  for (const [ns, target] of [[v1, '10.77.1.2:9081'], [v1, '10.77.1.2:9083'], [v2, '10.77.2.2:9082']] as const) {
    await lab.waitFor(`echo ${target}`, async () => (await curl(ns, [`http://${target}/`])).status === 200);
  }

  await lab.waitFor(`the gRPC echo server (stderr: ${grpcServer.stderr()})`, async () => grpcServer.stdout().includes('listening'));

  const api = (path: string, headers: readonly string[] = []) => curl(client, ['-H', 'Host: api.test', ...headers.flatMap((h) => ['-H', h]), `http://10.77.0.2:8080${path}`]);
  const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

  await t.test('by header: end-user jason reaches v2', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await api('/reviews/1', ['end-user: jason']);
      assert.equal(r.status, 200, r.body);
      assert.equal(nameOf(r.body), 'reviews-v2');
      assert.equal((JSON.parse(r.body) as { host: string }).host, 'reviews.shop.svc.cluster.local:9080');
    }
  });

  await t.test('by weight: 50/50 across v1 and v2', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = await api('/reviews/2');
      assert.equal(r.status, 200, r.body);
      seen.set(nameOf(r.body), (seen.get(nameOf(r.body)) ?? 0) + 1);
    }
    // Both receive some (a 50/50 split misses one of them in 40 tries with p = 2^-39).
    assert.deepEqual([...seen.keys()].sort(), ['reviews-v1', 'reviews-v2']);
  });

  await t.test('a Service without a VirtualService is passed through', async () => {
    const r = await api('/ratings/1');
    assert.equal(r.status, 200, r.body);
    assert.equal(nameOf(r.body), 'ratings-v1');
  });

  await t.test('gRPC (HTTP/2 cleartext) from the gateway namespace is routed by :authority', async () => {
    // 10.96.0.20 is no one's address: the call reaches greeter only through the sidecar.
    const { stdout } = await lab.exec(gw, [node, '-e', grpcClientScript('10.96.0.20:50051', 'greeter.shop:50051')]);
    assert.deepEqual(JSON.parse(stdout), { pod: 'greeter-v1', mesh: 'greeter', body: 'ping' });
  });

  await t.test('inbound is not intercepted: a host only the sidecar knows gets the gateway\'s 404', async () => {
    const r = await curl(client, ['-H', 'Host: reviews.shop', 'http://10.77.0.2:8080/reviews/1']);
    assert.equal(r.status, 404, r.body);
    assert.match(r.body, /no_route/);
    // Every request the sidecar logged came from the gateway (on the workload's side), none from the client.
    const logged = (): string[] => sidecar.stdout().split('\n').filter(Boolean);
    // The access log is written in batches: wait until the 47 requests so far are all in it.
    await lab.waitFor(`47 access-log lines from the sidecar (${logged().length} so far)`, async () => logged().length >= 47);
    const lines = logged().map((l) => JSON.parse(l) as { host: string; client: string; route: string | null });
    assert.ok(lines.every((l) => l.client !== '10.77.0.1'), 'the client reached the sidecar');
    assert.ok(lines.some((l) => l.route === 'virtualservice/shop/reviews/http/0/match/0'));
    assert.ok(lines.some((l) => l.route === 'mesh/outbound/passthrough/shop/ratings/9080'));
  });

  await t.test('the sidecar\'s metrics count what it routed', async () => {
    const r = await curl(gw, ['http://127.0.0.1:15000/metrics']);
    assert.equal(r.status, 200);
    assert.match(r.body, /virtualservice\/shop\/reviews\/http\/1/);
  });
});
