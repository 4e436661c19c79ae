// examples/apim served by the real gateway: API keys, consumer forwarding, rate limits, the
// deprecation headers of v1, the OpenAPI-validated v3, all through the whole pipeline (translator, filters, data plane)
// with node's HTTP client. The example's backends listen on 127.0.0.1:9301 and :9302.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { EchoServer } from '../../src/demo/echo-server.js';
import { httpRequest, repoRoot, startGateway } from './cli-harness.js';

const ACME = 'demo-acme-k7Qx2vN9pL4s';
const GLOBEX = 'demo-globex-Rm3tY8wB1cZ6';
const HOST = 'api.partners.localhost';

interface Echo {
  name: string;
  headers: Record<string, string[]>;
}

test('examples/apim: keys, consumers, rate limits, the deprecated v1 and the OpenAPI-validated v3, end to end', async (t) => {
  for (const [port, name] of [[9301, 'orders-v1'], [9302, 'orders-v2']] as const) {
    const echo = new EchoServer({ host: '127.0.0.1', port, name });
    await echo.listen();
    t.after(() => echo.close());
  }
  const gw = await startGateway(t, { config: [path.join(repoRoot(), 'examples', 'apim')] });
  const get = (p: string, headers: Record<string, string> = {}) => httpRequest({ port: gw.httpPort, path: p, headers: { host: HOST, ...headers } });
  const post = (p: string, body: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.httpPort, method: 'POST', path: p, agent: false, headers: { host: HOST, ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  // No key: 401 with a challenge, the project's JSON reply shape.
  const anonymous = await get('/v2/orders');
  assert.equal(anonymous.status, 401);
  assert.match(String(anonymous.headers['www-authenticate']), /^ApiKey realm=/);
  assert.equal(JSON.parse(anonymous.body).reason, 'unauthorized');
  // A wrong key: 401 too.
  assert.equal((await get('/v2/orders', { 'x-api-key': 'demo-acme-wrong' })).status, 401);

  // acme's key: served by v2, which sees the consumer the gateway set, not the client's forgery.
  const ok = await get('/v2/orders', { 'x-api-key': ACME, 'x-consumer': 'partners/globex' });
  assert.equal(ok.status, 200);
  const echo = JSON.parse(ok.body) as Echo;
  assert.equal(echo.name, 'orders-v2');
  assert.deepEqual(echo.headers['X-Consumer'] ?? echo.headers['x-consumer'], ['partners/acme']);
  assert.match(String(ok.headers['ratelimit-policy']), /q=/, 'RateLimit-Policy on a served response');
  assert.match(String(ok.headers['ratelimit']), /r=\d+/);
  assert.equal(ok.headers['deprecation'], undefined, 'v2 is published');

  // v1 is deprecated: served, with Deprecation, Sunset and Link headers.
  const v1 = await get('/v1/orders', { 'x-api-key': GLOBEX });
  assert.equal(v1.status, 200);
  assert.equal(JSON.parse(v1.body).name, 'orders-v1');
  assert.equal(v1.headers['deprecation'], `@${Date.parse('2025-01-01T00:00:00Z') / 1000}`);
  assert.equal(v1.headers['sunset'], 'Thu, 31 Dec 2026 00:00:00 GMT');
  assert.match(String(v1.headers['link']), /rel="successor-version"/);
  assert.match(String(v1.headers['link']), /<https:\/\/partners\.example\.com\/api-deprecation-policy>; rel="deprecation"/);

  // v1's own policy: 30 a minute per consumer. globex has used 1; 29 more pass, the next is 429.
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await get('/v1/orders', { 'x-api-key': GLOBEX })).status);
  assert.deepEqual(statuses.slice(0, 29), Array(29).fill(200));
  assert.equal(statuses[29], 429);
  const limited = await get('/v1/orders', { 'x-api-key': GLOBEX });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After ${String(limited.headers['retry-after'])}`);
  assert.equal(JSON.parse(limited.body).status, 429);
  // The limit is per consumer: acme still gets through on v1.
  assert.equal((await get('/v1/orders', { 'x-api-key': ACME })).status, 200);

  // v3: routes generated from the OpenAPI document in openapi.yaml, requests validated against it,
  // behind the same Gateway-wide API keys.
  const listed = await get('/v3/orders?limit=10', { 'x-api-key': ACME });
  assert.equal(listed.status, 200, listed.body);
  assert.equal((JSON.parse(listed.body) as Echo).name, 'orders-v2');
  assert.equal((await get('/v3/orders?limit=10')).status, 401, 'authentication before validation');
  assert.equal((await get('/v3/customers', { 'x-api-key': ACME })).status, 404, 'no route off the document');
  const badQuery = await get('/v3/orders?limit=ten', { 'x-api-key': ACME });
  assert.equal(badQuery.status, 400);
  assert.deepEqual([JSON.parse(badQuery.body).field, JSON.parse(badQuery.body).message], ['query.limit', "query parameter 'limit' must be integer"]);
  assert.equal(JSON.parse((await get('/v3/orders/0', { 'x-api-key': ACME })).body).field, 'path.id');
  const order = '{"sku":"ABC-1","quantity":2,"note":null}';
  const created = await post('/v3/orders', order, { 'x-api-key': ACME, 'content-type': 'application/json' });
  assert.equal(created.status, 200, created.body);
  assert.equal(JSON.parse(created.body).body, order, 'the body reaches the upstream as sent');
  const refused = await post('/v3/orders', '{"sku":"abc","quantity":2}', { 'x-api-key': ACME, 'content-type': 'application/json' });
  assert.equal(refused.status, 400);
  assert.equal(JSON.parse(refused.body).field, 'body.sku');

  // /api/config shows the policies but not the key hashes.
  const config = (await httpRequest({ port: gw.adminPort, path: '/api/config' })).body;
  assert.match(config, /"kind":"authn"/);
  assert.doesNotMatch(config, /[0-9a-f]{64}/, 'no SHA-256 of a key in /api/config');
});
