// exportTo and DestinationRule host lookup through the real commands. `isthmus run`: the Gateway
// lives in istio-system, so VirtualServices, DestinationRules and ServiceEntries must be exported
// there; a wildcard DestinationRule (`*.shop.svc.cluster.local`) gives the subsets of a Service
// that has no rule of its own. `isthmus sidecar --namespace other`: a VirtualService kept to its
// namespace is not applied (the Service is passed through), one exported to `other` is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { adminJson, CLI, configDir, freePorts, get, httpRequest, pollUntil, startEcho, startGateway, type EchoBackend } from './cli-harness.js';

function workload(backend: EchoBackend, app: string, version: string): string {
  return `---
apiVersion: v1
kind: Pod
metadata: {name: ${backend.name}, namespace: shop, labels: {app: ${app}, version: ${version}}}
spec: {containers: [{name: echo, image: echo, ports: [{name: http, containerPort: ${backend.port}}]}]}
status: {podIP: ${backend.address}, conditions: [{type: Ready, status: "True"}]}
`;
}

function servicesYaml(v1: EchoBackend, v2: EchoBackend, ratings: EchoBackend): string {
  return `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080, targetPort: http}]}
${workload(v1, 'reviews', 'v1')}${workload(v2, 'reviews', 'v2')}${workload(ratings, 'ratings', 'v1')}`;
}

test('isthmus run: only what is exported to the Gateway namespace applies; a wildcard DestinationRule gives subsets', async (t) => {
  const [v1, v2, ratings] = [await startEcho(t, '127.0.0.1', 'reviews-v1'), await startEcho(t, '127.0.0.2', 'reviews-v2'), await startEcho(t, '127.0.0.3', 'ratings')];
  const dir = configDir(t, {
    'istio.yaml': `${servicesYaml(v1, v2, ratings)}---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*/*.example.test"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: public, namespace: shop}
spec:
  hosts: [public.example.test]
  gateways: [istio-system/edge]
  http:
  - match: [{uri: {prefix: /v2}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: shop}
spec:
  hosts: [private.example.test]
  gateways: [istio-system/edge]
  exportTo: ["."]
  http: [{route: [{destination: {host: ratings}}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-local, namespace: shop}
spec:
  host: reviews
  exportTo: ["."]
  subsets: [{name: v2, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-wide, namespace: shop}
spec:
  host: "*.shop.svc.cluster.local"
  subsets: [{name: v2, labels: {version: v2}}]
`,
  });
  const gateway = await startGateway(t, { config: [dir] });

  const ok = await get(gateway.httpPort, '/', 'public.example.test');
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.name, 'ratings');
  // The rule kept to shop is not the gateway's: the wildcard rule's subset v2 is (version v2).
  for (let i = 0; i < 6; i++) {
    const r = await get(gateway.httpPort, `/v2/${i}`, 'public.example.test');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.name, 'reviews-v2');
  }
  const hidden = await get(gateway.httpPort, '/', 'private.example.test');
  assert.equal(hidden.status, 404, hidden.body);
  assert.equal((JSON.parse(hidden.body) as { reason: string }).reason, 'no_route');

  const diagnostics = JSON.stringify(await adminJson(gateway.adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /VirtualService[^"]*shop[^"]*private[^"]*spec\.exportTo|spec\.exportTo[^"]*not exported to the namespace of Gateway istio-system\/edge/);
  assert.match(diagnostics, /ERR_ISTIO_NOT_EXPORTED/);
});

test('isthmus sidecar --namespace other: a VirtualService kept to its namespace is not applied; one exported to other is', async (t) => {
  const [v1, v2, ratings] = [await startEcho(t, '127.0.0.1', 'reviews-v1'), await startEcho(t, '127.0.0.2', 'reviews-v2'), await startEcho(t, '127.0.0.3', 'ratings')];
  const dir = configDir(t, {
    'mesh.yaml': `${servicesYaml(v1, v2, ratings)}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings-private, namespace: shop}
spec:
  hosts: [ratings.shop.svc.cluster.local]
  exportTo: ["."]
  http: [{directResponse: {status: 418}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-shared, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  exportTo: [other]
  http: [{route: [{destination: {host: reviews, subset: v2}}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-wide, namespace: shop}
spec:
  host: "*.shop.svc.cluster.local"
  subsets: [{name: v2, labels: {version: v2}}]
`,
  });
  const [port, adminPort] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, [CLI, 'sidecar', '--config', dir, '--listen', `127.0.0.1:${port}`, '--admin-port', String(adminPort), '--namespace', 'other', '--access-log', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  });
  await pollUntil(`sidecar ready (stderr: ${stderr})`, async () => ((await httpRequest({ port: adminPort, path: '/ready' }).catch(() => undefined))?.status === 200 ? true : undefined), 15_000, 50);

  // Absolute-form targets, as an HTTP_PROXY client sends them.
  const through = async (url: string): Promise<{ status: number; name?: string }> => {
    const r = await httpRequest({ port, path: url, headers: { host: new URL(url).host } });
    return { status: r.status, ...(r.status === 200 ? { name: (JSON.parse(r.body) as { name: string }).name } : {}) };
  };
  const passed = await through('http://ratings.shop:9080/x');
  assert.equal(passed.status, 200, 'the private VirtualService (418) is not applied in namespace other');
  assert.equal(passed.name, 'ratings');
  for (let i = 0; i < 4; i++) assert.equal((await through(`http://reviews.shop:9080/${i}`)).name, 'reviews-v2');
  const diagnostics = JSON.stringify(await adminJson(adminPort, '/api/diagnostics'));
  assert.match(diagnostics, /not exported to namespace other/);
});
