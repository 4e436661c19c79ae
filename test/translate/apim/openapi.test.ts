// OpenAPI on API versions, at the translator: the document → generated routes (Exact or RE2 path
// per operation, method, the servers[0] prefix), one openapi-validate filter per generated rule
// holding its operation, every operation on a route the version names itself; 3.0 schemas
// converted to 2020-12, component $refs rewritten; broken parts and broken documents reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPENAPI_COMPONENTS_ID } from '../../../src/core/openapi-ajv.js';
import type { IrOpenApiValidation } from '../../../src/ir/apim.js';
import type { IrRoute } from '../../../src/ir/types.js';
import { convertSchema } from '../../../src/translate/apim/openapi-schema.js';
import { parseOpenApiDocument } from '../../../src/translate/apim/openapi-document.js';
import { templateSegments } from '../../../src/translate/apim/openapi-routes.js';
import { translate } from '../../../src/translate/translate.js';
import { buildSnapshot } from '../../../src/store/build-snapshot.js';
import { openApiFileKey, type OpenApiFileRead } from '../../../src/store/resource-snapshot.js';
import { parseConfigText } from '../../../src/sources/file/parse-config-text.js';
import { matchTemplate } from '../../../src/dataplane/filters/openapi-validate.js';
import { BASE, CART_ROUTE, OPTIONS, lifecycleOf, route, routes, run } from './apim-fixtures.js';

const DOC = `openapi: 3.0.3
info: {title: Shop, version: 1.0.0}
servers: [{url: "https://{host}/api/{base}", variables: {host: {default: x.test}, base: {default: v1}}}]
paths:
  /items:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses: {}
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
      responses: {}
  /items/{id}:
    parameters: [{name: id, in: path, schema: {type: integer}}]
    get: {operationId: getItem, responses: {}}
    delete: {operationId: deleteItem, parameters: [{name: id, in: path, schema: {type: string}}], responses: {}}
components:
  schemas:
    Item: {type: object, required: [name], properties: {name: {type: string, nullable: true}, price: {type: number, minimum: 0, exclusiveMinimum: true}}}
`;

function configMap(doc: string, name = 'shop-openapi'): string {
  return `---
apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: default}
data:
  openapi.yaml: |
${doc.split('\n').map((l) => '    ' + l).join('\n')}
`;
}

function api(openapi: string, routes = ''): string {
  return `---
apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: shop, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  versions:
    - name: v1
      stage: published
${routes}      openapi:
${openapi}`;
}

const GENERATE = `        configMapRef: {name: shop-openapi}
        validate: {requests: true}
        generateRoutes:
          parentRefs: [{name: gw, sectionName: public}]
          backendRef: {name: web, port: 80}
`;

function validationOf(r: IrRoute): IrOpenApiValidation | undefined {
  const f = r.filters.find((x) => x.kind === 'openapi-validate');
  return f?.kind === 'openapi-validate' ? f.validation : undefined;
}

test('generateRoutes: one rule per operation, Exact or RE2 by template, with its method and the servers[0] path as prefix; each rule validates its own operation', () => {
  const { ir, diagnostics, statuses } = run(BASE + configMap(DOC) + api(GENERATE));
  assert.deepEqual(diagnostics, []);
  const generated = [...routes(ir).entries()].filter(([k]) => k.includes('httproute/default/shop-v1-openapi/'));
  const byName = new Map(generated.map(([k, r]) => [k.split('|')[1]!, r]));
  const rule = (i: number): IrRoute => byName.get(`httproute/default/shop-v1-openapi/rule/${i}/match/0`)!;
  assert.deepEqual(rule(0).match, { path: { kind: 'exact', value: '/api/v1/items' }, method: 'GET' });
  assert.deepEqual(rule(1).match, { path: { kind: 'exact', value: '/api/v1/items' }, method: 'POST' });
  assert.deepEqual(rule(2).match, { path: { kind: 'regex', value: '/api/v1/items/[^/]+' }, method: 'GET' });
  assert.deepEqual(rule(3).match.method, 'DELETE');
  assert.equal(generated.length, 4, 'only on the listener the parentRef names');
  // Each rule: the version's lifecycle and its own operation.
  assert.deepEqual(lifecycleOf(rule(2)), { api: 'api/default/shop/v1', stage: 'published' });
  const get = validationOf(rule(2))!;
  assert.deepEqual(get.operations.map((o) => o.id), ['getItem']);
  assert.deepEqual(get.operations[0]!.parameters, [{ in: 'path', name: 'id', required: true, schema: { type: 'integer' } }]);
  // The operation's own `id` overrides the path-level one.
  assert.deepEqual(validationOf(rule(3))!.operations[0]!.parameters[0]!.schema, { type: 'string' });
  assert.equal(get.maxBodyBytes, 1024 * 1024);
  // 3.0 → 2020-12 in components; the body's $ref points into them.
  assert.deepEqual(get.schemas.Item, { type: 'object', required: ['name'], properties: { name: { type: ['string', 'null'] }, price: { type: 'number', exclusiveMinimum: 0 } } });
  assert.deepEqual(validationOf(rule(1))!.operations[0]!.body, { required: true, mediaTypes: [{ type: 'application/json', schema: { $ref: `${OPENAPI_COMPONENTS_ID}#/$defs/Item` } }] });
  // The generated HTTPRoute exists in no source: no status is written for it.
  assert.equal(statuses.some((s) => s.kind === 'HTTPRoute' && s.name === 'shop-v1-openapi'), false);
});

