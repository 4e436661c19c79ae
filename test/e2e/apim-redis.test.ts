// Two gateway processes share one real redis-server: together they enforce one global rate limit
// and one daily quota; when Redis is killed they fail open (every request answered, none waiting
// past the Redis timeout), and when it is back the shared counting resumes by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RedisServer } from '../support/redis-server.js';
import { configDir, httpRequest, startEcho, startGateway, type RunningGateway } from './cli-harness.js';
import { waitFor } from './kubernetes-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

const KEY_A = 'test-key-acme-0123456789';
const KEY_T = 'test-key-tiny-9876543210';
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

function config(echoPort: number): string {
  return `${gatewayAndService(echoPort)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: limited, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /limited}}], backendRefs: [{name: api, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /other}}], backendRefs: [{name: api, port: 80}]}]
---
apiVersion: isthmus.dev/v1alpha1
kind: Plan
metadata: {name: big, namespace: default}
spec: {quota: {requestsPerDay: 100000}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Plan
metadata: {name: tiny, namespace: default}
spec: {quota: {requestsPerDay: 3}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec: {plan: big, apiKeys: [{secretRef: {name: acme-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-key, namespace: default}
stringData: {sha256: ${sha(KEY_A)}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: tiny, namespace: default}
spec: {plan: tiny, apiKeys: [{secretRef: {name: tiny-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: tiny-key, namespace: default}
stringData: {sha256: ${sha(KEY_T)}}
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  methods: {apiKey: {header: x-api-key}}
---
apiVersion: isthmus.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: limited, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: limited}]
  limits: [{requests: 10, period: 1m, by: {kind: route}, scope: global}]
  onStoreFailure: open
`;
}

test('two gateways share one Redis: one global limit, one quota; Redis down fails open; recovery is automatic', async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, { 'apim.yaml': config(echo.port) });
  const args = ['--redis-url', redis.url, '--redis-timeout', '100'];
  const a = await startGateway(t, { config: [dir], extraArgs: args });
  const b = await startGateway(t, { config: [dir], extraArgs: args });
  const get = (gw: RunningGateway, p: string, key: string) => httpRequest({ port: gw.httpPort, path: p, headers: { host: 'x.example', 'x-api-key': key } });

  // 12 requests to /limited, alternating between the replicas: exactly 10 pass (10 a minute, global).
  const global = async (): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < 12; i++) out.push((await get(i % 2 === 0 ? a : b, '/limited', KEY_A)).status);
    return out;
  };
  const first = await global();
  assert.equal(first.filter((s) => s === 200).length, 10, `statuses ${first.join(',')}`);
  assert.equal(first.filter((s) => s === 429).length, 2);

  // The tiny plan's quota (3 a day) is shared too: a, b, a pass; b refuses, naming the quota.
  const quota = [await get(a, '/other', KEY_T), await get(b, '/other', KEY_T), await get(a, '/other', KEY_T), await get(b, '/other', KEY_T)];
  assert.deepEqual(quota.map((r) => r.status), [200, 200, 200, 429]);
  const refusal = JSON.parse(quota[3]!.body) as { reason: string; message: string; resetsAt?: string };
  assert.match(JSON.stringify(refusal), /plan\/default\/tiny\/day/);
  assert.match(JSON.stringify(refusal), /\d{4}-\d\d-\d\dT00:00:00/, 'says when the quota resets (next UTC midnight)');

  // Redis dies: fail open. Every request is answered (no 5xx), none waits long.
  await redis.stop('SIGKILL');
  let slowest = 0;
  const during: number[] = [];
  for (let i = 0; i < 8; i++) {
    const started = performance.now();
    during.push((await get(i % 2 === 0 ? a : b, '/other', KEY_A)).status);
    slowest = Math.max(slowest, performance.now() - started);
  }
  assert.deepEqual(during, Array(8).fill(200), 'fail open: served under local limits');
  assert.ok(slowest < 1000, `a request waited ${slowest.toFixed(0)} ms with Redis down (timeout 100 ms)`);
  await waitFor('the outage in the log', () => (/redis counter store: unavailable/.test(a.stderr()) ? true : undefined));
  const metrics = (await httpRequest({ port: a.adminPort, path: '/metrics' })).body;
  assert.match(metrics, /isthmus_shared_store_failures_total [1-9]/);

  // Redis is back (empty): the replicas reconnect by themselves and count together again.
  await redis.restart();
  await waitFor('both replicas answering from Redis again', async () => {
    await get(a, '/other', KEY_A);
    await get(b, '/other', KEY_A);
    return /answering again/.test(a.stderr()) && /answering again/.test(b.stderr()) ? true : undefined;
  }, 15_000);
  const after = await global();
  assert.equal(after.filter((s) => s === 200).length, 10, `after recovery ${after.join(',')}`);
});
