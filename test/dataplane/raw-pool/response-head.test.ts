// parseResponseHead on its own: the fields come out as latin1 strings, the framing fields are
// read, and every malformed shape is refused with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead } from '../../../src/dataplane/upstream/raw-pool/response-head.js';

function parse(text: string): ReturnType<typeof parseResponseHead> {
  const buf = Buffer.from(text, 'latin1');
  const end = buf.indexOf('\r\n\r\n');
  return parseResponseHead(buf, end);
}

function refusal(text: string): string {
  try {
    parse(text);
  } catch (err) {
    return (err as Error).message.replace(/^upstream response: /, '');
  }
  return 'accepted';
}

test('fields as strings, values trimmed of OWS, empty values kept, obs-text as latin1', () => {
  const head = parse('HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Empty:\r\nX-Pad: \t a b \t\r\nX-Latin: caf\xe9\r\nContent-Length: 12\r\n\r\n');
  assert.equal(head.statusCode, 200);
  assert.equal(head.statusText, 'OK');
  assert.equal(head.minorVersion, 1);
  assert.deepEqual(head.rawHeaders, ['Server', 'nginx', 'X-Empty', '', 'X-Pad', 'a b', 'X-Latin', 'caf\xe9', 'Content-Length', '12']);
  assert.equal(head.contentLength, 12);
  assert.equal(head.chunked, false);
  assert.equal(head.connectionClose, false);
});

test('framing fields: chunked, Connection tokens, Keep-Alive timeout, repeated equal Content-Length', () => {
  const chunked = parse('HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, chunked\r\nConnection: Keep-Alive, Close\r\nKeep-Alive: timeout=5, max=100\r\n\r\n');
  assert.equal(chunked.chunked, true);
  assert.equal(chunked.connectionClose, true);
  assert.equal(chunked.connectionKeepAlive, true);
  assert.equal(chunked.keepAliveTimeoutMs, 5000);
  assert.equal(parse('HTTP/1.0 204 \r\ncontent-length: 5, 5\r\ncontent-length: 5\r\n\r\n').contentLength, 5);
  assert.equal(parse('HTTP/1.1 304\r\n\r\n').statusText, '');
});

test('malformed heads are refused with their reason', () => {
  assert.equal(refusal('HTTP/2.0 200 OK\r\nx: 1\r\n\r\n'), 'not an HTTP/1.x status line');
  assert.equal(refusal('HTTP/1.1 2x0 OK\r\nx: 1\r\n\r\n'), 'status code is not three digits');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a\r\n\r\n'), 'header line without a colon');
  assert.equal(refusal('HTTP/1.1 200 OK\r\n: v\r\n\r\n'), 'empty header name');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx a: v\r\n\r\n'), 'invalid byte 0x20 in a header name');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a\rb: v\r\n\r\n'), 'invalid byte 0xd in a header name');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a: 1\nx-b: 2\r\n\r\n'), 'bare CR or LF in a header');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a: 1\rx\r\n\r\n'), 'bare CR or LF in a header');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a: 1\x00\r\n\r\n'), 'invalid byte 0x0 in a header value');
  assert.equal(refusal('HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n'), 'obs-fold (a header line starting with whitespace)');
  assert.equal(refusal('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n'), 'conflicting Content-Length values');
  assert.equal(refusal('HTTP/1.1 200 OK\r\ncontent-length: +1\r\n\r\n'), 'invalid Content-Length "+1"');
  assert.equal(refusal('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n'), 'both Content-Length and Transfer-Encoding');
  assert.equal(refusal('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n'), 'chunked is not the final transfer coding');
});