test('a version that names its own routes gets every operation of the document on them; pathPrefix replaces the servers path', () => {
  const openapi = `        configMapRef: {name: shop-openapi}
        pathPrefix: /cart
        validate: {requests: true, maxBodyBytes: 2048}
`;
  const { ir, diagnostics } = run(BASE + configMap(DOC) + api(openapi, '      routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: cart}]\n'));
  assert.deepEqual(diagnostics, []);
  const v = validationOf(route(ir, 'public', CART_ROUTE))!;
  assert.equal(v.operations.length, 4);
  assert.deepEqual(v.operations[2]!.segments, [['cart'], ['items'], [{ param: 'id' }]]);
  assert.equal(v.maxBodyBytes, 2048);
});

test('without validate.requests no filter; a version with neither routes nor generateRoutes is reported', () => {
  const { ir, diagnostics } = run(BASE + configMap(DOC) + api('        configMapRef: {name: shop-openapi}\n'));
  assert.equal([...routes(ir).values()].some((r) => validationOf(r) !== undefined), false);
  assert.ok(diagnostics.some((d) => d.code === 'ERR_POLICY_INVALID' && d.path === 'spec.versions[0]' && /needs routes/.test(d.message)), JSON.stringify(diagnostics));
});

test('a document that does not parse, a missing ConfigMap or key: an error naming the API and field; validated own routes fail closed (503)', () => {
  const broken = run(BASE + configMap('openapi: 3.0.0\npaths: [x') + api(GENERATE));
  const d = broken.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!;
  assert.equal(d.severity, 'error');
  assert.equal(d.path, 'spec.versions[0].openapi.configMapRef');
  assert.match(d.message, /key "openapi.yaml": not valid YAML or JSON/);
  assert.equal([...routes(broken.ir).keys()].some((k) => k.includes('shop-v1-openapi')), false);

  const missing = run(BASE + api(GENERATE));
  assert.match(missing.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!.message, /ConfigMap default\/shop-openapi does not exist/);
  const wrongKey = run(BASE + configMap(DOC) + api(GENERATE.replace('{name: shop-openapi}', '{name: shop-openapi, key: api.json}')));
  assert.equal(wrongKey.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!.path, 'spec.versions[0].openapi.configMapRef.key');

  const own = run(BASE + configMap('swagger: "2.0"') + api('        configMapRef: {name: shop-openapi}\n        validate: {requests: true}\n', '      routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: cart}]\n'));
  assert.match(own.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!.message, /Swagger 2.0/);
  assert.deepEqual(route(own.ir, 'public', CART_ROUTE).action, { kind: 'respond', status: 503 });
});

