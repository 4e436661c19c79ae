// `isthmus run --workers 2`: a real primary and two cluster workers on loopback. Which worker served
// a request is read from the access log's `worker` field; readiness, metrics and reloads from the
// primary's admin API; restarts and the drain from the process itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gatewayAndService, gatewayWithListeners } from './gateway-fixture.js';
import { adminJson, configDir, freePorts, get, httpRequest, ingressYaml, pollUntil, serviceYaml, sleep, startCli, startEcho, startGateway, takenPort, type RunningGateway } from './cli-harness.js';
import { availableParallelism } from 'node:os';

const HOST = 'workers.test';

interface Readiness {
  readonly ready: boolean;
  readonly generation: number | null;
  readonly workers: readonly { readonly worker: number; readonly pid: number; readonly generation: number | null }[];
}

interface LogLine {
  readonly path: string;
  readonly status: number;
  readonly worker?: number;
}

async function readiness(adminPort: number): Promise<{ status: number; body: Readiness }> {
  const res = await httpRequest({ port: adminPort, path: '/ready' });
  return { status: res.status, body: JSON.parse(res.body) as Readiness };
}

function logLines(file: string): LogLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

/** `count` GETs, `parallel` at a time, each on its own connection (the kernel picks the accepting worker per connection). */
async function burst(gateway: RunningGateway, urlPath: string, count: number, parallel = 8): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next++;
        statuses.push((await get(gateway.httpPort, urlPath, HOST)).status);
      }
    }),
  );
  return statuses;
}

function byWorker(lines: readonly LogLine[], pathPrefix: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const l of lines) if (l.path.startsWith(pathPrefix) && l.worker !== undefined) counts.set(l.worker, (counts.get(l.worker) ?? 0) + 1);
  return counts;
}

