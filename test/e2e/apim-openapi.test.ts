// OpenAPI on the API kind through the real gateway: routes generated from a 3.0 and a 3.1
// document (in ConfigMaps) reach the upstream; an unknown path 404s; bad path, query, header and
// body values each get a 400 naming the field; a valid JSON body reaches the upstream byte for
// byte; a document that stops parsing is a diagnostic and the last good config keeps serving;
// `isthmus api import` output validates and serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminJson, appliedGeneration, configDir, pollUntil, runCli, startEcho, startGateway, type EchoBackend, type SimpleResponse } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

const ORDERS_30 = `openapi: 3.0.3
info: {title: Orders, version: 1.0.0}
servers: [{url: https://api.example.com/shop}]
paths:
  /orders:
    get:
      operationId: listOrders
      parameters:
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 100}}
        - {$ref: '#/components/parameters/Tenant'}
      responses: {'200': {description: ok}}
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewOrder'}
      responses: {'201': {description: created}}
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer, format: int64}}
    get:
      operationId: getOrder
      responses: {'200': {description: ok}}
components:
  parameters:
    Tenant: {name: x-tenant, in: header, required: true, schema: {type: string, pattern: '^[a-z]+$'}}
  schemas:
    NewOrder:
      type: object
      required: [sku, quantity]
      properties:
        id: {type: integer, readOnly: true}
        sku: {type: string, minLength: 3}
        quantity: {type: integer, minimum: 1, exclusiveMinimum: false}
        note: {type: string, nullable: true}
        lines: {type: array, items: {$ref: '#/components/schemas/Line'}}
    Line:
      type: object
      required: [price]
      properties:
        price: {type: number, minimum: 0, exclusiveMinimum: true}
`;

const PETS_31 = `{
  "openapi": "3.1.0",
  "info": {"title": "Pets", "version": "2.0.0"},
  "paths": {
    "/pets/{name}.json": {
      "get": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 5}}], "responses": {"200": {"description": "ok"}}}
    },
    "/pets": {
      "put": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"tag": {"type": ["string", "null"]}, "age": {"type": "integer", "exclusiveMinimum": 0}}, "required": ["tag"]}}}},
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
}`;

function indent(text: string, spaces: number): string {
  return text.split('\n').map((l) => ' '.repeat(spaces) + l).join('\n');
}

function configMap(name: string, doc: string): string {
  return `---
apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: default}
data:
  openapi.yaml: |
${indent(doc, 4)}
`;
}

function base(echo: EchoBackend): string {
  return `${gatewayAndService(echo.port)}`;
}

const APIS = `---
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: orders, namespace: default}
spec:
  versions:
    - name: v1
      stage: published
      openapi:
        configMapRef: {name: orders-openapi}
        validate: {requests: true, maxBodyBytes: 4096}
        generateRoutes:
          parentRefs: [{name: gw}]
          backendRef: {name: api, port: 80}
---
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: pets, namespace: default}
spec:
  versions:
    - name: v2
      stage: published
      openapi:
        configMapRef: {name: pets-openapi, key: openapi.yaml}
        pathPrefix: /pets-api
        validate: {requests: true}
        generateRoutes:
          parentRefs: [{name: gw}]
          backendRef: {name: api, port: 80}
`;

