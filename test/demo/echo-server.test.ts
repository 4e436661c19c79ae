import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { MAX_ECHOED_BODY_BYTES, type EchoResponse } from '../../src/demo/echo-request.js';
import { EchoServer, startDemoBackends } from '../../src/demo/echo-server.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function send(options: http.RequestOptions, write?: (req: http.ClientRequest) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (write) write(req);
    else req.end();
  });
}

function echoOf(reply: Reply): EchoResponse {
  assert.equal(reply.headers['content-type'], 'application/json');
  return JSON.parse(reply.body.toString('utf8')) as EchoResponse;
}

describe('EchoServer', () => {
  const server = new EchoServer({ host: '127.0.0.1', port: 0, name: 'shop-7d9c-abcde', namespace: 'prod', service: 'shop' });
  let port: number;
  const get = (path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> =>
    send({ host: '127.0.0.1', port, path, headers });

  before(async () => {
    const address = await server.listen();
    assert.equal(address.host, '127.0.0.1');
    port = address.port;
  });
  after(() => server.close());

  it('describes a GET: identity, method, full target, host, proto, canonical multi-valued headers', async () => {
    const reply = await send({
      host: '127.0.0.1',
      port,
      path: '/cart/items?id=7&x=%20',
      headers: [
        ['Host', 'shop.example.com'],
        ['x-request-id', 'abc'],
        ['X-Multi', 'one'],
        ['x-multi', 'two'],
      ] as unknown as http.OutgoingHttpHeaders,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    const echo = echoOf(reply);
    assert.equal(echo.name, 'shop-7d9c-abcde');
    assert.equal(echo.pod, 'shop-7d9c-abcde');
    assert.equal(echo.namespace, 'prod');
    assert.equal(echo.service, 'shop');
    assert.equal(echo.method, 'GET');
    assert.equal(echo.path, '/cart/items?id=7&x=%20');
    assert.equal(echo.host, 'shop.example.com');
    assert.equal(echo.proto, 'HTTP/1.1');
    assert.deepEqual(echo.headers['X-Request-Id'], ['abc']);
    assert.deepEqual(echo.headers['X-Multi'], ['one', 'two']);
    assert.equal(echo.headers['Host'], undefined);
    assert.deepEqual(echo.headers['Connection'], ['close']);
    assert.equal(echo.body, '');
    assert.equal(echo.bodyBytes, 0);
    assert.deepEqual(echo.trailers, {});
    assert.equal(echo.remoteAddress, '127.0.0.1');
    assert.equal(echo.httpPort, port);
  });

  it('echoes a POST body', async () => {
    const reply = await send({ host: '127.0.0.1', port, path: '/orders', method: 'POST', headers: { 'content-type': 'application/json' } }, (req) => {
      req.write('{"item":');
      req.end('"tea ☕"}');
    });
    const echo = echoOf(reply);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, '{"item":"tea ☕"}');
    assert.equal(echo.bodyBytes, Buffer.byteLength('{"item":"tea ☕"}'));
  });

  it('truncates an echoed body at 64 KiB but counts all of it', async () => {
    const size = MAX_ECHOED_BODY_BYTES * 3 + 5;
    const reply = await send({ host: '127.0.0.1', port, path: '/upload', method: 'PUT' }, (req) => req.end(Buffer.alloc(size, 'b')));
    const echo = echoOf(reply);
    assert.equal(echo.body.length, MAX_ECHOED_BODY_BYTES);
    assert.equal(echo.bodyBytes, size);
  });

  it('echoes request trailers', async () => {
    const reply = await send(
      { host: '127.0.0.1', port, path: '/t', method: 'POST', headers: { 'transfer-encoding': 'chunked', trailer: 'x-checksum' } },
      (req) => {
        req.write('part');
        req.addTrailers({ 'x-checksum': 'abc123' });
        req.end();
      },
    );
    const echo = echoOf(reply);
    assert.equal(echo.body, 'part');
    assert.deepEqual(echo.trailers, { 'X-Checksum': ['abc123'] });
  });

  it('answers ?status=NNN with that status and the description', async () => {
    const reply = await get('/fail?status=503');
    assert.equal(reply.status, 503);
    assert.equal(echoOf(reply).path, '/fail?status=503');
    const noContent = await get('/?status=204');
    assert.equal(noContent.status, 204);
    assert.equal(noContent.body.length, 0);
    assert.equal(noContent.headers['content-length'], undefined);
  });

  it('waits ?delay=MS before answering', async () => {
    const started = performance.now();
    const reply = await get('/slow?delay=150');
    assert.equal(reply.status, 200);
    assert.ok(performance.now() - started >= 140, 'answered after the delay');
  });

  it('streams ?size=N bytes instead of the description', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const reply = await get(`/big?size=${size}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/octet-stream');
    assert.equal(reply.headers['content-length'], String(size));
    assert.equal(reply.body.length, size);
    const small = await get('/?size=5&status=201');
    assert.equal(small.status, 201);
    assert.equal(small.body.toString(), 'xxxxx');
    assert.equal((await get('/?size=0')).body.length, 0);
  });

  it('answers 400 with a reason for malformed controls', async () => {
    for (const query of ['status=99', 'status=abc', 'delay=-1', 'size=1e3', 'delay=999999999']) {
      const reply = await get(`/?${query}`);
      assert.equal(reply.status, 400, query);
      const body = JSON.parse(reply.body.toString()) as { error: string; message: string };
      assert.equal(body.error, 'bad_request');
      assert.match(body.message, /must be an integer/);
    }
  });

  it('echoes WebSocket text and binary messages on /ws', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const next = (): Promise<{ data: Buffer; isBinary: boolean }> =>
      new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
    let received = next();
    ws.send('hello');
    assert.deepEqual(await received, { data: Buffer.from('hello'), isBinary: false });
    received = next();
    ws.send(Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(await received, { data: Buffer.from([0, 1, 2, 255]), isBinary: true });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
  });

  it('answers a non-WebSocket upgrade (Upgrade: h2c) as a plain HTTP/1.1 request', async () => {
    const reply = await get('/h2c', { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' });
    assert.equal(reply.status, 200);
    const echo = echoOf(reply);
    assert.equal(echo.path, '/h2c');
    assert.deepEqual(echo.headers['Upgrade'], ['h2c']);
    const failing = await get('/h2c?status=502', { connection: 'Upgrade', upgrade: 'h2c' });
    assert.equal(failing.status, 502);
    assert.equal(echoOf(failing).path, '/h2c?status=502');
  });

  it('describes a plain GET /ws without an upgrade', async () => {
    assert.equal(echoOf(await get('/ws')).path, '/ws');
  });
});

describe('EchoServer.close', () => {
  it('does not wait for delayed answers or open WebSockets', async () => {
    const server = new EchoServer({ host: '127.0.0.1', port: 0, name: 'closing' });
    const { port } = await server.listen();
    const pending = send({ host: '127.0.0.1', port, path: '/?delay=100000' });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => ws.once('open', resolve));
    const wsClosed = new Promise((resolve) => ws.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the delayed request arrive
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 1000);
    await assert.rejects(pending);
    await wsClosed;
  });

  it('defaults namespace to `default` and service to null', async () => {
    const server = new EchoServer({ host: '127.0.0.1', port: 0, name: 'solo' });
    const { port } = await server.listen();
    try {
      const echo = echoOf(await send({ host: '127.0.0.1', port, path: '/' }));
      assert.equal(echo.namespace, 'default');
      assert.equal(echo.service, null);
    } finally {
      await server.close();
    }
  });
});

/** A port that is free on 127.0.0.2 right now (the demo gives each pod its own loopback address). */
async function freePort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen({ host, port: 0 }, resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('startDemoBackends', () => {
  it('starts one echo server per pod, told apart by loopback address on the same port', async () => {
    const port = await freePort('127.0.0.2');
    const backends = await startDemoBackends([
      { address: '127.0.0.2', port, name: 'shop-a', namespace: 'default', service: 'shop' },
      { address: '127.0.0.3', port, name: 'shop-b', namespace: 'default' },
    ]);
    try {
      const a = echoOf(await send({ host: '127.0.0.2', port, path: '/' }));
      const b = echoOf(await send({ host: '127.0.0.3', port, path: '/' }));
      assert.equal(a.name, 'shop-a');
      assert.equal(a.service, 'shop');
      assert.equal(b.name, 'shop-b');
      assert.equal(b.service, null);
    } finally {
      await backends.close();
    }
    await assert.rejects(send({ host: '127.0.0.2', port, path: '/' }), /ECONNREFUSED/);
  });

  it('closes what it started and names the pod when one cannot bind', async () => {
    const port = await freePort('127.0.0.2');
    await assert.rejects(
      startDemoBackends([
        { address: '127.0.0.2', port, name: 'first', namespace: 'default' },
        { address: '127.0.0.2', port, name: 'clash', namespace: 'default' },
      ]),
      /demo backend default\/clash cannot listen on 127\.0\.0\.2:\d+: .*EADDRINUSE/,
    );
    await assert.rejects(send({ host: '127.0.0.2', port, path: '/' }), /ECONNREFUSED/);
  });
});