async function requestsTotal(adminPort: number): Promise<number> {
  const res = await httpRequest({ port: adminPort, path: '/metrics' });
  assert.equal(res.status, 200, res.body);
  return res.body
    .split('\n')
    .filter((l) => l.startsWith('isthmus_requests_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('--workers 2: both workers serve, /ready lists both generations, /metrics sums them, a reload reaches both, a killed worker is restarted, SIGTERM drains', async (t) => {
  const web = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, {
    'web.yaml': serviceYaml(web),
    'ingress.yaml': ingressYaml('web', HOST, [{ path: '/', service: 'web' }]),
  });
  const accessLog = path.join(dir, 'access.log.jsonl'); // not *.yaml: the source ignores it
  const gateway = await startGateway(t, { config: [dir], accessLog, extraArgs: ['--workers', '2'] });

  // /ready: 200 with both workers on the applied generation.
  const ready = await readiness(gateway.adminPort);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.workers.length, 2, JSON.stringify(ready.body));
  assert.deepEqual(ready.body.workers.map((w) => w.worker), [1, 2]);
  for (const w of ready.body.workers) assert.equal(w.generation, ready.body.generation);
  assert.notEqual(ready.body.workers[0]!.pid, ready.body.workers[1]!.pid);

  // Many connections: both workers answer, and the summed request counter is exactly what was sent.
  const sent = 120;
  const statuses = await burst(gateway, '/first', sent);
  assert.deepEqual(new Set(statuses), new Set([200]));
  const served = await pollUntil('every request in the access log', async () => {
    const lines = logLines(accessLog);
    return lines.length >= sent ? lines : undefined;
  }, 5000, 50);
  const first = byWorker(served, '/first');
  t.diagnostic(`requests per worker: ${JSON.stringify([...first])}`);
  assert.ok((first.get(1) ?? 0) > 0 && (first.get(2) ?? 0) > 0, `both workers served: ${JSON.stringify([...first])}`);
  // Polled: a request's counter is bumped as it ends, a moment after its client has the response.
  const counted = await pollUntil('the summed counter to reach the requests sent', async () => {
    const n = await requestsTotal(gateway.adminPort);
    return n >= sent ? n : undefined;
  }, 5000, 50);
  assert.equal(counted, sent, 'summed across workers, each request once');
  // /api/upstreams merges the workers' endpoint state: the endpoint's request count is the total too.
  const upstreams = (await adminJson(gateway.adminPort, '/api/upstreams')) as { workers: number; clusters: { endpoints: { port: number; totalRequests: number; healthy: boolean }[] }[] };
  assert.equal(upstreams.workers, 2);
  const endpoint = upstreams.clusters.flatMap((c) => c.endpoints).find((e) => e.port === web.port);
  assert.equal(endpoint?.totalRequests, sent, JSON.stringify(upstreams));
  assert.equal(endpoint?.healthy, true);

  // A config change reloads in both: the new route answers from each worker.
  writeFileSync(path.join(dir, 'ingress.yaml'), ingressYaml('web', HOST, [{ path: '/', service: 'web' }, { path: '/new', service: 'web', pathType: 'Exact' }]));
  const reloaded = await pollUntil('generation 2 on both workers', async () => {
    const r = await readiness(gateway.adminPort);
    return r.status === 200 && r.body.generation !== ready.body.generation ? r.body : undefined;
  }, 10_000, 50);
  for (const w of reloaded.workers) assert.equal(w.generation, reloaded.generation);
  const config = (await adminJson(gateway.adminPort, '/api/config')) as { listeners: { virtualHosts: { routes: { name: string }[] }[] }[] };
  assert.ok(JSON.stringify(config).includes('/new'), 'the primary serves the new IR');
  assert.deepEqual(new Set(await burst(gateway, '/new', 60)), new Set([200]));
  const fresh = await pollUntil('the /new requests in the access log', async () => {
    const counts = byWorker(logLines(accessLog), '/new');
    return [...counts.values()].reduce((a, b) => a + b, 0) >= 60 ? counts : undefined;
  }, 5000, 50);
  assert.ok((fresh.get(1) ?? 0) > 0 && (fresh.get(2) ?? 0) > 0, `the new route answered from both workers: ${JSON.stringify([...fresh])}`);

  // SIGKILL one worker: the primary says so and restarts it; traffic flows; /ready comes back with a new pid.
  const victim = reloaded.workers[0]!;
  process.kill(victim.pid, 'SIGKILL');
  await pollUntil('the primary to log the exit', async () => (new RegExp(`worker 1 \\(pid ${victim.pid}\\) exited \\(signal SIGKILL\\); restarting`).test(gateway.stderr()) ? true : undefined), 5000, 20);
  const during = await burst(gateway, '/new', 30);
  assert.deepEqual(new Set(during), new Set([200]), 'the surviving worker keeps serving');
  const back = await pollUntil('/ready 200 with the restarted worker', async () => {
    const r = await readiness(gateway.adminPort);
    return r.status === 200 && r.body.workers.length === 2 && !r.body.workers.some((w) => w.pid === victim.pid) ? r.body : undefined;
  }, 10_000, 50);
  for (const w of back.workers) assert.equal(w.generation, reloaded.generation, 'the new worker got the current IR');
  assert.deepEqual(new Set(await burst(gateway, '/new', 30)), new Set([200]));

  // SIGTERM with a slow request in flight: it completes, then the process exits 0.
  const slow = get(gateway.httpPort, '/slow?delay=800', HOST);
  await sleep(300);
  gateway.child.kill('SIGTERM');
  const res = await slow;
  assert.equal(res.status, 200, res.body);
  assert.equal(res.name, 'web');
  const { code, signal } = await gateway.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, gateway.stderr());
  assert.match(gateway.stderr(), /isthmus: stopped\n/);
  assert.doesNotMatch(gateway.stderr(), /requests cut at the deadline/);
  assert.ok(logLines(accessLog).some((l) => l.path.startsWith('/slow') && l.status === 200), 'the drained request was logged');
});

test('--workers 2: a first configuration whose port is taken stops start-up as in one process', async (t) => {
  const taken = await takenPort(t);

  const web = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, { 'web.yaml': serviceYaml(web), 'ingress.yaml': ingressYaml('web', HOST, [{ path: '/', service: 'web' }]) });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--workers', '2', '--port-map', `80=${taken}`] }).catch((err: Error) => err);
  // The first configuration itself needs the taken port: start-up fails as in one process.
  assert.ok(gateway instanceof Error, 'the gateway must not start on a port another process holds');
  assert.match(gateway.message, /cannot start: .*(in use|EADDRINUSE)/s);
});

