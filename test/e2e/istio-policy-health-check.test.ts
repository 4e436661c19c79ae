// The `isthmus.dev/health-check` annotation on a DestinationRule through the real `isthmus run`:
// two backends whose /healthz flips. When one starts failing its checks it leaves rotation (every
// request reaches the other) and returns once it passes again; a reload without the annotation
// stops the probes. Waits are on state the admin API reports, never on elapsed time.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { adminJson, appliedGeneration, configDir, get, pollUntil, startGateway } from './cli-harness.js';

interface Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  healthy: boolean;
  probes: number;
}

async function startBackend(t: TestContext, name: string, address: string): Promise<Backend> {
  const backend = { name, address, port: 0, healthy: true, probes: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      backend.probes++;
      res.writeHead(backend.healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(backend.healthy ? 'ok' : 'failing');
      return;
    }
    const body = JSON.stringify({ name });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, address);
  await once(server, 'listening');
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  backend.port = (server.address() as AddressInfo).port;
  return backend;
}

function podYaml(b: Backend): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${b.name}, namespace: shop, labels: {app: catalog}}
spec:
  containers: [{name: c, image: c, ports: [{name: http, containerPort: ${b.port}}]}]
status:
  podIP: ${b.address}
  conditions: [{type: Ready, status: "True"}]
`;
}

function istioYaml(annotation: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/catalog.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog, namespace: shop}
spec:
  hosts: [catalog.test]
  gateways: [istio-system/edge]
  http:
  - route: [{destination: {host: catalog}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: catalog
  namespace: shop
  annotations: {${annotation}}
spec:
  host: catalog
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 80, targetPort: http}]
`;
}

interface UpstreamsView {
  clusters: { name: string; endpoints: { port: number; healthy: boolean; activeHealthCheck?: { healthy: boolean } }[] }[];
}

test('isthmus.dev/health-check: an endpoint failing its checks leaves rotation and returns when healthy', async (t) => {
  const a = await startBackend(t, 'catalog-a', '127.0.0.10');
  const b = await startBackend(t, 'catalog-b', '127.0.0.11');
  const annotation = '"isthmus.dev/health-check": "path=/healthz; interval=50ms; timeout=2s; unhealthyThreshold=2; healthyThreshold=2"';
  const dir = configDir(t, { 'pods.yaml': `${podYaml(a)}---\n${podYaml(b)}`, 'istio.yaml': istioYaml(annotation) });
  const gateway = await startGateway(t, { config: [dir] });

  const activeState = async (backend: Backend): Promise<boolean | undefined> => {
    const view = (await adminJson(gateway.adminPort, '/api/upstreams')) as UpstreamsView;
    const cluster = view.clusters.find((c) => c.name === 'destinationrule/shop/catalog/shop/catalog/80');
    return cluster?.endpoints.find((e) => e.port === backend.port)?.activeHealthCheck?.healthy;
  };
  const names = async (n: number): Promise<Set<string>> => {
    const out = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await get(gateway.httpPort, `/item/${i}`, 'catalog.test');
      assert.equal(res.status, 200, res.body);
      out.add(res.name ?? '?');
    }
    return out;
  };

  await pollUntil('both endpoints probed', async () => (a.probes > 0 && b.probes > 0 ? true : undefined));
  assert.deepEqual([...(await names(10))].sort(), ['catalog-a', 'catalog-b']);

  a.healthy = false;
  await pollUntil('catalog-a marked unhealthy', async () => ((await activeState(a)) === false ? true : undefined));
  assert.deepEqual([...(await names(20))], ['catalog-b'], 'the failing endpoint is out of rotation');

  a.healthy = true;
  await pollUntil('catalog-a healthy again', async () => ((await activeState(a)) === true ? true : undefined));
  assert.deepEqual([...(await names(10))].sort(), ['catalog-a', 'catalog-b']);

  // A reload without the annotation: no active check is reported, and the probes stop.
  const before = await appliedGeneration(gateway.adminPort);
  writeFileSync(path.join(dir, 'istio.yaml'), istioYaml(''));
  await pollUntil('the reload', async () => ((await appliedGeneration(gateway.adminPort)) > before ? true : undefined));
  assert.equal(await activeState(a), undefined);
  // One probe may have been in flight at the swap; after that, none.
  const probesAfterReload = a.probes + b.probes;
  await names(5);
  const view = (await adminJson(gateway.adminPort, '/api/upstreams')) as UpstreamsView;
  assert.ok(view.clusters.every((c) => c.endpoints.every((e) => e.activeHealthCheck === undefined)));
  assert.ok(a.probes + b.probes <= probesAfterReload + 2, `probes continue after the reload: ${a.probes + b.probes} > ${probesAfterReload} + 2`);
});

test('an unreadable isthmus.dev/health-check annotation is an error on the annotation, and the rule still serves', async (t) => {
  const a = await startBackend(t, 'catalog-a', '127.0.0.12');
  const dir = configDir(t, { 'pods.yaml': podYaml(a), 'istio.yaml': istioYaml('"isthmus.dev/health-check": "interval=5s; colour=blue"') });
  const gateway = await startGateway(t, { config: [dir] });
  assert.equal((await get(gateway.httpPort, '/', 'catalog.test')).status, 200);
  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; severity: string; path?: string; message: string }[];
  const found = diagnostics.find((d) => d.code === 'ERR_HEALTH_CHECK_INVALID');
  assert.equal(found?.severity, 'error');
  assert.equal(found?.path, 'metadata.annotations["isthmus.dev/health-check"]');
  assert.match(found?.message ?? '', /path: missing/);
  assert.equal(a.probes, 0);
});
