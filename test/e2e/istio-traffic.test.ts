// Istio traffic management through the real command, one behaviour per host, with node's http
// client against scripted backends in this process (each a Pod in the config): routes in the
// order written (first match wins, never re-sorted), fault injection (a delay no shorter than
// asked; an abort whose share over many requests matches its percentage), retries by retryOn (a
// 503 then a 200; a reset connection; no retry when attempts is 0), consistent hashing on a header,
// connection-pool circuit breaking under concurrency, outlier ejection, mirroring and a CORS
// preflight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { configDir, httpRequest, startGateway, type Cleanup, type SimpleResponse } from './cli-harness.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: number) => void;

interface Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Requests received, in order: method, path, host and the x-id header. */
  readonly received: { method: string; path: string; host: string; id: string }[];
}

/** An HTTP server on `address`, answering with `handler` (default: 200 with JSON naming it). */
async function startBackend(t: Cleanup, address: string, name: string, handler?: Handler): Promise<Backend> {
  const received: Backend['received'] = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '', id: String(req.headers['x-id'] ?? '') };
    received.push(entry);
    const seen = received.filter((r) => r.id !== '' && r.id === entry.id).length;
    req.resume();
    if (handler) return handler(req, res, seen);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, path: req.url, attempt: seen }));
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { name, address, port: (server.address() as AddressInfo).port, received };
}

function pod(b: Backend, app: string, labels: Record<string, string> = {}): string {
  const all = { app, ...labels };
  return `apiVersion: v1
kind: Pod
metadata: {name: ${b.name}, namespace: mesh, labels: ${JSON.stringify(all)}}
spec:
  containers: [{name: c, image: c, ports: [{name: http, containerPort: ${b.port}}]}]
status:
  podIP: ${b.address}
  conditions: [{type: Ready, status: "True"}]
---
`;
}

function service(app: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${app}, namespace: mesh}
spec:
  selector: {app: ${app}}
  ports: [{name: http, port: 80, targetPort: http}]
