import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

/** Sends raw bytes and collects everything the gateway answers until it closes (or 2 s). */
function raw(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(payload));
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    const done = (): void => resolve(Buffer.concat(chunks).toString('latin1'));
    s.on('close', done);
    setTimeout(() => {
      s.destroy();
      done();
    }, 2000).unref();
  });
}

test('smuggling attempts and malformed requests get 400 and never reach the upstream', async (t) => {
  const seen: string[] = [];
  const up = await startUpstream((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const attempts: Record<string, string> = {
    'CL + TE': 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    'duplicate CL': 'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    'conflicting CL': 'POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabc',
    'TE not chunked': 'POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc',
    'bad header char': 'GET /e HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n',
    'space before colon': 'GET /f HTTP/1.1\r\nHost: x\r\nX-Bad : v\r\n\r\n',
    'bare LF in header': 'GET /g HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n',
    'two Hosts': 'GET /h HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'bad percent escape': 'GET /i%zz HTTP/1.1\r\nHost: x\r\n\r\n',
  };
  for (const [name, payload] of Object.entries(attempts)) {
    const answer = await raw(gw.httpPort, payload);
    assert.match(answer, /^HTTP\/1\.1 400 /, `${name}: got ${JSON.stringify(answer.slice(0, 80))}`);
  }
  assert.deepEqual(seen.filter((s) => s.includes('smuggled') || /\/[a-i](%|$| )/.test(s)), [], `nothing malformed reached the upstream: ${seen.join(', ')}`);
});

test('oversized headers get 431 and an over-long target gets 414, with JSON bodies', async (t) => {
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const big = await raw(gw.httpPort, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  assert.match(big, /"reason":"request_headers_too_large"/);
  const longUri = await request(gw.httpPort, { path: '/' + 'b'.repeat(9000) });
  assert.equal(longUri.status, 414);
  assert.equal(JSON.parse(longUri.body).reason, 'uri_too_long');
  const ok = await request(gw.httpPort, { path: '/still-serving' });
  assert.equal(ok.status, 200);
});
