// Request and response bodies through the raw pool: framing of what we send, backpressure both
// ways (a paused handler stops reading the upstream; an upstream that never reads stops reading
// the client's upload), timeouts, and a response that comes before the request body is finished.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Socket } from 'node:net';
import { RawTransport } from '../../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { answerEach, eventually, OK, send, startRawServer } from './raw-harness.js';

/** Collects everything one connection sends until `done(text)` says the request is complete; then answers OK. */
/** An upstream that answers with a `total`-byte body as fast as the connection takes it; `serverSocket()` is its side of the last connection. */
async function startLargeBodyServer(t: Parameters<typeof startRawServer>[0], total: number) {
  let socket: Socket | undefined;
  const server = await startRawServer(t, (s) =>
    answerEach(s, () => {
      socket = s;
      const piece = Buffer.alloc(1024 * 1024, 'x');
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
      let sent = 0;
      const write = (): void => {
        while (sent < total && !s.destroyed) {
          sent += piece.length;
          if (!s.write(piece)) return void s.once('drain', write);
        }
      };
      write();
      return undefined;
    }),
  );
  return { server, serverSocket: () => socket };
}

function captureRequest(socket: Socket, done: (text: string) => boolean, seen: string[]): void {
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    if (done(text)) {
      seen.push(text);
      text = '';
      socket.write(OK);
    }
  });
}

test('a Buffer body goes with its own Content-Length in the same write as the head', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const seen: string[] = [];
  const server = await startRawServer(t, (s) => captureRequest(s, (x) => x.endsWith('hello'), seen));
  const out = await send(transport, server.port, { method: 'POST', headers: ['host', 'a.test', 'content-length', '999'], body: Buffer.from('hello') });
  assert.equal(out.kind, 'ok');
  assert.match(seen[0]!, /^POST \/ HTTP\/1\.1\r\nhost: a\.test\r\ncontent-length: 5\r\n\r\nhello$/);
});

test('a POST without a body says content-length: 0; a GET says nothing', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const heads: string[] = [];
  const server = await startRawServer(t, (s) => answerEach(s, (head) => (heads.push(head), OK)));
  assert.equal((await send(transport, server.port, { method: 'POST' })).kind, 'ok');
  assert.equal((await send(transport, server.port, { method: 'GET' })).kind, 'ok');
  assert.match(heads[0]!, /\r\ncontent-length: 0$/);
  assert.doesNotMatch(heads[1]!, /content-length|transfer-encoding/);
});

