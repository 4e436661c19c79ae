// The raw pool's response parsing against hand-written upstreams: what is framed correctly reaches
// the handler, and every malformed or ambiguous response is an upstream error of the same class
// undici's would be (upstream_protocol_error, upstream_reset), never passed on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawTransport } from '../../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { answerEach, OK, send, startRawServer, type Outcome } from './raw-harness.js';

/** One server whose every request gets `response` (written in pieces when it is an array). */
async function respondWith(t: { after(fn: () => unknown): void }, response: string | string[], end = false): Promise<Outcome> {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) =>
    answerEach(s, () => {
      const parts = Array.isArray(response) ? response : [response];
      parts.forEach((p, i) => setTimeout(() => !s.destroyed && s.write(p, 'latin1'), i * 20));
      if (end) setTimeout(() => s.end(), parts.length * 20);
      return undefined;
    }),
  );
  return send(transport, server.port, { method: 'GET' });
}

function assertError(outcome: Outcome, reason: string, code?: RegExp): void {
  assert.equal(outcome.kind, 'error', `expected an error, got ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'error') return;
  assert.equal(outcome.reason, reason, `${outcome.code}: ${outcome.message}`);
  if (code !== undefined) assert.match(outcome.code, code);
}

test('a Content-Length body split over several packets arrives whole', async (t) => {
  const out = await respondWith(t, ['HTTP/1.1 200 OK\r\ncontent-le', 'ngth: 11\r\nx-a: 1\r\n\r\nhello', ' world']);
  assert.equal(out.kind, 'ok');
  if (out.kind !== 'ok') return;
  assert.equal(out.status, 200);
  assert.equal(out.body.toString(), 'hello world');
  assert.deepEqual(out.headers, ['content-length', '11', 'x-a', '1']);
});

test('chunked body with extensions and trailers: body joined, trailers passed to onComplete', async (t) => {
  const out = await respondWith(t, ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n', '6 ; x\r\n world\r\n0\r\nx-checksum: abc\r\n\r\n']);
  assert.equal(out.kind, 'ok');
  if (out.kind !== 'ok') return;
  assert.equal(out.body.toString(), 'hello world');
  assert.deepEqual(out.trailers, ['x-checksum', 'abc']);
});

test('a body without length runs until the upstream closes', async (t) => {
  const out = await respondWith(t, ['HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil', ' close'], true);
  assert.equal(out.kind, 'ok');
  if (out.kind === 'ok') assert.equal(out.body.toString(), 'until close');
});

test('interim 100 and 103 responses are skipped; the final response is relayed', async (t) => {
  const out = await respondWith(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' + OK);
  assert.equal(out.kind, 'ok');
  if (out.kind === 'ok') assert.equal(out.status, 200);
});

test('a flood of 1xx responses is an upstream protocol error', async (t) => {
  assertError(await respondWith(t, 'HTTP/1.1 102 Processing\r\n\r\n'.repeat(20) + OK), 'upstream_protocol_error', /^HPE_/);
});

test('an upstream that closes in the middle of the head: upstream_reset', async (t) => {
  assertError(await respondWith(t, 'HTTP/1.1 200 OK\r\ncontent-len', true), 'upstream_reset');
});

test('an upstream that closes before the Content-Length body is complete: upstream_reset', async (t) => {
  assertError(await respondWith(t, 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc', true), 'upstream_reset');
});

for (const [name, response] of [
  ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['a negative chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n'],
  ['a chunk size with garbage after it', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n'],
  ['an overlong chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n'],
  ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n'],
  ['conflicting Content-Length fields', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok'],
  ['a conflicting Content-Length list', 'HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nok'],
  ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nok'],
  ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ['chunked that is not the final coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nok'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\ncontent-length: 2\r\n\r\nok'],
  ['a bare CR in a value', 'HTTP/1.1 200 OK\r\nx-a: 1\rx-b: 2\r\ncontent-length: 2\r\n\r\nok'],
  ['a bare LF ending a line', 'HTTP/1.1 200 OK\nx-a: 1\r\ncontent-length: 2\r\n\r\nok'],
  ['a NUL in a value', 'HTTP/1.1 200 OK\r\nx-a: 1\0\r\ncontent-length: 2\r\n\r\nok'],
  ['a space before the colon', 'HTTP/1.1 200 OK\r\nx-a : 1\r\ncontent-length: 2\r\n\r\nok'],
  ['a header line without a colon', 'HTTP/1.1 200 OK\r\nx-a\r\ncontent-length: 2\r\n\r\nok'],
  ['a two-digit status', 'HTTP/1.1 20 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['HTTP/2.0 in a status line', 'HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['a 101 nobody asked for', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n'],
] as const) {
  test(`${name}: upstream_protocol_error, not relayed`, async (t) => {
    const out = await respondWith(t, response);
    assertError(out, 'upstream_protocol_error', /^HPE_/);
    if (out.kind === 'error') assert.equal(out.headersSeen, name === 'chunk data longer than its size' || name.includes('chunk size'), 'headers reach the handler only when the head itself was valid');
  });
}

test('a head over 64 KiB is an upstream error and never reaches the handler', async (t) => {
  const out = await respondWith(t, ['HTTP/1.1 200 OK\r\n', `x-big: ${'a'.repeat(70 * 1024)}\r\n`, 'content-length: 2\r\n\r\nok']);
  assertError(out, 'upstream_protocol_error', /HEADER_OVERFLOW/);
  if (out.kind === 'error') assert.equal(out.headersSeen, false);
});

test('HEAD, 204 and 304 have no body even with a Content-Length; the connection is reused after each', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) =>
    answerEach(s, (head, i) => {
      if (head.startsWith('HEAD ')) return 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n';
      if (i === 1) return 'HTTP/1.1 204 No Content\r\n\r\n';
      if (i === 2) return 'HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\netag: "x"\r\n\r\n';
      return OK;
    }),
  );
  const head = await send(transport, server.port, { method: 'HEAD' });
  const noContent = await send(transport, server.port);
  const notModified = await send(transport, server.port);
  const after = await send(transport, server.port);
  for (const [out, status] of [[head, 200], [noContent, 204], [notModified, 304], [after, 200]] as const) {
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    if (out.kind !== 'ok') continue;
    assert.equal(out.status, status);
    assert.equal(out.body.length, status === 200 && out !== head ? 2 : 0);
  }
  assert.equal(server.sockets.length, 1, 'one connection served all four');
});
