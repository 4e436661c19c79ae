import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

test('forwards HTTP/1.1 with proxy headers set and hop-by-hop headers removed', async (t) => {
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, {
    path: '/hello?x=1',
    headers: { host: 'shop.example', connection: 'keep-alive, x-secret', 'x-secret': 'drop me', 'keep-alive': 'timeout=5', 'x-forwarded-for': '6.6.6.6', 'x-keep': 'yes' },
  });
  assert.equal(res.status, 200);
  const echoed = JSON.parse(res.body);
  assert.equal(echoed.url, '/hello?x=1');
  assert.equal(echoed.headers.host, 'shop.example');
  assert.equal(echoed.headers['x-keep'], 'yes');
  assert.equal(echoed.headers['x-secret'], undefined, 'a header named in Connection is hop-by-hop');
  assert.equal(echoed.headers['keep-alive'], undefined);
  assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot inject X-Forwarded-For');
  assert.equal(echoed.headers['x-forwarded-proto'], 'http');
  assert.equal(echoed.headers['x-forwarded-host'], 'shop.example');
  assert.match(echoed.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

test('answers 404 no_route with a JSON body naming the reason and the request id', async (t) => {
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c', { path: { kind: 'prefix', value: '/public' } })])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, { path: '/private' });
  assert.equal(res.status, 404);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body);
  assert.equal(body.reason, 'no_route');
  assert.equal(body.request_id, res.headers['x-request-id']);
  for (const evil of ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2E/admin']) {
    const r = await request(gw.httpPort, { path: evil });
    assert.equal(r.status, 404, `${evil} must not match the /public rule`);
  }
  const ok = await request(gw.httpPort, { path: '/public/./x/../y' });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).url, '/public/y', 'the normalised path is forwarded');
});

test('a trusted proxy keeps its X-Forwarded-* and X-Request-Id; the client address is appended', async (t) => {
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]), { trustedProxies: ['127.0.0.0/8'] });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, {
    path: '/',
    headers: { host: 'inner.example', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example', 'x-request-id': 'abc-123' },
  });
  const echoed = JSON.parse(res.body);
  assert.equal(echoed.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(echoed.headers['x-forwarded-proto'], 'https');
  assert.equal(echoed.headers['x-forwarded-host'], 'public.example');
  assert.equal(echoed.headers['x-request-id'], 'abc-123');
});
