import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

test('mirrors get a copy of the request (body included); their answers are dropped', async (t) => {
  const seen: { url: string; body: string }[] = [];
  const mirror = await startUpstream((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body });
      res.writeHead(500);
      res.end('the mirror fails, nobody notices');
    });
  });
  const main = await startUpstream(echoHandler('main'));
  const mirrored = forwardRoute('m', 'main', { path: { kind: 'prefix', value: '/m' } }, { mirrors: [{ cluster: 'shadow' }] });
  const never = forwardRoute('n', 'main', { path: { kind: 'prefix', value: '/n' } }, { mirrors: [{ cluster: 'shadow', percent: 0 }] });
  const gw = await startGateway(snapshot([httpListener([mirrored, never])], [cluster('main', [main]), cluster('shadow', [mirror])]));
  t.after(async () => {
    await gw.close();
    await main.close();
    await mirror.close();
  });
  const get = await request(gw.httpPort, { path: '/m/get?x=1' });
  assert.equal(get.status, 200);
  assert.equal(JSON.parse(get.body).name, 'main');
  const post = await request(gw.httpPort, { method: 'POST', path: '/m/post', body: 'hello mirror', headers: { 'content-type': 'text/plain' } });
  assert.equal(post.status, 200);
  assert.equal(JSON.parse(post.body).body, 'hello mirror', 'the real upstream still gets the body');
  await request(gw.httpPort, { path: '/n/never' });
  const deadline = Date.now() + 2000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    seen.sort((a, b) => a.url.localeCompare(b.url)),
    [
      { url: '/m/get?x=1', body: '' },
      { url: '/m/post', body: 'hello mirror' },
    ],
  );
});