test('broken parts are warnings and only they are left out: an external $ref, a $ref to nothing, an invalid schema', () => {
  const doc = `openapi: 3.1.0
info: {title: x, version: "1"}
paths:
  /a:
    get:
      parameters:
        - {$ref: '#/components/parameters/nope'}
        - {name: q, in: query, schema: {type: wrong}}
        - {name: r, in: query, schema: {$ref: 'other.yaml#/X'}}
      responses: {}
`;
  const parsed = parseOpenApiDocument(doc);
  assert.equal(parsed.kind, 'ok');
  if (parsed.kind !== 'ok') return;
  assert.equal(parsed.problems.length, 3, parsed.problems.join('\n'));
  assert.match(parsed.problems.join('\n'), /names nothing/);
  assert.match(parsed.problems.join('\n'), /not a valid JSON Schema/);
  assert.match(parsed.problems.join('\n'), /only references into #\/components\/schemas/);
  assert.deepEqual(parsed.model.operations[0]!.parameters.map((p) => p.name), ['q', 'r']);
  assert.equal(parsed.model.operations[0]!.parameters[0]!.schema, undefined);
});

test('not OpenAPI 3: refused with the reason', () => {
  assert.deepEqual(parseOpenApiDocument('openapi: 2.9.0\npaths: {}'), { kind: 'invalid', message: 'openapi "2.9.0" is not supported (3.0.x and 3.1.x are)' });
  assert.deepEqual(parseOpenApiDocument('- a\n- b'), { kind: 'invalid', message: 'expected an OpenAPI document (a mapping with `openapi`, `info` and `paths`)' });
  assert.deepEqual(parseOpenApiDocument('openapi: 3.1.0\ninfo: {}'), { kind: 'invalid', message: '`paths` is missing or not a mapping' });
});

test('3.0 schema conversion: nullable, boolean exclusive bounds, $ref siblings dropped; 3.1 left as written', () => {
  assert.deepEqual(convertSchema({ type: 'integer', minimum: 1, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false, nullable: true }, '3.0', 's').schema, { type: ['integer', 'null'], exclusiveMinimum: 1, maximum: 9 });
  assert.deepEqual(convertSchema({ enum: ['a'], nullable: true }, '3.0', 's').schema, { enum: ['a', null] });
  assert.deepEqual(convertSchema({ $ref: '#/components/schemas/A', description: 'x' }, '3.0', 's').schema, { $ref: `${OPENAPI_COMPONENTS_ID}#/$defs/A` });
  assert.deepEqual(convertSchema({ type: 'object', properties: { a: { type: ['string', 'null'], exclusiveMinimum: 3 } } }, '3.1', 's').schema, { type: 'object', properties: { a: { type: ['string', 'null'], exclusiveMinimum: 3 } } });
  // `enum` and `default` are values: a `$ref`-looking value in them is left alone.
  assert.deepEqual(convertSchema({ default: { $ref: 'x' } }, '3.1', 's').schema, { default: { $ref: 'x' } });
});

test('path templates: whole segments and parameters inside a segment, matched without regular expressions', () => {
  const t = templateSegments('/v1/files/{name}.{ext}/raw');
  assert.deepEqual(t, [['v1'], ['files'], [{ param: 'name' }, '.', { param: 'ext' }], ['raw']]);
  assert.deepEqual(matchTemplate(t, '/v1/files/report.tar.gz/raw'), { name: 'report', ext: 'tar.gz' });
  assert.equal(matchTemplate(t, '/v1/files/.gz/raw'), undefined);
  assert.equal(matchTemplate(t, '/v1/files/report/raw'), undefined);
  assert.deepEqual(matchTemplate(templateSegments('/o/{id}'), '/o/a%20b'), { id: 'a b' });
  assert.equal(matchTemplate(templateSegments('/o/{id}'), '/o/'), undefined);
  assert.equal(matchTemplate(templateSegments('/o/{id}'), '/o/1/2'), undefined);
});

/** As the file source would hand it over: the API's source is `test.yaml#<index>`. */
function runWithFiles(yaml: string, files: ReadonlyMap<string, OpenApiFileRead> | undefined) {
  const snapshot = buildSnapshot([parseConfigText(yaml, 'test.yaml', 'yaml')], 1);
  return translate(files === undefined ? snapshot : { ...snapshot, openApiFiles: files }, OPTIONS);
}

const FILE_GENERATE = GENERATE.replace('configMapRef: {name: shop-openapi}', 'file: docs/shop.yaml');
/** BASE's documents come first; the API is the last one in the YAML. */
function apiSource(yaml: string): string {
  return `test.yaml#${yaml.split(/^---$/m).length - 1}`;
}

test('openapi.file: the text the source read generates routes like a ConfigMap key; a refusal is an error at .file', () => {
  const yaml = BASE + api(FILE_GENERATE);
  const key = openApiFileKey(apiSource(yaml), 'docs/shop.yaml');
  const served = runWithFiles(yaml, new Map([[key, { kind: 'text', text: DOC }]]));
  assert.deepEqual(served.diagnostics.filter((d) => d.code === 'ERR_OPENAPI_INVALID'), []);
  assert.ok([...routes(served.ir).keys()].some((k) => k.includes('shop-v1-openapi')));

  const refused = runWithFiles(yaml, new Map([[key, { kind: 'refused', message: '"docs/shop.yaml" does not exist' }]]));
  const d = refused.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!;
  assert.deepEqual([d.severity, d.path, d.object?.name], ['error', 'spec.versions[0].openapi.file', 'shop']);
  assert.match(d.message, /"docs\/shop.yaml" does not exist; this version's OpenAPI routes and validation are not served/);
  assert.equal([...routes(refused.ir).keys()].some((k) => k.includes('shop-v1-openapi')), false);

  const broken = runWithFiles(yaml, new Map([[key, { kind: 'text', text: 'openapi: 3.0.0\npaths: [x' }]]));
  const b = broken.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!;
  assert.equal(b.path, 'spec.versions[0].openapi.file');
  assert.match(b.message, /file "docs\/shop.yaml": not valid YAML or JSON/);
});

test('openapi.file without a file source (Kubernetes) is refused; configMapRef and file: exactly one', () => {
  const kube = runWithFiles(BASE + api(FILE_GENERATE), undefined);
  const k = kube.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!;
  assert.deepEqual([k.severity, k.path], ['error', 'spec.versions[0].openapi.file']);
  assert.match(k.message, /only in standalone mode.*use configMapRef/);

  const both = runWithFiles(BASE + configMap(DOC) + api(GENERATE.replace('configMapRef: {name: shop-openapi}', 'configMapRef: {name: shop-openapi}\n        file: docs/shop.yaml')), new Map());
  const b = both.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!;
  assert.deepEqual([b.severity, b.path], ['error', 'spec.versions[0].openapi']);
  assert.match(b.message, /exactly one of configMapRef and file is needed \(found both\)/);

  const neither = runWithFiles(BASE + api(GENERATE.replace('        configMapRef: {name: shop-openapi}\n', '')), new Map());
  assert.match(neither.diagnostics.find((x) => x.code === 'ERR_OPENAPI_INVALID')!.message, /found neither/);
});
