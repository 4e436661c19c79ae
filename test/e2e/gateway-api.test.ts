// Gateway API through the real command: a Gateway and an HTTPRoute that splits traffic across two
// echo backends and sets a request header; the status endpoint reports the route as attached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, get, serviceYaml, startEcho, startGateway } from './cli-harness.js';

const HOST = 'split.test';

const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: "*.test"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [${HOST}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Via, value: isthmus}], add: [{name: X-Added, value: "1"}]}
    backendRefs: [{name: alpha, port: 80, weight: 1}, {name: beta, port: 80, weight: 1}]
`;

test('an HTTPRoute splits across two backends and modifies request headers', async (t) => {
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const beta = await startEcho(t, '127.0.0.3', 'beta');
  const dir = configDir(t, { 'services.yaml': `${serviceYaml(alpha)}---\n${serviceYaml(beta)}`, 'gateway.yaml': GATEWAY });
  const gateway = await startGateway(t, { config: [dir] });

  const seen = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const res = await get(gateway.httpPort, `/r/${i}`, HOST);
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as { headers: Record<string, string[]> };
    const headers = Object.fromEntries(Object.entries(body.headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(headers['x-via'], ['isthmus']);
    assert.deepEqual(headers['x-added'], ['1']);
    seen.set(res.name ?? '?', (seen.get(res.name ?? '?') ?? 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ['alpha', 'beta'], `both backends answer: ${JSON.stringify([...seen])}`);

  // A hostname outside the route's: no route on this listener.
  assert.equal((await get(gateway.httpPort, '/', 'other.test')).status, 404);

  const statuses = (await adminJson(gateway.adminPort, '/api/status')) as { kind: string; name: string; status: { parents?: { conditions: { type: string; status: string }[] }[] } }[];
  const route = statuses.find((s) => s.kind === 'HTTPRoute' && s.name === 'split');
  const accepted = route?.status.parents?.[0]?.conditions.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.status, 'True');
});
