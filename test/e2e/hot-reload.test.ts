// Hot reload through the real command: a changed file takes effect within a second, no request is
// dropped while the config is rewritten, an invalid change (a file that does not parse) is rejected
// whole while the last good configuration keeps serving, and a change that parses but names
// something missing is applied piecemeal: only the broken path or backendRef is left out.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  adminJson,
  appliedGeneration,
  configDir,
  get,
  ingressYaml,
  metricValue,
  pollUntil,
  serviceYaml,
  sleep,
  startEcho,
  startGateway,
  type RunningGateway,
} from './cli-harness.js';

const HOST = 'reload.test';

interface Setup {
  readonly gateway: RunningGateway;
  readonly ingressFile: string;
  /** Rewrites the Ingress so `/` goes to Service `target`. */
  pointAt(target: string): void;
}

/** Two echo backends (Services `alpha`, `beta`) and an Ingress sending HOST/ to alpha. */
async function setup(t: TestContext): Promise<Setup> {
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const beta = await startEcho(t, '127.0.0.3', 'beta');
  const dir = configDir(t, {
    'services.yaml': `${serviceYaml(alpha)}---\n${serviceYaml(beta)}`,
    'ingress.yaml': ingressYaml('reload', HOST, [{ path: '/', service: 'alpha' }]),
  });
  const gateway = await startGateway(t, { config: [dir] });
  const ingressFile = path.join(dir, 'ingress.yaml');
  return {
    gateway,
    ingressFile,
    pointAt: (target) => writeFileSync(ingressFile, ingressYaml('reload', HOST, [{ path: '/', service: target }])),
  };
}

test('a changed Ingress file takes effect within a second', async (t) => {
  const { gateway, pointAt } = await setup(t);
  const before = await get(gateway.httpPort, '/hello', HOST);
  assert.equal(before.status, 200, before.body);
  assert.equal(before.name, 'alpha');

  const written = performance.now();
  pointAt('beta');
  const elapsedMs = await pollUntil(
    'the route to follow the file',
    async () => ((await get(gateway.httpPort, '/hello', HOST)).name === 'beta' ? performance.now() - written : undefined),
    3000,
    20,
  );
  t.diagnostic(`write → first request served by the new Service: ${elapsedMs.toFixed(0)} ms`);
  assert.ok(elapsedMs < 1000, `took ${elapsedMs.toFixed(0)} ms`);
  // It stays changed (not a transient mix of old and new routers).
  for (let i = 0; i < 5; i++) assert.equal((await get(gateway.httpPort, '/hello', HOST)).name, 'beta');
});

test('new, replaced (rename over), deleted files and sub-folders each take effect within a second', async (t) => {
  const { gateway, ingressFile } = await setup(t);
  const dir = path.dirname(ingressFile);
  const statusOf = async (host: string): Promise<number> => (await get(gateway.httpPort, '/', host)).status;
  const expectWithinASecond = async (what: string, host: string, status: number): Promise<void> => {
    const started = performance.now();
    await pollUntil(`${what}: ${host} → ${status}`, async () => ((await statusOf(host)) === status ? true : undefined), 1000);
    t.diagnostic(`${what}: ${(performance.now() - started).toFixed(0)} ms`);
  };
  const second = (host: string): string => ingressYaml('second', host, [{ path: '/', service: 'beta' }]);

  writeFileSync(path.join(dir, 'second.yml'), second('two.test'));
  await expectWithinASecond('a new file', 'two.test', 200);
  // Editors save by writing a temporary file and renaming it over the old one.
  writeFileSync(path.join(dir, '.second.yml.swp'), second('deux.test'));
  renameSync(path.join(dir, '.second.yml.swp'), path.join(dir, 'second.yml'));
  await expectWithinASecond('a file replaced by rename', 'deux.test', 200);
  assert.equal(await statusOf('two.test'), 404, 'the old host is gone');
  unlinkSync(path.join(dir, 'second.yml'));
  await expectWithinASecond('a deleted file', 'deux.test', 404);
  mkdirSync(path.join(dir, 'team', 'nested'), { recursive: true });
  writeFileSync(path.join(dir, 'team', 'nested', 'third.json'), JSON.stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'third', namespace: 'default' },
    spec: { defaultBackend: { service: { name: 'beta', port: { number: 80 } } } },
  }));
  await expectWithinASecond('a JSON file in a new sub-folder', 'anything.test', 200);
  rmSync(path.join(dir, 'team'), { recursive: true });
  await expectWithinASecond('a removed sub-folder', 'anything.test', 404);
  assert.equal((await get(gateway.httpPort, '/', HOST)).name, 'alpha', 'the untouched Ingress served throughout');
});

