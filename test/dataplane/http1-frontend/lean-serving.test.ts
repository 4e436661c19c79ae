// The gateway serving through the lean front end (limits.http1Frontend 'lean', as
// `--http1-frontend lean` sets it): keep-alive, pipelining in order, 100-continue, chunked uploads
// with trailers, HEAD, Connection: close, and refusals answered with the same JSON local replies
// as under node:http. Real clients and a real upstream on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { cluster, forwardRoute, httpListener, snapshot, startGateway, startUpstream } from '../harness.js';

async function startLeanGateway(t: import('node:test').TestContext): Promise<number> {
  const backend = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString(), trailers: req.trailers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('all', 'backend')])], [cluster('backend', [backend])]), { limits: { http1Frontend: 'lean', maxHeaderBytes: 16 * 1024 } });
  t.after(async () => {
    await gw.close();
    await backend.close();
  });
  return gw.httpPort;
}

/** Writes `payload`, reads until the gateway closes or `waitMs` pass. */
function raw(port: number, payload: string, waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('close', done);
    const timer = setTimeout(done, waitMs);
  });
}

test('keep-alive: two requests on one connection, bodies both ways', async (t) => {
  const port = await startLeanGateway(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const sockets = new Set<net.Socket>();
  for (const body of ['first', 'x'.repeat(200_000)]) {
    const answer = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/echo', agent, headers: { host: 'a.example' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), connection: res.headers.connection }));
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.connection, 'keep-alive');
    assert.equal(JSON.parse(answer.body).body, body);
  }
  assert.equal(sockets.size, 1, 'both requests used one connection');
});

test('pipelined requests are answered in order', async (t) => {
  const port = await startLeanGateway(t);
  const answer = await raw(port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const urls = [...answer.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/1', '/2', '/3']);
  assert.equal((answer.match(/HTTP\/1\.1 200 /g) ?? []).length, 3);
});

test('Expect: 100-continue, a chunked upload with trailers, HEAD and Connection: close', async (t) => {
  const port = await startLeanGateway(t);
  const continued = await raw(port, 'POST /c HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  assert.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  const chunked = await raw(port, 'POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n');
  assert.match(chunked, /"body":"abcde"/);
  const head = await raw(port, 'HEAD /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.ok(head.endsWith('\r\n\r\n'), 'no body after the head of a HEAD response');
  assert.match(head, /\r\nconnection: close\r\n/i);
});

test('refusals: the same JSON local replies as under node:http', async (t) => {
  const port = await startLeanGateway(t);
  const cases: [string, number, string][] = [
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', 400, 'bad_request'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad_request'],
    ['GET / HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`, 431, 'request_headers_too_large'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'bad_request'],
  ];
  for (const [payload, status, reason] of cases) {
    const answer = await raw(port, payload);
    assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(payload.slice(0, 60)));
    assert.match(answer, new RegExp(`"reason":"${reason}"`));
  }
  // Still serving.
  assert.match(await raw(port, 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
});

test('response framing on the wire: chunked with an upstream trailer, 204 and HEAD without a body, keep-alive after each', async (t) => {
  // An upstream that answers without a length (so the gateway frames it chunked), with a trailer,
  // a 204, and a sized body (for HEAD): each ends the response in one call of the lean response's end().
  const backend = await startUpstream((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      res.addTrailers({ 'x-sum': '5' });
      res.end('hello');
    } else if (req.url === '/none') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(200, { 'content-length': '4' });
      res.end(req.method === 'HEAD' ? undefined : 'body');
    }
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('all', 'backend')])], [cluster('backend', [backend])]), { limits: { http1Frontend: 'lean' } });
  t.after(async () => {
    await gw.close();
    await backend.close();
  });
  const answer = await raw(gw.httpPort, 'GET /chunked HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\nGET /none HTTP/1.1\r\nHost: a\r\n\r\nHEAD /sized HTTP/1.1\r\nHost: a\r\n\r\nGET /sized HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const responses = answer.split(/(?=HTTP\/1\.1 \d{3} )/);
  assert.equal(responses.length, 4, answer);
  const [chunked, none, head, sized] = responses as [string, string, string, string];
  assert.match(chunked, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(chunked, /\r\ntransfer-encoding: chunked\r\n/i);
  assert.match(chunked, /\r\nconnection: keep-alive\r\n/i);
  assert.ok(chunked.endsWith('\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n'), JSON.stringify(chunked));
  assert.match(none, /^HTTP\/1\.1 204 No Content\r\n/);
  assert.ok(none.endsWith('\r\n\r\n') && !/transfer-encoding|content-length: [1-9]/i.test(none), JSON.stringify(none));
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\ncontent-length: 4\r\n/i);
  assert.ok(head.endsWith('\r\n\r\n'), JSON.stringify(head));
  assert.ok(sized.endsWith('\r\n\r\nbody'), JSON.stringify(sized));
  assert.match(sized, /\r\nconnection: close\r\n/i);
});