---
`;
}

const name = (res: SimpleResponse): string => (JSON.parse(res.body) as { name: string }).name;

test('Istio traffic management at the edge', async (t) => {
  const special = await startBackend(t, '127.0.0.2', 'special');
  const general = await startBackend(t, '127.0.0.3', 'general');
  // 503 on the first attempt of each x-id, or a reset connection on /reset's first attempt.
  const flaky = await startBackend(t, '127.0.0.4', 'flaky', (req, res, seen) => {
    if (seen === 1 && req.url?.startsWith('/reset')) {
      req.socket.destroy();
      return;
    }
    if (seen === 1) {
      res.statusCode = 503;
      res.end('first attempt fails');
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'flaky', attempt: seen }));
  });
  const hashed = [
    await startBackend(t, '127.0.0.5', 'hash-a'),
    await startBackend(t, '127.0.0.6', 'hash-b'),
    await startBackend(t, '127.0.0.7', 'hash-c'),
  ];
  // Holds every request until released, so the breaker's counts are exact.
  const held: http.ServerResponse[] = [];
  const holder = await startBackend(t, '127.0.0.8', 'holder', (_req, res) => {
    held.push(res);
  });
  const healthy = await startBackend(t, '127.0.0.9', 'healthy');
  const broken = await startBackend(t, '127.0.0.10', 'broken', (_req, res) => {
    res.statusCode = 500;
    res.end('always fails');
  });
  const shadow = await startBackend(t, '127.0.0.11', 'shadow');

  const config = [
    pod(special, 'special'), pod(general, 'general'), pod(flaky, 'flaky'),
    ...hashed.map((b) => pod(b, 'hashed')), pod(holder, 'holder'),
    pod(healthy, 'mixed'), pod(broken, 'mixed'), pod(shadow, 'shadow'),
    ...['special', 'general', 'flaky', 'hashed', 'holder', 'mixed', 'shadow'].map(service),
  ].join('');
  const istio = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: mesh}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.istio.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: order, namespace: mesh}
spec:
  hosts: [order.istio.test]
  gateways: [edge]
  http:
  - match: [{uri: {exact: /api/special}}]
    route: [{destination: {host: special}}]
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: general}}]
  - match: [{uri: {prefix: /api/special/deeper}}]
    route: [{destination: {host: special}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: faults, namespace: mesh}
spec:
  hosts: [fault.istio.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /slow}}]
    fault: {delay: {fixedDelay: 400ms, percentage: {value: 100}}}
    route: [{destination: {host: general}}]
  - match: [{uri: {prefix: /flaky}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 50}}}
    route: [{destination: {host: general}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: retries, namespace: mesh}
spec:
  hosts: [retry.istio.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /503}}]
    retries: {attempts: 2, perTryTimeout: 2s, retryOn: 5xx}
    route: [{destination: {host: flaky}}]
  - match: [{uri: {prefix: /reset}}]
    retries: {attempts: 2, retryOn: reset}
    route: [{destination: {host: flaky}}]
  - match: [{uri: {prefix: /once}}]
    retries: {attempts: 0}
    route: [{destination: {host: flaky}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: policies, namespace: mesh}
spec:
  hosts: [hash.istio.test, breaker.istio.test, outlier.istio.test, mirror.istio.test, cors.istio.test]
  gateways: [edge]
  http:
  - match: [{authority: {exact: hash.istio.test}}]
    route: [{destination: {host: hashed}}]
  - match: [{authority: {exact: breaker.istio.test}}]
    retries: {attempts: 0}
    route: [{destination: {host: holder}}]
  - match: [{authority: {exact: outlier.istio.test}}]
    retries: {attempts: 0}
    route: [{destination: {host: mixed}}]
  - match: [{authority: {exact: mirror.istio.test}}]
    route: [{destination: {host: general}}]
    mirror: {host: shadow}
    mirrorPercentage: {value: 100}
  - match: [{authority: {exact: cors.istio.test}}]
    corsPolicy:
      allowOrigins: [{exact: "https://app.example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      maxAge: 10m
    route: [{destination: {host: general}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hashed, namespace: mesh}
spec:
  host: hashed
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: holder, namespace: mesh}
spec:
  host: holder
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mixed, namespace: mesh}
spec:
  host: mixed
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 5m, maxEjectionPercent: 100}
`;
  const dir = configDir(t, { 'backends.yaml': config, 'istio.yaml': istio });
  const gateway = await startGateway(t, { config: [dir] });
  const port = gateway.httpPort;
  const call = (host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<SimpleResponse> =>
    httpRequest({ port, path, method, headers: { host, ...headers } });

  await t.test('routes apply in the order written: first match wins, not the longest', async () => {
    assert.equal(name(await call('order.istio.test', '/api/special')), 'special');
    assert.equal(name(await call('order.istio.test', '/api/other')), 'general');
    // The third route's longer prefix would win in Ingress; in a VirtualService the second is first.
    assert.equal(name(await call('order.istio.test', '/api/special/deeper')), 'general');
    assert.equal((await call('order.istio.test', '/elsewhere')).status, 404);
  });

  await t.test('fault delay: the answer comes no sooner than the fixed delay', async () => {
    const started = performance.now();
    const res = await call('fault.istio.test', '/slow');
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.ok(elapsed >= 390, `answered after ${elapsed.toFixed(0)} ms, the delay is 400 ms`);
  });

  await t.test('fault abort: 418 for about half of 400 requests, and those never reach the backend', async () => {
    const before = general.received.length;
    let aborted = 0;
    for (let i = 0; i < 400; i++) {
      const res = await call('fault.istio.test', `/flaky/${i}`);
      if (res.status === 418) aborted++;
      else assert.equal(res.status, 200, res.body);
    }
    // Binomial(400, 0.5): sd 10; ±60 is six of them.
    assert.ok(Math.abs(aborted - 200) <= 60, `${aborted} of 400 aborted, expected about 200`);
    assert.equal(general.received.length - before, 400 - aborted, 'aborted requests are answered by the gateway');
  });

  await t.test('retryOn 5xx: a 503 then a 200; the client sees the 200', async () => {
    const res = await call('retry.istio.test', '/503', { 'x-id': 'r1' });
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { attempt: number }).attempt, 2);
    assert.equal(flaky.received.filter((r) => r.id === 'r1').length, 2);
  });

  await t.test('retryOn reset: a connection reset before the answer is retried', async () => {
    const res = await call('retry.istio.test', '/reset', { 'x-id': 'r2' });
    assert.equal(res.status, 200, res.body);
    assert.equal(flaky.received.filter((r) => r.id === 'r2').length, 2);
  });

  await t.test('attempts: 0 disables retries (Istio would otherwise retry a 503 twice)', async () => {
    const res = await call('retry.istio.test', '/once', { 'x-id': 'r3' });
    assert.equal(res.status, 503);
    assert.equal(flaky.received.filter((r) => r.id === 'r3').length, 1);
  });

  await t.test('consistent hash on a header: one user always reaches the same pod', async () => {
    const pods = new Set<string>();
    for (let u = 0; u < 30; u++) {
      const first = name(await call('hash.istio.test', '/', { 'x-user': `user-${u}` }));
      pods.add(first);
      for (let i = 0; i < 5; i++) assert.equal(name(await call('hash.istio.test', `/${i}`, { 'x-user': `user-${u}` })), first, `user-${u}`);
    }
    assert.ok(pods.size >= 2, `30 users all hashed to ${[...pods].join(', ')}`);
  });

  await t.test('circuit breaking: one in flight and one pending; the rest get 503 at once', async () => {
    const waitFor = async (what: string, done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    // The first request takes the one connection (maxConnections 1) and the backend holds it.
    // Until its connection is up, a second one would count as pending too (Envoy's meaning),
    // so the others start only once it has arrived.
    const first = call('breaker.istio.test', '/hold/0');
    await waitFor('the first request to reach the backend', () => held.length === 1);
    let settled = 0;
    const others = Array.from({ length: 4 }, (_, i) => call('breaker.istio.test', `/hold/${i + 1}`).finally(() => settled++));
    // One waits as pending (http1MaxPendingRequests 1); three are refused without waiting.
    await waitFor('three refusals', () => settled === 3);
    assert.equal(held.length, 1, 'the pending request has not reached the backend');
    held.shift()!.end(JSON.stringify({ name: 'holder' }));
    await waitFor('the pending request to reach the backend', () => held.length === 1);
    held.shift()!.end(JSON.stringify({ name: 'holder' }));
    const answers = await Promise.all([first, ...others]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 503, 503, 503]);
    assert.match(answers.find((r) => r.status === 503)!.body, /upstream_overflow/);
  });

  await t.test('outlier detection: a pod answering 500 is ejected, the other takes everything', async () => {
    for (let i = 0; i < 6; i++) await call('outlier.istio.test', `/warm/${i}`);
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await call('outlier.istio.test', `/after/${i}`);
      assert.equal(res.status, 200, res.body);
      names.add(name(res));
    }
    assert.deepEqual([...names], ['healthy']);
  });

  await t.test('mirror: the shadow service gets a copy; the client gets the primary answer', async () => {
    const res = await call('mirror.istio.test', '/copy-me', { 'x-id': 'm1' });
    assert.equal(name(res), 'general');
    const deadline = Date.now() + 5000;
    while (!shadow.received.some((r) => r.id === 'm1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const copy = shadow.received.find((r) => r.id === 'm1');
    assert.ok(copy, 'the mirror received the request');
    assert.equal(copy.path, '/copy-me');
    assert.equal(copy.host, 'mirror.istio.test-shadow', 'Istio mirrors carry -shadow on the Host, as Envoy sends them');
    assert.equal(general.received.find((r) => r.id === 'm1')?.host, 'mirror.istio.test');
  });

  await t.test('corsPolicy: a preflight from an allowed origin is answered by the gateway', async () => {
    const before = general.received.length;
    const res = await call('cors.istio.test', '/data', { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-token' }, 'OPTIONS');
    assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
    assert.match(String(res.headers['access-control-allow-headers']), /x-token/i);
    assert.equal(res.headers['access-control-max-age'], '600');
    assert.equal(general.received.length, before, 'the preflight never reaches the backend');
    const denied = await call('cors.istio.test', '/data', { origin: 'https://evil.example' });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
  });
});