test('no request is dropped while the configuration is rewritten 5 times', async (t) => {
  const { gateway, pointAt } = await setup(t);
  const generationBefore = await appliedGeneration(gateway.adminPort);
  const durationMs = 3000;
  const stopAt = performance.now() + durationMs;
  const failures: string[] = [];
  const seen = new Map<string, number>();
  const agents = Array.from({ length: 4 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  t.after(() => agents.forEach((a) => a.destroy()));

  const loop = async (agent: http.Agent): Promise<void> => {
    while (performance.now() < stopAt) {
      try {
        const res = await get(gateway.httpPort, '/loop', HOST, agent);
        if (res.status !== 200 || (res.name !== 'alpha' && res.name !== 'beta')) failures.push(`${res.status} ${res.body.slice(0, 200)}`);
        else seen.set(res.name, (seen.get(res.name) ?? 0) + 1);
      } catch (error) {
        failures.push(`connection error: ${(error as Error).message}`);
      }
    }
  };
  const writer = async (): Promise<void> => {
    for (const target of ['beta', 'alpha', 'beta', 'alpha', 'beta']) {
      await sleep(450);
      pointAt(target);
    }
  };
  await Promise.all([...agents.map(loop), writer()]);

  const total = [...seen.values()].reduce((a, b) => a + b, 0) + failures.length;
  t.diagnostic(`${total} requests, alpha ${seen.get('alpha') ?? 0}, beta ${seen.get('beta') ?? 0}, failures ${failures.length}`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${total} requests failed`);
  assert.ok(total > 200, `too few requests to mean anything: ${total}`);
  assert.ok((seen.get('alpha') ?? 0) > 0 && (seen.get('beta') ?? 0) > 0, 'both backends served: the reloads happened');
  const generationAfter = await pollUntil('5 applies', async () => {
    const g = await appliedGeneration(gateway.adminPort);
    return g >= generationBefore + 5 ? g : undefined;
  }, 2000);
  assert.equal(generationAfter, generationBefore + 5, 'each rewrite is one new generation');
  assert.equal((await get(gateway.httpPort, '/loop', HOST)).name, 'beta', 'the last write wins');
});

interface DiagnosticView {
  readonly severity: string;
  readonly code: string;
  readonly text: string;
}

test('an invalid change is rejected with diagnostics, the old routes keep serving, and a fix applies', async (t) => {
  const { gateway, ingressFile, pointAt } = await setup(t);
  const generation = await appliedGeneration(gateway.adminPort);
  assert.equal((await get(gateway.httpPort, '/', HOST)).name, 'alpha');

  writeFileSync(ingressFile, 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: reload\n  spec: [oops\n');
  const diagnostics = await pollUntil('the rejection to show in /api/diagnostics', async () => {
    const list = (await adminJson(gateway.adminPort, '/api/diagnostics')) as DiagnosticView[];
    return list.some((d) => d.code === 'ERR_CONFIG_REJECTED') ? list : undefined;
  }, 3000);
  const parse = diagnostics.find((d) => d.code === 'ERR_CONFIG_YAML_PARSE');
  assert.ok(parse, JSON.stringify(diagnostics));
  assert.equal(parse.severity, 'error');
  assert.ok(parse.text.includes('ingress.yaml'), `the diagnostic names the file: ${parse.text}`);
  const rejected = diagnostics.find((d) => d.code === 'ERR_CONFIG_REJECTED');
  assert.match(rejected?.text ?? '', /last good configuration keeps serving/);
  assert.match(gateway.stderr(), /\[ERR_CONFIG_YAML_PARSE\]/, 'the rejection is logged on stderr');

  // The last good configuration serves on, unchanged.
  assert.equal(await appliedGeneration(gateway.adminPort), generation);
  for (let i = 0; i < 5; i++) {
    const res = await get(gateway.httpPort, `/still/${i}`, HOST);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.name, 'alpha');
  }
  assert.equal(await metricValue(gateway.adminPort, 'isthmus_config_applies_total{outcome="rejected"}'), 1);

  // Fixing the file (now pointing at beta) applies again and clears the diagnostics.
  pointAt('beta');
  await pollUntil('the fixed file to apply', async () => ((await get(gateway.httpPort, '/', HOST)).name === 'beta' ? true : undefined), 3000);
  assert.ok((await appliedGeneration(gateway.adminPort)) > generation);
  const after = (await adminJson(gateway.adminPort, '/api/diagnostics')) as DiagnosticView[];
  assert.deepEqual(after.map((d) => d.code), []);
});

interface RouteStatusView {
  readonly kind: string;
  readonly name: string;
  readonly status: { readonly parents?: readonly { readonly conditions: readonly { type: string; status: string; reason: string }[] }[] };
}

/** A Gateway on logical port 80 and HTTPRoute `shop` for route.test: /ok → alpha, /broken → Service `nope`, which does not exist. */
const GATEWAY_WITH_A_BROKEN_RULE = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [route.test]
  rules:
    - matches: [{path: {type: PathPrefix, value: /ok}}]
      backendRefs: [{name: alpha, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /broken}}]
      backendRefs: [{name: nope, port: 80}]
`;

test('a change that parses but names a missing Service is applied piecemeal: only that path or backendRef is left out, with a diagnostic and a status', async (t) => {
  const { gateway, ingressFile } = await setup(t);
  const generation = await appliedGeneration(gateway.adminPort);

  // The Ingress moves / to beta and gains a path to a Service that does not exist; a new file
  // brings an HTTPRoute whose second rule does the same.
  writeFileSync(ingressFile, ingressYaml('reload', HOST, [{ path: '/', service: 'beta' }, { path: '/gone', service: 'nope' }]));
  writeFileSync(path.join(path.dirname(ingressFile), 'gateway.yaml'), GATEWAY_WITH_A_BROKEN_RULE);
  await pollUntil('both changes to apply', async () => ((await get(gateway.httpPort, '/ok', 'route.test')).name === 'alpha' && (await get(gateway.httpPort, '/', HOST)).name === 'beta' ? true : undefined), 3000);
  assert.ok((await appliedGeneration(gateway.adminPort)) > generation, 'the change was applied, not rejected');

  // Ingress: the rest of the same object serves the new version; the broken path answers 503
  // itself rather than falling through to the shorter prefix.
  for (let i = 0; i < 3; i++) assert.equal((await get(gateway.httpPort, `/page/${i}`, HOST)).name, 'beta');
  const gone = await get(gateway.httpPort, '/gone/x', HOST);
  assert.equal(gone.status, 503, gone.body);
  assert.equal((JSON.parse(gone.body) as { reason?: string }).reason, 'invalid_backend');

  // HTTPRoute: the rule with the bad backendRef answers 500; the other rule serves.
  assert.equal((await get(gateway.httpPort, '/ok', 'route.test')).name, 'alpha');
  assert.equal((await get(gateway.httpPort, '/broken', 'route.test')).status, 500);

  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as DiagnosticView[];
  const missing = diagnostics.filter((d) => d.code === 'ERR_BACKEND_SERVICE_NOT_FOUND').map((d) => d.text);
  assert.ok(missing.some((text) => text.includes('Ingress default/reload spec.rules[0].http.paths[1].backend.service.name')), missing.join('\n'));
  assert.ok(missing.some((text) => text.includes('HTTPRoute default/shop spec.rules[1].backendRefs[0]')), missing.join('\n'));
  assert.ok(!diagnostics.some((d) => d.code === 'ERR_CONFIG_REJECTED'), 'nothing was rejected whole');
  assert.equal(await metricValue(gateway.adminPort, 'isthmus_config_applies_total{outcome="rejected"}'), 0);

  const route = ((await adminJson(gateway.adminPort, '/api/status')) as RouteStatusView[]).find((s) => s.kind === 'HTTPRoute' && s.name === 'shop');
  const resolved = route?.status.parents?.[0]?.conditions.find((c) => c.type === 'ResolvedRefs');
  assert.deepEqual(resolved && { status: resolved.status, reason: resolved.reason }, { status: 'False', reason: 'BackendNotFound' });
});
