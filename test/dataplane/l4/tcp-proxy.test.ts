// The TCP path with real sockets on 127.0.0.1: echo, half-close, a dead endpoint skipped on
// connect, idle timeout, no route, and one l4ConnectionEnd message per connection.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { backend, closedPort, connect, echoServer, exchange, l4Listener, local, readAll, recordConnectionEnds, tcpServer } from './l4-harness.js';

const ends = recordConnectionEnds();
after(() => ends.stop());

test('bytes go through both ways and the close is reported with byte counts', async (t) => {
  const echo = await echoServer('a');
  const server = new L4Server();
  t.after(async () => (await server.close(), await echo.close()));
  const result = await server.apply([l4Listener('tcp/echo', [backend('svc/a', [local(echo.port)])])]);
  assert.deepEqual(result.bound, ['tcp/echo']);
  const client = await connect(server.portOf('tcp/echo')!);
  assert.equal(await exchange(client, 'hello', 'a:hello'.length), 'a:hello');
  client.end();
  const m = await ends.waitFor((x) => x.listener === 'tcp/echo');
  assert.equal(m.reason, 'client_closed');
  assert.equal(m.endpoint, `127.0.0.1:${echo.port}`);
  assert.equal(m.route, 'tcp/echo/route');
  assert.equal(m.backend, 'svc/a');
  assert.equal(m.bytesIn, 5);
  assert.equal(m.bytesOut, 7);
  assert.equal(m.clientAddress, '127.0.0.1');
});

test('half-close: the client ends its side and still receives what the server sends after', async (t) => {
  // The server answers only once it sees the client's FIN, then sends more and closes.
  const upstream = await tcpServer((s) => {
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => {
      s.write(`got ${got.length} bytes;`);
      setTimeout(() => s.end('bye'), 50);
    });
  });
  const server = new L4Server();
  t.after(async () => (await server.close(), await upstream.close()));
  await server.apply([l4Listener('tcp/half', [backend('svc/h', [local(upstream.port)])])]);
  const client = await connect(server.portOf('tcp/half')!);
  const all = readAll(client);
  client.end('0123456789');
  const { data, ended } = await all;
  assert.equal(data, 'got 10 bytes;bye');
  assert.equal(ended, 'end');
  const m = await ends.waitFor((x) => x.listener === 'tcp/half');
  assert.equal(m.reason, 'client_closed');
});

test('a refused endpoint is skipped on connect: every client is served', async (t) => {
  const dead = await closedPort();
  const echo = await echoServer('live');
  const server = new L4Server();
  t.after(async () => (await server.close(), await echo.close()));
  await server.apply([l4Listener('tcp/retry', [backend('svc/r', [local(dead), local(echo.port)])], { scheduler: 'rr' })]);
  const port = server.portOf('tcp/retry')!;
  for (let i = 0; i < 6; i++) {
    const client = await connect(port);
    assert.equal(await exchange(client, `m${i}`, `live:m${i}`.length), `live:m${i}`);
    client.destroy();
  }
  assert.ok(!ends.messages.some((m) => m.listener === 'tcp/retry' && m.reason === 'connect_failed'));
});

test('no endpoint answers: the client is closed and the reason is connect_failed', async (t) => {
  const dead = await closedPort();
  const server = new L4Server();
  t.after(() => server.close());
  await server.apply([l4Listener('tcp/dead', [backend('svc/d', [local(dead)])])]);
  const client = await connect(server.portOf('tcp/dead')!);
  const { data } = await readAll(client);
  assert.equal(data, '');
  const m = await ends.waitFor((x) => x.listener === 'tcp/dead');
  assert.equal(m.reason, 'connect_failed');
  assert.equal(m.endpoint, `127.0.0.1:${dead}`);
});

test('a listener without routes closes connections as no_route', async (t) => {
  const server = new L4Server();
  t.after(() => server.close());
  await server.apply([{ ...l4Listener('tcp/none', []), routes: [] }]);
  const client = await connect(server.portOf('tcp/none')!);
  await readAll(client);
  assert.equal((await ends.waitFor((x) => x.listener === 'tcp/none')).reason, 'no_route');
});

test('idle timeout closes a connection with no bytes either way; traffic keeps it open', async (t) => {
  const echo = await echoServer('i');
  const server = new L4Server();
  t.after(async () => (await server.close(), await echo.close()));
  await server.apply([l4Listener('tcp/idle', [backend('svc/i', [local(echo.port)])], { idleTimeoutMs: 300 })]);
  const client = await connect(server.portOf('tcp/idle')!);
  const closed = readAll(client);
  const started = Date.now();
  // Traffic every 100 ms for 600 ms: longer than the timeout, never idle for it.
  for (let i = 0; i < 6; i++) {
    await exchange(client, 'x', 3);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(ends.messages.filter((m) => m.listener === 'tcp/idle').length, 0);
  await closed;
  const m = await ends.waitFor((x) => x.listener === 'tcp/idle');
  assert.equal(m.reason, 'idle_timeout');
  assert.ok(Date.now() - started >= 800, 'closed only after 300 ms without traffic');
});

test('a bind that fails is reported, the others are served', async (t) => {
  const taken = await tcpServer(() => {});
  const echo = await echoServer('ok');
  const server = new L4Server();
  t.after(async () => (await server.close(), await taken.close(), await echo.close()));
  const result = await server.apply([
    { ...l4Listener('tcp/taken', [backend('svc/x', [local(echo.port)])]), port: taken.port },
    l4Listener('tcp/free', [backend('svc/x', [local(echo.port)])]),
  ]);
  assert.deepEqual(result.bound, ['tcp/free']);
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0]!.listener, 'tcp/taken');
  assert.match(result.failed[0]!.message, /EADDRINUSE/);
});
