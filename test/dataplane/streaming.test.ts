import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { cluster, forwardRoute, httpListener, snapshot, startGateway, startUpstream } from './harness.js';

const run = promisify(execFile);

test('request and response bodies stream through without buffering, with backpressure', async (t) => {
  // The upstream hashes what it receives and answers with a large body written in chunks.
  const up = await startUpstream((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'x-received': String(bytes), 'x-sha': hash.digest('hex') });
      let left = 64;
      const chunk = Buffer.alloc(256 * 1024, 'z');
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const body = Buffer.alloc(8 * 1024 * 1024, 'q');
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.httpPort, method: 'POST', path: '/upload', agent: false }, resolve);
    req.on('error', reject);
    // Chunked upload in 1 MiB pieces.
    for (let i = 0; i < 8; i++) req.write(body.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    req.end();
  });
  assert.equal(res.headers['x-received'], String(body.length));
  assert.equal(res.headers['x-sha'], createHash('sha256').update(body).digest('hex'));
  // A slow reader: pause, and the gateway must not buffer 16 MiB for us (backpressure upstream).
  res.pause();
  await new Promise((r) => setTimeout(r, 300));
  let total = 0;
  res.on('data', (c: Buffer) => (total += c.length));
  res.resume();
  await once(res, 'end');
  assert.equal(total, 64 * 256 * 1024);
});

test('response trailers are forwarded (HTTP/1.1 chunked)', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { trailer: 'x-checksum', 'content-type': 'text/plain' });
    res.write('data');
    res.addTrailers({ 'x-checksum': 'abc123' });
    res.end();
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.httpPort, path: '/', agent: false }, resolve).on('error', reject);
  });
  res.resume();
  await once(res, 'end');
  assert.equal(res.trailers['x-checksum'], 'abc123');
});

test('Expect: 100-continue with curl: the client gets 100, the body streams upstream', async (t) => {
  const up = await startUpstream((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`got ${n} expect=${req.headers.expect ?? 'none'}`));
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const { stdout, stderr } = await run('curl', ['-sv', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(5000), `http://127.0.0.1:${gw.httpPort}/up`]);
  assert.match(stderr, /HTTP\/1\.1 100 Continue/);
  assert.equal(stdout, 'got 5000 expect=none');
});

test('a Service port with appProtocol h2c is reached over HTTP/2 cleartext', async (t) => {
  const h2 = http2.createServer((req, res) => res.end(`proto=${req.httpVersion} path=${req.url}`));
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  const port = (h2.address() as AddressInfo).port;
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port }], { protocol: 'h2c' })]));
  t.after(async () => {
    await gw.close();
    h2.close();
  });
  const res = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.httpPort, path: '/grpc-ish', agent: false }, (r) => {
      let s = '';
      r.on('data', (c: Buffer) => (s += c));
      r.on('end', () => resolve(s));
    }).on('error', reject);
  });
  assert.equal(res, 'proto=2.0 path=/grpc-ish');
});

test('HTTP/2 end to end (h2c client → h2c upstream): response trailers arrive, as gRPC needs', async (t) => {
  const h2 = http2.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/grpc' });
    res.write(Buffer.from([0, 0, 0, 0, 0]));
    res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' });
    res.end();
    void req;
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  const port = (h2.address() as AddressInfo).port;
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port }], { protocol: 'h2c' })]));
  t.after(async () => {
    await gw.close();
    h2.close();
  });
  const session = http2.connect(`http://127.0.0.1:${gw.httpPort}`);
  t.after(() => session.close());
  const stream = session.request({ ':method': 'POST', ':path': '/pkg.Svc/Method', 'content-type': 'application/grpc', te: 'trailers' });
  stream.end(Buffer.from([0, 0, 0, 0, 0]));
  const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.on('trailers', resolve);
    stream.on('error', reject);
    stream.resume();
  });
  assert.equal(trailers['grpc-status'], '0');
  assert.equal(trailers['grpc-message'], 'ok');
});
