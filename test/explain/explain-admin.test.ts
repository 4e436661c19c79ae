// GET /api/explain on a running gateway: the path of a request through the configuration it serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, freePorts, startCli } from '../e2e/cli-harness.js';

test('GET /api/explain answers for the applied configuration, as JSON and as text; bad queries get 400', async (t) => {
  const dir = configDir(t, {
    'all.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: isthmus
  rules: [{host: shop.example.com, http: {paths: [{path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 80}]}
`,
  });
  const [http, https, admin] = await freePorts(3);
  await startCli(t, ['run', '--workers', '1', '--config', dir, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', 'off'], /admin on 127\.0\.0\.1:\d+/);
  const base = `http://127.0.0.1:${admin}/api/explain`;
  const url = encodeURIComponent(`http://127.0.0.1:${http}/api/x`);
  const json = await fetch(`${base}?url=${url}&header=Host:shop.example.com`);
  assert.equal(json.status, 200);
  const { steps } = (await json.json()) as { steps: { stage: string; summary: string }[] };
  assert.deepEqual(steps.map((s) => s.stage), ['listener', 'virtual-host', 'route', 'filters', 'cluster', 'endpoint']);
  assert.match(steps[2]!.summary, /^route ingress\/shop\/shop\/rule\/0\/path\/0 \(path prefix \/api\)$/);
  assert.match(steps[5]!.summary, /has no endpoints: 503/);
  const text = await fetch(`${base}?url=${url}&header=Host:other.example.com&format=text`);
  assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(await text.text(), /no listener serves host "other\.example\.com": 404 no_route/);
  const bad = await fetch(`${base}?url=${url}&connect=1.2.3.4:80`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { message: string }).message, /exactly one of url=/);
  const badHeader = await fetch(`${base}?url=${url}&header=nocolon`);
  assert.equal(badHeader.status, 400);
});
