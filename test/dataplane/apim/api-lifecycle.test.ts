import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileApiLifecycle, deprecationValue } from '../../../src/dataplane/filters/api-lifecycle.js';
import { RequestContextRecord } from '../../../src/dataplane/filters/request-context.js';

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
  assert.equal(chain.request.length, 0, 'a deprecated version is served');
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
  const outcome = await chain.request[0]!(ctx());
  assert.equal(outcome.kind, 'respond');
  if (outcome.kind !== 'respond') return;
  assert.equal(outcome.status, 410);
  assert.deepEqual(outcome.headers, ['link', '<https://api.example/v2/>; rel="successor-version"']);
  const body = JSON.parse(outcome.body ?? '{}') as { reason: string; successor: string; request_id: string };
  assert.equal(body.reason, 'api_version_retired');
  assert.equal(body.successor, 'https://api.example/v2/');
  assert.equal(body.request_id, 'req-1');
});

test('a published version adds nothing', () => {
  const chain = compileApiLifecycle({ api: 'api/default/orders/v2', stage: 'published' });
  assert.equal(chain.request.length + chain.responseHeaders.length, 0);
});
