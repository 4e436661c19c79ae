// End to end over real HTTP: a node:http server in the test runs the compiled rate-limit and quota
// filters per request, as the data plane's request and response-header phases will once the
// filters are wired (request-handler.ts, route-reply.ts), with node's http client on the other
// side. It shows what a client sees: the fields on 200s and on the 429, both filters' items as
// separate field lines joined into one list, Retry-After, and the JSON body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/core/clock.js';
import { compileRateLimits } from '../../src/dataplane/filters/rate-limit.js';
import { compileQuotas } from '../../src/dataplane/filters/quota.js';
import { runRequestPhase } from '../../src/dataplane/http/request-handler.js';
import { localReplyHeaders } from '../../src/dataplane/http/local-reply.js';
import { RequestContextRecord } from '../../src/dataplane/filters/request-context.js';
import type { FilterOutcome } from '../../src/dataplane/filters/filter-types.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';

test('a client over HTTP sees the RateLimit fields, then a 429 with Retry-After and a JSON body', async (t) => {
  const clock = new ManualClock(Date.UTC(2030, 6, 1, 12), 0);
  const deps = { clock, local: new MemoryCounterStore(clock), global: undefined };
  const limits = compileRateLimits(
    { policy: 'ratelimitpolicy/default/orders', limits: [{ name: 'per-consumer', requests: 3, periodMs: 60_000, key: { kind: 'consumer' }, scope: 'local' }], onStoreFailure: 'open' },
    deps,
  );
  const quotas = compileQuotas({ policy: 'plan/default/free', quotas: [{ name: 'daily', requests: 100, period: 'day', scope: 'local' }], onStoreFailure: 'open' }, deps);
  const requestPhase = [limits.request, quotas.request];
  const responsePhase = [limits.responseHeaders, quotas.responseHeaders];
  let id = 0;

  const server = http.createServer(async (req, res) => {
    const ctx = new RequestContextRecord(`r${++id}`, performance.now(), Date.now(), req.method!, 'http', req.headers.host!, '127.0.0.1', req.url!, '', req.headers, req.socket.remoteAddress!, 'HTTP/1.1', 'test', 'httproute/default/orders/rule/0', false);
    // Stands in for the authentication filter, which runs before these.
    const consumer = req.headers['x-consumer'];
    if (typeof consumer === 'string') ctx.attributes.set('consumer', { name: consumer, groups: [] });
    const outcome: FilterOutcome = await runRequestPhase(requestPhase, ctx);
    const body = outcome.kind === 'respond' ? outcome.body! : 'hello';
    const status = outcome.kind === 'respond' ? outcome.status : 200;
    const headers = localReplyHeaders(body, outcome.kind === 'respond' ? outcome.contentType! : 'text/plain', ctx.requestId, outcome.kind === 'respond' ? outcome.headers : undefined);
    for (const f of responsePhase) f(ctx, status, headers);
    res.writeHead(status, headers);
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  const get = (consumer: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/orders', headers: { 'x-consumer': consumer }, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    });

  const first = await get('default/acme');
  assert.equal(first.status, 200);
  assert.equal(first.body, 'hello');
  // Two field lines each (rate limit, quota), which the client joins into one list (RFC 9110 §5.3).
  assert.equal(first.headers['ratelimit-policy'], '"per-consumer";q=3;w=60, "daily";q=100;w=86400');
  assert.equal(first.headers['ratelimit'], '"per-consumer";r=2;t=20, "daily";r=99;t=43200');
  await get('default/acme');
  await get('default/acme');
  const refused = await get('default/acme');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '10');
  assert.equal(refused.headers['content-type'], 'application/json');
  assert.equal(refused.headers['ratelimit'], '"per-consumer";r=0;t=10');
  const body = JSON.parse(refused.body);
  assert.deepEqual([body.status, body.reason, body.limit, body.retryAfterSeconds, body.request_id], [429, 'rate_limited', 'per-consumer', 10, refused.headers['x-request-id']]);
  // Another consumer is not affected.
  assert.equal((await get('default/globex')).status, 200);
  clock.advance(10_000);
  assert.equal((await get('default/acme')).status, 200, 'one request back after Retry-After');
});
