// `openapi.file` through the real gateway in file mode: a document beside the config (relative to
// the declaring YAML file's folder) generates routes and validates; editing the document re-applies;
// `isthmus validate` refuses an escaping path, a missing file and both configMapRef and file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appliedGeneration, configDir, httpRequest, pollUntil, runCli, startEcho, startGateway, type SimpleResponse } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

function doc(idSchema: string): string {
  return `openapi: 3.0.3
info: {title: Orders, version: 1.0.0}
servers: [{url: https://api.example.com/shop}]
paths:
  /orders/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: ${idSchema}}]
      responses: {'200': {description: ok}}
`;
}

function api(openapi: string): string {
  return `apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: orders, namespace: default}
spec:
  versions:
    - name: v1
      stage: published
      openapi:
${openapi}        validate: {requests: true}
        generateRoutes:
          parentRefs: [{name: gw}]
          backendRef: {name: api, port: 80}
`;
}

function get(port: number, urlPath: string): Promise<SimpleResponse> {
  return httpRequest({ port, path: urlPath, headers: { host: 'shop.test' } });
}

test('openapi.file: routes and validation from a document in the config folder; an edit to it re-applies', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, { 'base.yaml': gatewayAndService(echo.port) });
  mkdirSync(path.join(dir, 'apis'));
  mkdirSync(path.join(dir, 'docs'));
  writeFileSync(path.join(dir, 'apis', 'orders.yaml'), api('        file: ../docs/orders.yaml\n'));
  const documentPath = path.join(dir, 'docs', 'orders.yaml');
  writeFileSync(documentPath, doc('{type: integer}'));

  // The document is not read as config: no diagnostics at all.
  const validated = await runCli(['validate', dir]);
  assert.equal(validated.code, 0, validated.stdout + validated.stderr);
  assert.doesNotMatch(validated.stdout, /ERR_/);

  const gw = await startGateway(t, { config: [dir] });
  assert.equal((await get(gw.httpPort, '/shop/orders/42')).status, 200);
  const bad = await get(gw.httpPort, '/shop/orders/abc');
  assert.equal(bad.status, 400, bad.body);
  assert.equal((JSON.parse(bad.body) as { field: string }).field, 'path.id');

  // Editing the document alone reloads: `abc` passes now, a 5-character id does not.
  const generation = await appliedGeneration(gw.adminPort);
  writeFileSync(documentPath, doc('{type: string, maxLength: 3}'));
  await pollUntil('the edited document applied', async () => ((await appliedGeneration(gw.adminPort)) > generation ? true : undefined), 5000);
  assert.equal((await get(gw.httpPort, '/shop/orders/abc')).status, 200);
  const long = await get(gw.httpPort, '/shop/orders/abcde');
  assert.equal(long.status, 400, long.body);
  assert.equal((JSON.parse(long.body) as { field: string }).field, 'path.id');
});

test('isthmus validate: an escaping path, a missing file, and both sources are errors naming the API and field', async (t) => {
  const outside = configDir(t, { 'secret.yaml': doc('{type: integer}') });
  const cases: [string, RegExp][] = [
    [`        file: ${JSON.stringify(path.relative(path.join(outside, '..', 'x'), path.join(outside, 'secret.yaml')))}\n`, /outside the config folders/],
    [`        file: ${JSON.stringify(path.join(outside, 'secret.yaml'))}\n`, /outside the config folders \(an absolute path\)/],
    ['        file: missing.yaml\n', /"missing\.yaml" does not exist/],
  ];
  for (const [openapi, reason] of cases) {
    const dir = configDir(t, { 'base.yaml': gatewayAndService(1), 'api.yaml': api(openapi) });
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /error: API default\/orders spec\.versions\[0\]\.openapi\.file: .*\[ERR_OPENAPI_INVALID\]/);
    assert.match(result.stdout, reason);
  }
  const both = configDir(t, { 'base.yaml': gatewayAndService(1), 'api.yaml': api('        file: doc.yaml\n        configMapRef: {name: orders-openapi}\n'), 'doc.yaml': doc('{type: integer}') });
  const result = await runCli(['validate', both]);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, /error: API default\/orders spec\.versions\[0\]\.openapi: exactly one of configMapRef and file is needed \(found both\)/);
});
