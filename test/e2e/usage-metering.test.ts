// Usage metering through the real gateway: requests by two consumers (and one without a key) to
// two versions of an API are counted per consumer, API, version, plan and status class; GET
// /api/usage serves them as JSON and CSV, /metrics as isthmus_api_requests_total; the counts
// survive a SIGTERM and a restart with the same --state-dir; with --redis-url two gateways' counts
// add up in one report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisServer } from '../support/redis-server.js';
import { configDir, httpRequest, startEcho, startGateway, type RunningGateway } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

const KEY_ACME = 'test-key-acme-usage-0123';
const KEY_GLOBEX = 'test-key-globex-usage-4567';
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

function config(echoPort: number): string {
  return `${gatewayAndService(echoPort)}---
${['v1', 'v2', 'plain']
  .map(
    (name) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /${name}}}], backendRefs: [{name: api, port: 80}]}]
---`,
  )
  .join('\n')}
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: orders, namespace: default}
spec:
  versions:
    - {name: v1, stage: deprecated, successor: v2, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: v1}]}
    - {name: v2, stage: published, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: v2}]}
---
apiVersion: isthmus.dev/v1alpha1
kind: Plan
metadata: {name: gold, namespace: default}
spec: {quota: {requestsPerDay: 100000}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec: {plan: gold, apiKeys: [{secretRef: {name: acme-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-key, namespace: default}
stringData: {sha256: ${sha(KEY_ACME)}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: globex, namespace: default}
spec: {apiKeys: [{secretRef: {name: globex-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: globex-key, namespace: default}
stringData: {sha256: ${sha(KEY_GLOBEX)}}
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: v1}
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: v2}
  methods: {apiKey: {header: x-api-key}}
`;
}

interface Row {
  hour: string;
  consumer: string;
  api: string;
  version: string;
  plan: string;
  statusClass: string;
  count: number;
}

interface Report {
  from: string | null;
  to: string | null;
  total: number;
  usage: Row[];
}

async function usage(gw: RunningGateway, query = ''): Promise<Report> {
  const reply = await httpRequest({ port: gw.adminPort, path: `/api/usage${query}` });
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as Report;
}

/** `consumer version plan class=count`, summed over hours (a test may straddle one). */
function cells(report: Report): string[] {
  const sums = new Map<string, number>();
  for (const r of report.usage) {
    assert.equal(r.api, 'api/default/orders');
    const key = `${r.consumer} ${r.version} ${r.plan || '-'} ${r.statusClass}`;
    sums.set(key, (sums.get(key) ?? 0) + r.count);
  }
  return [...sums].map(([k, n]) => `${k}=${n}`).sort();
}

async function send(gw: RunningGateway, urlPath: string, key: string | undefined, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const reply = await httpRequest({ port: gw.httpPort, path: urlPath, headers: { host: 'x.example', ...(key === undefined ? {} : { 'x-api-key': key }) } });
    assert.equal(reply.status, key === undefined && urlPath !== '/plain' ? 401 : 200, `${urlPath} ${reply.body}`);
  }
}

const EXPECTED = [
  'anonymous v1 - 4xx=1',
  'default/acme v1 default/gold 2xx=3',
  'default/acme v2 default/gold 2xx=2',
  'default/globex v2 - 2xx=4',
];

test('usage per consumer, version, plan and status class: /api/usage JSON and CSV, /metrics; kept across a restart', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, { 'apim.yaml': config(echo.port) });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'isthmus-usage-e2e-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const args = ['--state-dir', stateDir];
  const gw = await startGateway(t, { config: [dir], extraArgs: args });

  await send(gw, '/v1/orders', KEY_ACME, 3);
  await send(gw, '/v2/orders', KEY_ACME, 2);
  await send(gw, '/v2/orders', KEY_GLOBEX, 4);
  await send(gw, '/v1/orders', undefined, 1);
  await send(gw, '/plain', undefined, 2); // no API version, no consumer: not metered

  const report = await usage(gw);
  assert.deepEqual(cells(report), EXPECTED);
  assert.equal(report.total, 10);
  assert.match(report.usage[0]!.hour, /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);

  // Filters: one consumer; one version; a range that holds nothing; a bad time is a 400.
  assert.deepEqual(cells(await usage(gw, '?consumer=default/globex')), ['default/globex v2 - 2xx=4']);
  assert.deepEqual(cells(await usage(gw, '?api=api/default/orders&version=v1')), ['anonymous v1 - 4xx=1', 'default/acme v1 default/gold 2xx=3']);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const empty = await usage(gw, `?from=${tomorrow}`);
  assert.deepEqual(empty.usage, []);
  assert.equal(empty.from, `${tomorrow}T00:00:00Z`);
  assert.deepEqual(cells(await usage(gw, `?to=${tomorrow}`)), EXPECTED);
  const bad = await httpRequest({ port: gw.adminPort, path: '/api/usage?from=yesterday' });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /RFC 3339/);

  // CSV: a header row, then one row per cell.
  const csv = await httpRequest({ port: gw.adminPort, path: '/api/usage?format=csv&consumer=default/acme' });
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  const lines = csv.body.trimEnd().split('\r\n');
  assert.equal(lines[0], 'hour,consumer,api,version,plan,status_class,count');
  const csvSums = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const [hour, consumer, api, version, plan, cls, count] = line.split(',');
    assert.match(hour!, /T\d\d:00:00Z$/);
    const key = [consumer, api, version, plan, cls].join(',');
    csvSums.set(key, (csvSums.get(key) ?? 0) + Number(count));
  }
  assert.deepEqual([...csvSums].sort(), [
    ['default/acme,api/default/orders,v1,default/gold,2xx', 3],
    ['default/acme,api/default/orders,v2,default/gold,2xx', 2],
  ]);

  // Prometheus: the same counts, since process start.
  const metrics = (await httpRequest({ port: gw.adminPort, path: '/metrics' })).body;
  assert.match(metrics, /^isthmus_api_requests_total\{consumer="default\/acme",api="api\/default\/orders",version="v1",plan="default\/gold",status_class="2xx"\} 3$/m);
  assert.match(metrics, /^isthmus_api_requests_total\{consumer="default\/globex",api="api\/default\/orders",version="v2",plan="",status_class="2xx"\} 4$/m);
  assert.match(metrics, /^isthmus_api_requests_total\{consumer="anonymous",api="api\/default\/orders",version="v1",plan="",status_class="4xx"\} 1$/m);
  assert.doesNotMatch(metrics, /isthmus_api_requests_total\{[^}]*version=""/, 'the plain route is not metered');

  // One more request, then SIGTERM: the drain's last flush writes it to the state file.
  await send(gw, '/v2/orders', KEY_GLOBEX, 1);
  gw.child.kill('SIGTERM');
  assert.deepEqual(await gw.exited, { code: 0, signal: null });
  const file = JSON.parse(readFileSync(path.join(stateDir, 'usage.json'), 'utf8')) as Record<string, Record<string, number>>;
  const globexV2 = Object.values(file).reduce((n, hour) => n + (hour['default/globex|api/default/orders|v2||2xx'] ?? 0), 0);
  assert.equal(globexV2, 5);

  // A new process on the same --state-dir reports them, and adds to them.
  const again = await startGateway(t, { config: [dir], extraArgs: args });
  await send(again, '/v1/orders', KEY_ACME, 1);
  assert.deepEqual(cells(await usage(again)), [
    'anonymous v1 - 4xx=1',
    'default/acme v1 default/gold 2xx=4',
    'default/acme v2 default/gold 2xx=2',
    'default/globex v2 - 2xx=5',
  ]);
});

test('with --redis-url two gateways meter into one report', async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, { 'apim.yaml': config(echo.port) });
  const args = ['--redis-url', redis.url];
  const [a, b] = await Promise.all([startGateway(t, { config: [dir], extraArgs: args }), startGateway(t, { config: [dir], extraArgs: args })]);

  await send(a, '/v1/orders', KEY_ACME, 2);
  await send(b, '/v1/orders', KEY_ACME, 1);
  await send(b, '/v2/orders', KEY_ACME, 2);
  await send(a, '/v2/orders', KEY_GLOBEX, 1);
  await send(b, '/v2/orders', KEY_GLOBEX, 3);
  await send(a, '/v1/orders', undefined, 1);

  // Each report flushes its own gateway first: b's report puts b's counts in Redis, then a's
  // report holds both (a's counts, flushed now, and b's).
  await usage(b);
  assert.deepEqual(cells(await usage(a)), EXPECTED);
  // b, asked again, sees a's counts too.
  assert.deepEqual(cells(await usage(b)), EXPECTED);
  // Each /metrics is its own process's.
  const metricsB = (await httpRequest({ port: b.adminPort, path: '/metrics' })).body;
  assert.match(metricsB, /^isthmus_api_requests_total\{consumer="default\/globex",api="api\/default\/orders",version="v2",plan="",status_class="2xx"\} 3$/m);
});
