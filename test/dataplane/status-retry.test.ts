// Retries on upstream status codes (Gateway API retry.codes/attempts): the failing response is
// dropped before anything reaches the client, the request goes out again (its small body too), and
// the last answer is relayed as is when the attempts run out. Statuses the route does not name are
// never retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

test('a status the route retries on is retried up to `attempts` times, with the body; other statuses are relayed at once', async (t) => {
  const calls = new Map<string, number>();
  const bodies: string[] = [];
  const up = await startUpstream((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const id = url.searchParams.get('id') ?? '';
    const n = (calls.get(id) ?? 0) + 1;
    calls.set(id, n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (chunks.length > 0) bodies.push(Buffer.concat(chunks).toString());
      const failFor = Number(url.searchParams.get('failFor') ?? '0');
      const code = Number(url.searchParams.get('code') ?? '500');
      res.writeHead(n <= failFor ? code : 200, { 'content-type': 'text/plain', 'x-try': String(n) });
      res.end(n <= failFor ? 'failed' : 'ok');
    });
  });
  const route = forwardRoute('r', 'c', undefined, { retry: { attempts: 2, retryOn: [{ kind: 'connect-failure' }, { kind: 'retriable-status-codes', codes: [500, 503] }], allowNonIdempotent: true } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });

  const once = await request(gw.httpPort, { path: '/?id=a&failFor=1' });
  assert.equal(once.status, 200);
  assert.equal(once.body, 'ok');
  assert.equal(once.headers['x-try'], '2');

  const twice = await request(gw.httpPort, { path: '/?id=b&failFor=2&code=503' });
  assert.equal(twice.status, 200, 'two retries are allowed');
  assert.equal(calls.get('b'), 3);

  const exhausted = await request(gw.httpPort, { path: '/?id=c&failFor=5' });
  assert.equal(exhausted.status, 500, 'the last failure is relayed');
  assert.equal(exhausted.body, 'failed');
  assert.equal(calls.get('c'), 3, 'one try and two retries');
  // Passive health ejects an endpoint after 5 consecutive 5xx: a success resets the count.
  assert.equal((await request(gw.httpPort, { path: '/?id=fine' })).status, 200);

  const other = await request(gw.httpPort, { path: '/?id=d&failFor=1&code=502' });
  assert.equal(other.status, 502, '502 is not in the route\'s list');
  assert.equal(calls.get('d'), 1);

  const post = await request(gw.httpPort, { method: 'POST', path: '/?id=e&failFor=1', headers: { 'content-type': 'text/plain', 'content-length': '5' }, body: 'hello' });
  assert.equal(post.status, 200);
  assert.deepEqual(bodies, ['hello', 'hello'], 'the body went out with each try');
});