test('a streamed body without a length is sent chunked; with one, as is', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const seen: string[] = [];
  const server = await startRawServer(t, (s) => captureRequest(s, (x) => x.endsWith('0\r\n\r\n') || x.endsWith('abcdef'), seen));
  const chunked = await send(transport, server.port, { method: 'PUT', body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
  const sized = await send(transport, server.port, { method: 'PUT', headers: ['host', 'a', 'content-length', '6'], body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
  assert.equal(chunked.kind, 'ok');
  assert.equal(sized.kind, 'ok');
  assert.match(seen[0]!, /transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n$/);
  assert.match(seen[1]!, /content-length: 6\r\n\r\nabcdef$/);
  assert.doesNotMatch(seen[1]!, /transfer-encoding/);
});

test('a header value with CR LF is never written upstream', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const heads: string[] = [];
  const server = await startRawServer(t, (s) => answerEach(s, (head) => (heads.push(head), OK)));
  const out = await send(transport, server.port, { headers: ['host', 'a', 'x-evil', 'a\r\nx-injected: 1'] });
  assert.equal(out.kind, 'error');
  assert.equal(heads.length, 0);
});

test('the handler returning false pauses reading the upstream until resume()', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const total = 64 * 1024 * 1024;
  const { server, serverSocket } = await startLargeBodyServer(t, total);
  let resume: (() => void) | undefined;
  let receivedWhenPaused = 0;
  const pending = send(transport, server.port, {
    pauseOnData: (r, received) => {
      if (resume !== undefined) return true;
      resume = r;
      receivedWhenPaused = received;
      return false;
    },
  });
  await eventually(() => resume !== undefined, 'the first body chunk arrived');
  await new Promise((r) => setTimeout(r, 300));
  // While paused we read nothing: the server's writes back up into its own buffer.
  assert.ok(serverSocket()!.writableLength > 0, 'the server is stuck writing');
  const stats = Object.values(transport.stats())[0]!;
  assert.equal(stats.running, 1);
  resume!();
  const out = await pending;
  assert.equal(out.kind, 'ok');
  if (out.kind === 'ok') assert.equal(out.body.length, total);
  assert.ok(receivedWhenPaused < total);
});

test('an upstream that never reads: the upload stops at the socket buffers and the headers timeout fires', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => s.pause());
  let produced = 0;
  const limit = 512 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024, 'y');
  const upload = new Readable({
    read() {
      produced += piece.length;
      this.push(produced > limit ? null : piece);
    },
  });
  const out = await send(transport, server.port, { method: 'POST', body: upload, headersTimeoutMs: 500 });
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') {
    assert.equal(out.code, 'UND_ERR_HEADERS_TIMEOUT');
    assert.equal(out.reason, 'upstream_timeout');
  }
  assert.ok(produced < 64 * 1024 * 1024, `read ${produced} bytes of the upload into a socket nobody reads`);
});

test('a body that stalls longer than the body timeout: upstream_timeout', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
  const out = await send(transport, server.port, { bodyTimeoutMs: 200 });
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') {
    assert.equal(out.code, 'UND_ERR_BODY_TIMEOUT');
    assert.equal(out.reason, 'upstream_timeout');
  }
});

test('a response before the request body ends: sending stops, the response is relayed, the connection is not reused', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s, index) => {
    if (index === 0) {
      s.once('data', () => s.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig'));
      return;
    }
    answerEach(s, () => OK);
  });
  let produced = 0;
  const upload = new Readable({
    highWaterMark: 1,
    read() {
      // A slow, never-ending upload: one small piece every 20 ms.
      setTimeout(() => {
        produced++;
        this.push(Buffer.from('z'.repeat(100)));
      }, 20);
    },
  });
  const out = await send(transport, server.port, { method: 'POST', body: upload });
  assert.equal(out.kind, 'ok');
  if (out.kind === 'ok') {
    assert.equal(out.status, 413);
    assert.equal(out.body.toString(), 'big');
  }
  const producedAtResponse = produced;
  await eventually(() => server.closed.size === 1, 'the half-sent connection was closed');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(produced <= producedAtResponse + 2, 'the upload is no longer read');
  assert.equal((await send(transport, server.port)).kind, 'ok');
  assert.equal(server.sockets.length, 2, 'the next request used a new connection');
});

test('a handler that pauses again right after resume() keeps the upstream paused', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const total = 64 * 1024 * 1024;
  const { server, serverSocket } = await startLargeBodyServer(t, total);
  let resume: (() => void) | undefined;
  let chunks = 0;
  let drain = false;
  // Every chunk pauses; the test resumes a few times, then stops resuming, then takes the rest.
  const pending = send(transport, server.port, {
    pauseOnData: (r) => {
      chunks++;
      resume = r;
      return drain;
    },
  });
  await eventually(() => resume !== undefined, 'the first body chunk arrived');
  for (let i = 0; i < 5; i++) {
    resume!();
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(chunks <= 7, `the handler saw ${chunks} chunks for 6 resumes`);
  assert.ok(serverSocket()!.writableLength > 0, 'the server is still stuck writing: we stopped reading');
  drain = true;
  resume!();
  const out = await pending;
  assert.equal(out.kind, 'ok');
  if (out.kind === 'ok') assert.equal(out.body.length, total);
});
