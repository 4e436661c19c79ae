// connectionPool.http.idleTimeout on the real undici transport against real servers: a pool whose
// connection settings say 50 ms closes its idle connection, while a pool with a long idle timeout
// still holds its own at that moment. No elapsed time is asserted: the order of events is.
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { createEndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { connectionKeyOf, type UpstreamConnection, type UpstreamHandler } from '../../src/dataplane/upstream/transport.js';
import { UndiciTransport } from '../../src/dataplane/upstream/undici-transport.js';

function connectionWith(idleTimeoutMs: number): UpstreamConnection {
  return { protocol: 'http1', connectTimeoutMs: 2000, tls: undefined, idleTimeoutMs, key: connectionKeyOf('http1', 2000, undefined, undefined, idleTimeoutMs) };
}

async function startServer(t: { after(fn: () => unknown): void }): Promise<{ port: number; sockets: Socket[]; closed: Set<Socket> }> {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  const server = http.createServer((_req, res) => res.end('ok'));
  // The server never closes idle connections itself: only the client's idle timeout can.
  server.keepAliveTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.push(s);
    s.on('close', () => closed.add(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets, closed };
}

function request(transport: UndiciTransport, port: number, connection: UpstreamConnection): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler: UpstreamHandler = {
      onConnect: () => undefined,
      onHeaders: (s) => {
        status = s;
        return true;
      },
      onData: () => true,
      onComplete: () => resolve(status),
      onError: reject,
    };
    transport.send(createEndpointState('127.0.0.1', port), connection, { method: 'GET', path: '/', headers: ['host', 'x'], body: null, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 }, handler);
  });
}

test('an idle upstream connection closes after the cluster idle timeout, not the transport default', async (t) => {
  const transport = new UndiciTransport({ keepAliveTimeoutMs: 600_000 });
  t.after(() => transport.close());
  const short = await startServer(t);
  const long = await startServer(t);
  assert.equal(connectionWith(50).key === connectionWith(600_000).key, false, 'the idle timeout is part of the pool identity');
  assert.equal(await request(transport, long.port, connectionWith(600_000)), 200);
  assert.equal(await request(transport, short.port, connectionWith(50)), 200);
  // Bounded only so a regression fails instead of hanging (the default here is ten minutes).
  for (let i = 0; short.closed.size === 0; i++) {
    assert.ok(i < 1000, 'the idle connection was never closed');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(short.sockets.length, 1);
  assert.equal(long.closed.size, 0, 'the connection with a long idle timeout is still open');
});
