import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileApiLifecycle, deprecationValue } from '../../../src/dataplane/filters/api-lifecycle.js';
import { RequestContextRecord } from '../../../src/dataplane/filters/request-context.js';
import { apiVersionOf, identityFieldsOf } from '../../../src/dataplane/filters/request-identity.js';

function ctx(): RequestContextRecord {
  return new RequestContextRecord('req-1', 0, 0, 'GET', 'https', 'api.example', 'api.example', '/v1/orders', '', {}, '127.0.0.1', 'HTTP/1.1', 'l', 'r', false);
}

test('a deprecated version: Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers on every response', () => {
  const chain = compileApiLifecycle({
    api: 'api/default/orders/v1',
    stage: 'deprecated',
    deprecatedAt: '2026-06-01T00:00:00Z',
    sunsetAt: '2027-01-31T00:00:00Z',
    successor: 'https://api.example/v2/',
    policyLink: 'https://api.example/deprecation-policy',
  });
  // One request filter, which only names the API version (for usage metering); the request goes on.
  assert.equal(chain.request.length, 1);
  const c = ctx();
  assert.equal((chain.request[0]!(c) as { kind: string }).kind, 'continue', 'a deprecated version is served');
  assert.deepEqual(apiVersionOf(c), { api: 'api/default/orders', version: 'v1' });
  const headers: string[] = [];
  chain.responseHeaders[0]!(ctx(), 200, headers);
  assert.deepEqual(headers, [
    'deprecation', '@1780272000',
    'sunset', 'Sun, 31 Jan 2027 00:00:00 GMT',
    'link', '<https://api.example/v2/>; rel="successor-version"',
    'link', '<https://api.example/deprecation-policy>; rel="deprecation"',
  ]);
  assert.equal(deprecationValue(undefined), '@0');
});

test('a retired version answers 410 with its successor, before anything else runs', async () => {
  const chain = compileApiLifecycle({ api: 'api/default/orders/v1', stage: 'retired', successor: 'https://api.example/v2/' });
  const c = ctx();
  const outcome = await chain.request[0]!(c);
  assert.equal(outcome.kind, 'respond');
  // The 410 is metered under the version too.
  assert.deepEqual(identityFieldsOf(c), { consumer: undefined, plan: undefined, api: 'api/default/orders', apiVersion: 'v1' });
  if (outcome.kind !== 'respond') return;
  assert.equal(outcome.status, 410);
  assert.deepEqual(outcome.headers, ['link', '<https://api.example/v2/>; rel="successor-version"']);
  const body = JSON.parse(outcome.body ?? '{}') as { reason: string; successor: string; request_id: string };
  assert.equal(body.reason, 'api_version_retired');
  assert.equal(body.successor, 'https://api.example/v2/');
  assert.equal(body.request_id, 'req-1');
});

test('a published version adds no header; it only names the API version for the requestEnd message', () => {
  const chain = compileApiLifecycle({ api: 'api/default/orders/v2', stage: 'published' });
  assert.equal(chain.responseHeaders.length, 0);
  const c = ctx();
  assert.deepEqual(identityFieldsOf(c), {}, 'nothing before the filter ran');
  assert.equal((chain.request[0]!(c) as { kind: string }).kind, 'continue');
  assert.deepEqual(identityFieldsOf(c), { consumer: undefined, plan: undefined, api: 'api/default/orders', apiVersion: 'v2' });
  c.attributes.set('consumer', { name: 'default/acme', groups: [], plan: 'default/gold' });
  assert.deepEqual(identityFieldsOf(c), { consumer: 'default/acme', plan: 'default/gold', api: 'api/default/orders', apiVersion: 'v2' });
});

test('the log phase reads attributes without allocating the map', () => {
  const c = ctx();
  assert.deepEqual(identityFieldsOf(c), {});
  assert.equal(identityFieldsOf(undefined), identityFieldsOf(c), 'one shared empty object');
  assert.equal(c.attribute('api'), undefined);
});
