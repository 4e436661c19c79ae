// The raw pool's connection management against hand-written upstreams, checked by counting the
// connections the server accepted: reuse, the keep-alive race, idle expiry (ours and the server's
// Keep-Alive hint), the request limit per connection, the per-endpoint cap and its FIFO queue.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { RawTransport } from '../../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { answerEach, connectionFor, eventually, OK, send, startRawServer } from './raw-harness.js';

/**
 * The first connection answers once, then closes as the second request arrives, as a server whose
 * idle timeout fired just as we wrote would; later connections answer every request.
 */
function startRacingServer(t: Parameters<typeof startRawServer>[0]): ReturnType<typeof startRawServer> {
  return startRawServer(t, (s, index) =>
    answerEach(s, (_head, i) => {
      if (index === 0 && i === 1) {
        s.destroy();
        return undefined;
      }
      return OK;
    }),
  );
}

test('sequential requests share one keep-alive connection', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => OK));
  for (let i = 0; i < 5; i++) assert.equal((await send(transport, server.port)).kind, 'ok');
  assert.equal(server.sockets.length, 1);
});

test('keep-alive race: a reused connection that closes before any response byte is retried once on a fresh one', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRacingServer(t);
  assert.equal((await send(transport, server.port)).kind, 'ok');
  const raced = await send(transport, server.port, { method: 'POST', body: Buffer.from('payload') });
  assert.equal(raced.kind, 'ok', JSON.stringify(raced));
  if (raced.kind === 'ok') assert.equal(raced.connects, 1, 'the handler heard onConnect once');
  assert.equal(server.sockets.length, 2, 'the retry went out on a fresh connection');
});

test('keep-alive race with a streamed body is an error, not a retry', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRacingServer(t);
  assert.equal((await send(transport, server.port)).kind, 'ok');
  const raced = await send(transport, server.port, { method: 'POST', body: Readable.from([Buffer.from('streamed')], { objectMode: false }) });
  assert.equal(raced.kind, 'error');
  if (raced.kind === 'error') assert.equal(raced.reason, 'upstream_reset');
  assert.equal(server.sockets.length, 1, 'no second connection');
});

test('a fresh connection that closes before answering is not retried by the pool', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => void s.destroy()));
  const out = await send(transport, server.port);
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') assert.equal(out.reason, 'upstream_reset');
  assert.equal(server.sockets.length, 1);
});

test('the retry after a keep-alive race happens once: a second close is an error', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s, index) =>
    answerEach(s, () => {
      if (index === 0 && s.bytesWritten === 0) return OK;
      s.destroy();
      return undefined;
    }),
  );
  assert.equal((await send(transport, server.port)).kind, 'ok');
  const out = await send(transport, server.port);
  assert.equal(out.kind, 'error');
  assert.equal(server.sockets.length, 2);
});

test('an idle connection closes after the cluster idle timeout', async (t) => {
  const transport = new RawTransport({ keepAliveTimeoutMs: 600_000 });
  t.after(() => transport.close());
  const short = await startRawServer(t, (s) => answerEach(s, () => OK));
  const long = await startRawServer(t, (s) => answerEach(s, () => OK));
  assert.equal((await send(transport, long.port)).kind, 'ok');
  assert.equal((await send(transport, short.port, { connection: connectionFor('http1', { idleTimeoutMs: 50 }) })).kind, 'ok');
  await eventually(() => short.closed.size === 1, 'the idle connection closed');
  assert.equal(long.closed.size, 0, 'the transport default (10 minutes here) keeps the other');
});

test('a server Keep-Alive timeout lower than ours closes the idle connection sooner', async (t) => {
  const transport = new RawTransport({ keepAliveTimeoutMs: 600_000 });
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=2\r\ncontent-length: 2\r\n\r\nok'));
  assert.equal((await send(transport, server.port)).kind, 'ok');
  await eventually(() => server.closed.size === 1, 'closed after the hinted 2 s (less our 1 s margin)', 4000);
});

test('Connection: close and HTTP/1.0 responses are not reused', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) =>
    answerEach(s, (head) => (head.includes('/close') ? 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok' : 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok')),
  );
  assert.equal((await send(transport, server.port, { path: '/close' })).kind, 'ok');
  assert.equal((await send(transport, server.port, { path: '/old' })).kind, 'ok');
  assert.equal((await send(transport, server.port, { path: '/old' })).kind, 'ok');
  assert.equal(server.sockets.length, 3);
});

test('maxRequestsPerConnection closes a connection after that many requests', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => OK));
  const connection = connectionFor('http1', { maxRequestsPerConnection: 2 });
  for (let i = 0; i < 5; i++) assert.equal((await send(transport, server.port, { connection })).kind, 'ok');
  assert.equal(server.sockets.length, 3);
});

test('per-endpoint connection cap: the rest wait and go out in FIFO order on freed connections', async (t) => {
  const transport = new RawTransport({ connectionsPerEndpoint: 2 });
  t.after(() => transport.close());
  const order: string[] = [];
  const server = await startRawServer(t, (s) =>
    answerEach(s, (head) => {
      order.push(head.split(' ')[1]!);
      setTimeout(() => !s.destroyed && s.write(OK), 50);
      return undefined;
    }),
  );
  const all = ['/1', '/2', '/3', '/4', '/5', '/6'].map((path) => send(transport, server.port, { path }));
  const stats = Object.values(transport.stats())[0]!;
  assert.equal(stats.pending, 4, 'four wait while two run');
  for (const out of await Promise.all(all)) assert.equal(out.kind, 'ok');
  assert.equal(server.sockets.length, 2, 'never more than two connections');
  assert.deepEqual(order.slice(2), ['/3', '/4', '/5', '/6'], 'queued requests go in arrival order');
});

test('retain() drops a pool no longer used once its in-flight request finished', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) =>
    answerEach(s, () => {
      setTimeout(() => !s.destroyed && s.write(OK), 100);
      return undefined;
    }),
  );
  const running = send(transport, server.port);
  await eventually(() => server.sockets.length === 1, 'the request reached the server');
  transport.retain(new Set());
  assert.deepEqual(transport.stats(), {}, 'the pool is no longer listed');
  const out = await running;
  assert.equal(out.kind, 'ok', 'the in-flight request finished');
  await eventually(() => server.closed.size === 1, 'its connection closed afterwards');
});