function send(port: number, method: string, urlPath: string, headers: http.OutgoingHttpHeaders = {}, body?: string | Buffer): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: { host: 'shop.test', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Refusal {
  status: number;
  reason: string;
  message: string;
  field: string;
}

function refusal(res: SimpleResponse): Refusal {
  return JSON.parse(res.body) as Refusal;
}

const TENANT = { 'x-tenant': 'acme' };

test('OpenAPI 3.0 and 3.1 documents: generated routes, 404 off the document, 400s naming the field, bodies forwarded byte for byte, a broken document held back', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const dir = configDir(t, { 'base.yaml': base(echo), 'apis.yaml': APIS + configMap('orders-openapi', ORDERS_30) + configMap('pets-openapi', PETS_31) });

  const validated = await runCli(['validate', dir]);
  assert.equal(validated.code, 0, validated.stdout + validated.stderr);

  const gw = await startGateway(t, { config: [dir] });
  const port = gw.httpPort;

  // Generated routes reach the upstream (servers[0].url's path /shop is the prefix of the 3.0 document).
  const list = await send(port, 'GET', '/shop/orders?limit=10', TENANT);
  assert.equal(list.status, 200, list.body);
  assert.equal((JSON.parse(list.body) as { path: string }).path, '/shop/orders?limit=10');
  assert.equal((await send(port, 'GET', '/shop/orders/42', TENANT)).status, 200);
  // Off the document: no route. A method the path does not have: no route either.
  assert.equal((await send(port, 'GET', '/shop/customers', TENANT)).status, 404);
  assert.equal((await send(port, 'DELETE', '/shop/orders/42', TENANT)).status, 404);
  assert.equal((await send(port, 'GET', '/orders', TENANT)).status, 404);

  // Path, query, header: 400 naming the field.
  let res = await send(port, 'GET', '/shop/orders/abc', TENANT);
  assert.equal(res.status, 400, res.body);
  assert.deepEqual({ ...refusal(res), request_id: undefined }, { status: 400, reason: 'bad_request', message: "path parameter 'id' must be integer", field: 'path.id', request_id: undefined });
  res = await send(port, 'GET', '/shop/orders?limit=ten', TENANT);
  assert.equal(res.status, 400);
  assert.equal(refusal(res).message, "query parameter 'limit' must be integer");
  assert.equal(refusal(res).field, 'query.limit');
  res = await send(port, 'GET', '/shop/orders?limit=500', TENANT);
  assert.equal(refusal(res).field, 'query.limit');
  assert.match(refusal(res).message, /must be <= 100/);
  res = await send(port, 'GET', '/shop/orders');
  assert.equal(res.status, 400);
  assert.equal(refusal(res).message, "header 'x-tenant' is required");
  assert.equal(refusal(res).field, 'header.x-tenant');
  res = await send(port, 'GET', '/shop/orders', { 'x-tenant': 'ACME1' });
  assert.equal(refusal(res).field, 'header.x-tenant');

  // Bodies: a valid one reaches the upstream byte for byte (odd spacing, key order, unicode kept).
  const valid = '{ "quantity":2,\n  "sku" : "abc-ü", "note": null, "lines": [{"price": 1.5}] }';
  res = await send(port, 'POST', '/shop/orders', { 'content-type': 'application/json' }, valid);
  assert.equal(res.status, 200, res.body);
  const echoed = JSON.parse(res.body) as { body: string; bodyBytes: number };
  assert.equal(echoed.body, valid);
  assert.equal(echoed.bodyBytes, Buffer.byteLength(valid));
  // Chunked (no Content-Length) too.
  res = await send(port, 'POST', '/shop/orders', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, valid);
  assert.equal(res.status, 200, res.body);
  assert.equal((JSON.parse(res.body) as { body: string }).body, valid);

  const post = (body: string, headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' }): Promise<SimpleResponse> => send(port, 'POST', '/shop/orders', headers, body);
  res = await post('{"sku":"abc"}');
  assert.equal(res.status, 400);
  assert.deepEqual([refusal(res).field, refusal(res).message], ['body.quantity', "body field 'quantity' is required"]);
  res = await post('{"sku":"abc","quantity":"2"}');
  assert.deepEqual([refusal(res).field, refusal(res).message], ['body.quantity', "body field 'quantity' must be integer"]);
  res = await post('{"sku":"abc","quantity":1,"lines":[{"price":0}]}');
  assert.equal(refusal(res).field, 'body.lines[0].price');
  assert.match(refusal(res).message, /must be > 0/);
  res = await post('{"sku":');
  assert.deepEqual([res.status, refusal(res).field, refusal(res).message], [400, 'body', 'request body is not valid JSON']);
  res = await send(port, 'POST', '/shop/orders');
  assert.deepEqual([res.status, refusal(res).message], [400, 'request body is required']);
  res = await post('sku=abc', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.deepEqual([res.status, refusal(res).field], [415, 'header.content-type']);
  // Over maxBodyBytes (4096): 413, declared or chunked.
  const big = JSON.stringify({ sku: 'abc', quantity: 1, note: 'x'.repeat(5000) });
  assert.equal((await post(big)).status, 413);

  // The 3.1 document: pathPrefix, a template inside a segment, type arrays, numeric exclusiveMinimum.
  res = await send(port, 'GET', '/pets-api/pets/rex.json');
  assert.equal(res.status, 200, res.body);
  res = await send(port, 'GET', '/pets-api/pets/rexrex.json');
  assert.deepEqual([res.status, refusal(res).field], [400, 'path.name']);
  res = await send(port, 'PUT', '/pets-api/pets', { 'content-type': 'application/json; charset=utf-8' }, '{"tag":null,"age":3}');
  assert.equal(res.status, 200, res.body);
  res = await send(port, 'PUT', '/pets-api/pets', { 'content-type': 'application/json' }, '{"tag":"a","age":0}');
  assert.deepEqual([res.status, refusal(res).field], [400, 'body.age']);

  // A document that stops parsing: a diagnostic naming the API and field, and the last good config serves on.
  const generation = await appliedGeneration(gw.adminPort);
  const broken = configDir(t, { 'probe.yaml': base(echo) + APIS + configMap('orders-openapi', 'openapi: 3.0.3\npaths: [unclosed') + configMap('pets-openapi', PETS_31) });
  const check = await runCli(['validate', broken]);
  assert.equal(check.code, 1, check.stdout);
  assert.match(check.stdout, /error: API default\/orders spec\.versions\[0\]\.openapi\.configMapRef: ConfigMap default\/orders-openapi key "openapi\.yaml": not valid YAML or JSON.*\[ERR_OPENAPI_INVALID\]/);
  writeFileSync(path.join(dir, 'apis.yaml'), APIS + configMap('orders-openapi', 'openapi: 3.0.3\npaths: [unclosed') + configMap('pets-openapi', PETS_31));
  await pollUntil('the rejection', async () => {
    const list = (await adminJson(gw.adminPort, '/api/diagnostics')) as { code: string }[];
    return list.some((d) => d.code === 'ERR_CONFIG_REJECTED') && list.some((d) => d.code === 'ERR_OPENAPI_INVALID') ? true : undefined;
  }, 5000);
  assert.equal(await appliedGeneration(gw.adminPort), generation);
  assert.equal((await send(port, 'GET', '/shop/orders/7', TENANT)).status, 200);
  assert.equal((await send(port, 'GET', '/shop/orders/x', TENANT)).status, 400);
});

test('isthmus api import: a ConfigMap and an API that validate and serve; a broken document exits 1', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const src = configDir(t, { 'orders.yaml': ORDERS_30, 'bad.yaml': 'openapi: 3.0.0\ninfo: {title: x\n', 'swagger.json': '{"swagger":"2.0","paths":{}}' });
  const help = await runCli(['api', 'import', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: isthmus api import FILE/);

  const imported = await runCli(['api', 'import', path.join(src, 'orders.yaml'), '--namespace', 'default', '--gateway', 'gw', '--service', 'api', '--port', '80']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /kind: ConfigMap/);
  assert.match(imported.stdout, /name: orders\b/);
  assert.match(imported.stdout, /requests: true/);

  const dir = configDir(t, { 'base.yaml': base(echo), 'imported.yaml': imported.stdout });
  const validated = await runCli(['validate', dir]);
  assert.equal(validated.code, 0, validated.stdout);
  assert.doesNotMatch(validated.stdout, /ERR_/);
  const gw = await startGateway(t, { config: [dir] });
  assert.equal((await send(gw.httpPort, 'GET', '/shop/orders/1', TENANT)).status, 200);
  assert.equal((await send(gw.httpPort, 'GET', '/shop/orders/one', TENANT)).status, 400);

  const bad = await runCli(['api', 'import', path.join(src, 'bad.yaml')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.yaml: not valid YAML or JSON/);
  assert.equal(bad.stdout, '');
  const swagger = await runCli(['api', 'import', path.join(src, 'swagger.json')]);
  assert.equal(swagger.code, 1);
  assert.match(swagger.stderr, /Swagger 2\.0 \(OpenAPI 2\.0\) is not supported/);
  const missing = await runCli(['api', 'import']);
  assert.equal(missing.code, 2);
});
