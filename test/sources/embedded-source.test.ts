import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { demoPodsOf } from '../../src/cli/demo.js';
import { createEmbeddedSource, embeddedDemoDir, embeddedDemoDirs } from '../../src/sources/embedded/embedded-source.js';
import { loadDirs } from '../../src/sources/file/load-dirs.js';
import type { ResourceSnapshot } from '../../src/store/resource-snapshot.js';
import { translate } from '../../src/translate/translate.js';

const options = { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' };

test('embeddedDemoDir is examples/quickstart of this package', () => {
  const dir = embeddedDemoDir();
  assert.ok(path.isAbsolute(dir));
  assert.ok(existsSync(path.join(dir, 'shop-ingress.yaml')));
  const pkg = JSON.parse(readFileSync(path.join(dir, '../../package.json'), 'utf8')) as { name: string };
  assert.equal(pkg.name, 'isthmus');
});

test('the demo loads and translates without any diagnostic', async () => {
  const snapshot = await loadDirs([embeddedDemoDir()]);
  assert.deepEqual(snapshot.diagnostics, []);
  const result = translate(snapshot, options);
  assert.deepEqual(result.diagnostics, []);
  const endpoints = Object.fromEntries(
    result.ir.clusters.map((c) => [c.name, c.endpoints.map((e) => `${e.address}:${e.port} ${e.target ?? ''}`)]),
  );
  assert.deepEqual(endpoints, {
    'service/demo/api/8080': ['127.0.0.4:8082 pod/demo/api-1'],
    'service/demo/web/80': ['127.0.0.2:8081 pod/demo/web-1', '127.0.0.3:8081 pod/demo/web-2'],
  });
  assert.deepEqual(result.ir.listeners.map((l) => [l.name, l.virtualHosts.map((v) => v.name)]), [
    ['ingress/http', ['ingress/vhost/shop.localhost', 'ingress/vhost/*']],
    ['ingress/https', ['ingress/vhost/shop.localhost', 'ingress/vhost/*']],
  ]);
  assert.deepEqual(result.ir.certificates.map((c) => [c.name, c.serverNames]), [['secret/demo/shop-tls', ['shop.localhost']]]);
});

test('every demo Pod is on a 127.0.0.x address with ports above 1024', async () => {
  const snapshot = await loadDirs([embeddedDemoDir()]);
  const pods = snapshot.resources.filter((r) => r.kind === 'Pod');
  assert.equal(pods.length, 3);
  for (const pod of pods) {
    assert.match(pod.status.podIP ?? '', /^127\.0\.0\.\d+$/);
    for (const c of pod.spec.containers) for (const p of c.ports) assert.ok(p.containerPort > 1024);
  }
});

test('createEmbeddedSource delivers the demo as a snapshot', async () => {
  const source = createEmbeddedSource();
  const seen: ResourceSnapshot[] = [];
  await source.start((s) => seen.push(s));
  await source.close();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.generation, 1);
  assert.ok((seen[0]?.resources.length ?? 0) > 5);
});

test('--demo serves the three example folders; together they load and translate without any diagnostic', async () => {
  const dirs = embeddedDemoDirs();
  assert.deepEqual(dirs.map((d) => path.basename(d)), ['quickstart', 'gateway-api', 'istio']);
  const snapshot = await loadDirs(dirs);
  assert.deepEqual(snapshot.diagnostics, []);
  const result = translate(snapshot, options);
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.ir.certificates.map((c) => c.name).sort(), ['gateway/gateway-demo/edge/https/gateway-demo/gw-tls', 'secret/demo/shop-tls']);
});

test('the Gateway API example: Pods on 127.0.2.x, the port named grpc gets the gRPC echo', async () => {
  const snapshot = await loadDirs([embeddedDemoDirs()[1]!]);
  const pods = demoPodsOf(snapshot);
  assert.deepEqual(
    pods.map((p) => `${p.name} ${p.address}:${p.port} ${p.protocol ?? 'http'}`).sort(),
    ['blue-1 127.0.2.2:8083 http', 'echo-1 127.0.2.1:8083 http', 'green-1 127.0.2.3:8083 http', 'grpc-echo-1 127.0.2.4:9000 grpc'],
  );
});
