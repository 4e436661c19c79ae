// `isthmus run --config DIR` without --demo: Pods in a config folder are declarations, so the
// routes to them answer 502 until something listens on their addresses. One stderr line at
// start-up names the Services whose Pods nothing listens on, and only those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { configDir, freePort, get, ingressYaml, pollUntil, repoRoot, serviceYaml, startEcho, startGateway, type RunningGateway } from './cli-harness.js';

async function warningOf(gateway: RunningGateway): Promise<string> {
  return await pollUntil('the start-up warning', async () => gateway.stderr().split('\n').find((l) => l.startsWith('isthmus: warning: nothing listens')), 5000);
}

test('examples/quickstart without --demo: one line names its Services and says --demo starts their Pods; requests answer 502', async (t) => {
  const quickstart = path.join(repoRoot(), 'examples', 'quickstart');
  const gateway = await startGateway(t, { config: [quickstart] });
  const warning = await warningOf(gateway);
  assert.ok(warning.includes('Service demo/api (127.0.0.4:8082), Service demo/web (127.0.0.2:8081, 127.0.0.3:8081)'), warning);
  assert.ok(warning.includes('answer 502 (upstream_connect_error)'), warning);
  assert.ok(warning.includes(`add --demo to start echo backends for the Pods of ${quickstart}`), warning);
  assert.ok(warning.includes('examples/external-service'), warning);
  assert.equal(gateway.stderr().split('\n').filter((l) => l.includes('nothing listens')).length, 1, 'one line');

  const res = await get(gateway.httpPort, '/', 'shop.localhost');
  assert.equal(res.status, 502, res.body);
  assert.equal((JSON.parse(res.body) as { reason?: string }).reason, 'upstream_connect_error');
});

test('only the Services whose Pods have nothing listening are named, and --demo is not offered for a folder of your own', async (t) => {
  const up = await startEcho(t, '127.0.0.1', 'up');
  const down = { name: 'down', address: '127.0.0.1', port: await freePort() };
  const dir = configDir(t, {
    'services.yaml': `${serviceYaml(up)}---\n${serviceYaml(down)}`,
    'ingress.yaml': ingressYaml('both', 'both.test', [{ path: '/up', service: 'up' }, { path: '/down', service: 'down' }]),
  });
  const gateway = await startGateway(t, { config: [dir] });
  const warning = await warningOf(gateway);
  assert.ok(warning.includes(`nothing listens on the Pods behind Service default/down (127.0.0.1:${down.port}):`), warning);
  assert.ok(!warning.includes('default/up'), `the Pod with a server is not named: ${warning}`);
  assert.ok(!warning.includes('--demo'), `--demo starts nothing for this folder: ${warning}`);
  assert.equal((await get(gateway.httpPort, '/up', 'both.test')).name, 'up');
  assert.equal((await get(gateway.httpPort, '/down', 'both.test')).status, 502);
});