test('--workers 2: a change whose new port is taken is rejected on every worker; both keep the last good generation', async (t) => {
  const taken = await takenPort(t);

  const web = await startEcho(t, '127.0.0.2', 'web');
  const gatewayYaml = (listeners: string): string => gatewayWithListeners(listeners, HOST);
  const dir = configDir(t, { 'web.yaml': serviceYaml(web), 'gateway.yaml': gatewayYaml('{name: http, port: 80, protocol: HTTP}') });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--workers', '2', '--port-map', `8081=${taken}`] });
  const before = await readiness(gateway.adminPort);

  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYaml('{name: http, port: 80, protocol: HTTP}, {name: extra, port: 8081, protocol: HTTP}'));
  const diagnostics = await pollUntil('the change to be rejected', async () => {
    const d = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; text: string }[];
    return d.some((x) => x.code === 'ERR_CONFIG_REJECTED') ? d : undefined;
  }, 10_000, 50);
  assert.ok(diagnostics.some((d) => d.code === 'ERR_LISTENER_BIND' && /cannot listen/.test(d.text)), JSON.stringify(diagnostics));
  const after = await readiness(gateway.adminPort);
  assert.equal(after.status, 200, 'still ready on the last good configuration');
  assert.equal(after.body.generation, before.body.generation);
  for (const w of after.body.workers) assert.equal(w.generation, before.body.generation);
  assert.deepEqual(new Set(await burst(gateway, '/', 20)), new Set([200]), 'the last good configuration serves on');
});

test('--workers 2: /api/usage counts every metered request once, at once (workers hand their counts to the primary), and after a restart from the state file', async (t) => {
  const api = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, {
    'api.yaml': `${gatewayAndService(api.port)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: v1, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /v1}}], backendRefs: [{name: api, port: 80}]}]
---
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: orders, namespace: default}
spec:
  versions: [{name: v1, stage: published, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: v1}]}]
`,
  });
  const stateDir = path.join(dir, 'state');
  const accessLog = path.join(dir, 'access.log.jsonl');
  const args = ['--workers', '2', '--state-dir', stateDir];
  const usageTotal = async (gw: RunningGateway): Promise<number> => {
    const report = (await adminJson(gw.adminPort, '/api/usage')) as { usage: { api: string; version: string; count: number }[] };
    return report.usage.filter((r) => r.api === 'api/default/orders' && r.version === 'v1').reduce((n, r) => n + r.count, 0);
  };
  const first = await startGateway(t, { config: [dir], accessLog, extraArgs: args });
  const sent = 50;
  assert.deepEqual(new Set(await burst(first, '/v1/orders', sent)), new Set([200]));
  const served = await pollUntil('every request in the access log', async () => {
    const counts = byWorker(logLines(accessLog), '/v1/orders');
    return [...counts.values()].reduce((a, b) => a + b, 0) >= sent ? counts : undefined;
  }, 5000, 50);
  assert.ok((served.get(1) ?? 0) > 0 && (served.get(2) ?? 0) > 0, `both workers metered: ${JSON.stringify([...served])}`);
  // Well within the 10 s flush interval: the primary asked the workers for their counts first.
  assert.equal(await usageTotal(first), sent);
  assert.equal(await usageTotal(first), sent, 'asking again counts nothing twice');

  first.child.kill('SIGTERM');
  assert.equal((await first.exited).code, 0, first.stderr());
  const second = await startGateway(t, { config: [dir], extraArgs: args });
  assert.equal(await usageTotal(second), sent, 'the state file the primary wrote holds every count once');
});

test('without --workers, run serves from one worker per core (auto is the default)', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'web');
  const dir = configDir(t, { 'service.yaml': serviceYaml(echo), 'ingress.yaml': ingressYaml('web', HOST, [{ path: '/', service: 'web' }]) });
  const [http, https, admin] = (await freePorts(3)) as [number, number, number];
  const cli = await startCli(t, ['run', '--config', dir, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', 'off'], /admin on 127\.0\.0\.1:\d+/);
  const cores = availableParallelism();
  const ready = await pollUntil('ready', async () => {
    const r = await readiness(admin);
    return r.status === 200 ? r.body : undefined;
  });
  if (cores > 1) {
    assert.match(cli.stderr(), new RegExp(`with ${cores} workers`));
    assert.equal(ready.workers.length, cores, JSON.stringify(ready));
  } else {
    assert.equal(ready.workers, undefined, 'one core: one process, no cluster');
  }
  const res = await get(http, '/', HOST);
  assert.equal(res.status, 200);
});
