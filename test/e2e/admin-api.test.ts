// The admin API and the access log of a running `isthmus run`: statuses, applied config, upstreams,
// Prometheus metrics after real traffic, and `--access-log PATH` with one JSON line per request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  adminJson,
  configDir,
  get,
  httpRequest,
  ingressYaml,
  metricValue,
  pollUntil,
  serviceYaml,
  startEcho,
  startGateway,
} from './cli-harness.js';

const HOST = 'admin.test';

interface AccessLine {
  readonly method?: string;
  readonly host?: string;
  readonly path?: string;
  readonly status?: number;
  readonly route?: string | null;
  readonly cluster?: string | null;
  readonly upstream?: string | null;
  readonly duration_ms?: number;
  readonly details?: string | null;
  readonly request_id?: string;
}

test('admin API, metrics and --access-log PATH of a running gateway', async (t) => {
  const web = await startEcho(t, '127.0.0.2', 'web');
  const api = await startEcho(t, '127.0.0.3', 'api');
  const dir = configDir(t, {
    'services.yaml': `${serviceYaml(web)}---\n${serviceYaml(api)}`,
    'ingress.yaml': ingressYaml('site', HOST, [
      { path: '/', service: 'web' },
      { path: '/api', service: 'api' },
    ]),
  });
  const accessLog = path.join(dir, 'logs-access.jsonl');
  const gateway = await startGateway(t, { config: [dir], accessLog });

  await t.test('/api/status lists the Ingress with status.loadBalancer', async () => {
    const statuses = await adminJson(gateway.adminPort, '/api/status');
    assert.deepEqual(statuses, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        namespace: 'default',
        name: 'site',
        status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
      },
    ]);
  });

  await t.test('/api/config has the listeners, virtual hosts and routes', async () => {
    const config = (await adminJson(gateway.adminPort, '/api/config')) as {
      generation: number;
      listeners: Array<{ protocol: string; port: number; virtualHosts: Array<{ hostnames: string[]; routes: Array<{ name: string }> }> }>;
      clusters: Array<{ name: string }>;
    };
    assert.equal(config.generation, 1);
    const http = config.listeners.find((l) => l.protocol === 'http');
    assert.ok(http, JSON.stringify(config.listeners));
    assert.equal(http.port, 80, 'the IR keeps the logical port; --http-port maps it');
    const vhost = http.virtualHosts.find((v) => v.hostnames.includes(HOST));
    assert.ok(vhost);
    assert.deepEqual(vhost.routes.map((r) => r.name).sort(), ['ingress/default/site/rule/0/path/0', 'ingress/default/site/rule/0/path/1']);
    assert.deepEqual(config.clusters.map((c) => c.name).sort(), ['service/default/api/80', 'service/default/web/80']);
    assert.equal(config.listeners.some((l) => l.protocol === 'https'), false, 'no TLS section, no https listener');
  });

  // Traffic for the metrics and the access log: 3 to web, 2 to api, 1 without a route.
  for (let i = 0; i < 3; i++) assert.equal((await get(gateway.httpPort, `/page/${i}`, HOST)).name, 'web');
  for (let i = 0; i < 2; i++) assert.equal((await get(gateway.httpPort, `/api/items/${i}?id=${i}`, HOST)).name, 'api');
  const miss = await get(gateway.httpPort, '/', 'nobody.test');
  assert.equal(miss.status, 404);
  assert.match(miss.body, /no_route/);

  await t.test('/api/upstreams lists the clusters with their endpoints', async () => {
    const view = (await adminJson(gateway.adminPort, '/api/upstreams')) as {
      clusters: Array<{ name: string; endpoints: Array<{ address: string; port: number; healthy: boolean; totalRequests: number }> }>;
    };
    const byName = new Map(view.clusters.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), ['service/default/api/80', 'service/default/web/80']);
    const [webEndpoint] = byName.get('service/default/web/80')?.endpoints ?? [];
    assert.deepEqual(
      { address: webEndpoint?.address, port: webEndpoint?.port, healthy: webEndpoint?.healthy, totalRequests: webEndpoint?.totalRequests },
      { address: '127.0.0.2', port: web.port, healthy: true, totalRequests: 3 },
    );
    const [apiEndpoint] = byName.get('service/default/api/80')?.endpoints ?? [];
    assert.equal(apiEndpoint?.address, '127.0.0.3');
    assert.equal(apiEndpoint?.port, api.port);
  });

  await t.test('/metrics counts requests by route and status class, and config applies', async () => {
    const res = await httpRequest({ port: gateway.adminPort, path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const value = (series: string): Promise<number | undefined> => metricValue(gateway.adminPort, series);
    assert.equal(await value('isthmus_requests_total{route="ingress/default/site/rule/0/path/0",status_class="2xx"}'), 3);
    assert.equal(await value('isthmus_requests_total{route="ingress/default/site/rule/0/path/1",status_class="2xx"}'), 2);
    assert.equal(await value('isthmus_requests_total{route="none",status_class="4xx"}'), 1);
    assert.equal(await value('isthmus_request_duration_seconds_count{route="ingress/default/site/rule/0/path/0"}'), 3);
    assert.equal(await value('isthmus_config_applies_total{outcome="applied"}'), 1);
    assert.equal(await value('isthmus_config_applies_total{outcome="rejected"}'), 0);
    assert.match(res.body, /^process_cpu_user_seconds_total /m, 'default process metrics');
  });

  await t.test('--access-log PATH: one JSON line per request with route, status, upstream, duration', async () => {
    // pino flushes its buffer at least once a second.
    const lines = await pollUntil('6 access log lines', async () => {
      if (!existsSync(accessLog)) return undefined;
      const text = readFileSync(accessLog, 'utf8');
      const complete = text.split('\n').filter((l) => l !== '');
      return complete.length >= 6 && text.endsWith('\n') ? complete : undefined;
    }, 3000, 50);
    assert.equal(lines.length, 6, lines.join('\n'));
    const entries = lines.map((l) => JSON.parse(l) as AccessLine);
    const pages = entries.filter((e) => e.path?.startsWith('/page/'));
    assert.equal(pages.length, 3);
    for (const e of pages) {
      assert.equal(e.status, 200);
      assert.equal(e.method, 'GET');
      assert.equal(e.host, HOST);
      assert.equal(e.route, 'ingress/default/site/rule/0/path/0');
      assert.equal(e.cluster, 'service/default/web/80');
      assert.equal(e.upstream, `127.0.0.2:${web.port}`);
      assert.equal(typeof e.duration_ms, 'number');
      assert.ok((e.duration_ms ?? -1) >= 0);
      assert.equal(typeof e.request_id, 'string');
    }
    const apiEntry = entries.find((e) => e.path?.startsWith('/api/items/0'));
    assert.equal(apiEntry?.upstream, `127.0.0.3:${api.port}`);
    const missEntry = entries.find((e) => e.host === 'nobody.test');
    assert.equal(missEntry?.status, 404);
    assert.equal(missEntry?.details, 'no_route');
    assert.equal(missEntry?.upstream, null);
    assert.equal(gateway.stdout(), '', 'with a file, nothing is logged to stdout');
  });

  await t.test(
    'the access log path is the request target, query included (docs/observability.md)',
    () => {
      const entries = readFileSync(accessLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AccessLine);
      assert.ok(entries.some((e) => e.path === '/api/items/1?id=1'), entries.map((e) => e.path).join(', '));
    },
  );

  await t.test('the admin API is read-only and says what it serves', async () => {
    const post = await httpRequest({ port: gateway.adminPort, path: '/api/config', method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    const unknown = await httpRequest({ port: gateway.adminPort, path: '/api/nothing' });
    assert.equal(unknown.status, 404);
    const index = (await adminJson(gateway.adminPort, '/')) as { endpoints: Record<string, string> };
    for (const p of ['/ready', '/api/config', '/api/diagnostics', '/api/status', '/api/upstreams', '/metrics']) assert.ok(p in index.endpoints, p);
  });
});

test('--access-log stdout (the default) writes one JSON line per request to stdout, logs to stderr', async (t) => {
  const web = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, { 'all.yaml': `${serviceYaml(web)}---\n${ingressYaml('site', HOST, [{ path: '/', service: 'web' }])}` });
  const gateway = await startGateway(t, { config: [dir], accessLog: 'stdout' });
  assert.equal((await get(gateway.httpPort, '/one', HOST)).status, 200);
  assert.equal((await get(gateway.httpPort, '/two', HOST)).status, 200);
  const lines = await pollUntil('2 lines on stdout', async () => {
    const complete = gateway.stdout().split('\n').filter((l) => l !== '');
    return complete.length >= 2 ? complete : undefined;
  }, 3000, 50);
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as AccessLine).path), ['/one', '/two']);
  assert.match(gateway.stderr(), /config generation 1 applied/);
  assert.doesNotMatch(gateway.stderr(), /"request_id"/);
});
