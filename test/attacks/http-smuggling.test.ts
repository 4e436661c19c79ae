// Request smuggling and routing-confusion attacks over HTTP/1.x and HTTP/2. Each test asserts what
// the attacker got back AND what the backend parsed: a request the gateway never routed must never
// appear at the backend. Every attack ends with the gateway serving an ordinary request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { assertServing, rawExchange, SITE, startAttackBed, statusLines } from './attack-harness.js';
import { forwardRoute } from '../dataplane/harness.js';

const SMUGGLED = `GET /internal/secret HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`;

function smuggledReached(seen: readonly { url: string }[]): string[] {
  return seen.map((s) => s.url).filter((url) => !url.startsWith('/public'));
}

test('a refused upgrade (backend answers 200, not 101) is relayed as a response; later bytes never reach the backend', async (t) => {
  const bed = await startAttackBed(t);
  const upgrade = `GET /public/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  // The smuggled request after the backend's answer (the attack as reported) ...
  const later = await rawExchange(bed.gw.httpPort, upgrade, { later: [SMUGGLED], gapMs: 300, waitMs: 1500 });
  assert.match(later, /^HTTP\/1\.1 200 /, later.slice(0, 200));
  assert.match(later, /\r\n\r\nok/);
  // ... and in the same packet as the upgrade request (the bytes node hands over as `head`).
  const samePacket = await rawExchange(bed.gw.httpPort, upgrade + SMUGGLED, { waitMs: 1500 });
  assert.match(samePacket, /^HTTP\/1\.1 200 /, samePacket.slice(0, 200));
  assert.equal(statusLines(samePacket).length, 1, `one response only: ${samePacket}`);
  assert.deepEqual(smuggledReached(bed.seen), [], 'nothing but /public reached the backend');
  assert.equal(bed.seen.length, 2);
  await assertServing(bed.gw.httpPort);
});

test('an upgrade request with a body is refused (a WebSocket handshake has none) and never forwarded', async (t) => {
  const bed = await startAttackBed(t);
  const answer = await rawExchange(bed.gw.httpPort,
    `POST /public/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`);
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /"reason":"bad_request"/);
  assert.deepEqual(bed.seen, []);
  await assertServing(bed.gw.httpPort);
});

test('absolute-form target: the authority in the target wins over Host and is forwarded as Host (RFC 9112 §3.2.2)', async (t) => {
  const other = { name: 'other', hostnames: ['other.example.com'], routes: [forwardRoute('other', 'backend', { path: { kind: 'prefix', value: '/elsewhere' } })] };
  const bed = await startAttackBed(t, { extraHosts: [other] });
  // Routed by the target's authority: other-host has no /public route.
  const refused = await rawExchange(bed.gw.httpPort, `GET http://other-host/public/x HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`);
  assert.match(refused, /^HTTP\/1\.1 404 /, refused.slice(0, 200));
  assert.match(refused, /"reason":"no_route"/);
  // Host names a host without /elsewhere; the target names the one that has it.
  const routed = await rawExchange(bed.gw.httpPort, `GET http://other.example.com/elsewhere/y?q=1 HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`);
  assert.match(routed, /^HTTP\/1\.1 200 /, routed.slice(0, 200));
  assert.equal(bed.seen.length, 1);
  assert.equal(bed.seen[0]!.host, 'other.example.com', 'the Host header is replaced by the target authority');
  assert.equal(bed.seen[0]!.url, '/elsewhere/y?q=1', 'forwarded in origin-form');
  await assertServing(bed.gw.httpPort);
});

test('HTTP/2: a host header that disagrees with :authority is refused; an agreeing one is not duplicated (RFC 9113 §8.3.1)', async (t) => {
  const bed = await startAttackBed(t);
  const session = http2.connect(`http://127.0.0.1:${bed.gw.httpPort}`);
  t.after(() => session.close());
  const ask = (headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const stream = session.request(headers, { endStream: true });
      let status = 0;
      let body = '';
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8').on('data', (d: string) => (body += d));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
    });
  const evil = await ask({ ':method': 'GET', ':path': '/public/x', ':authority': SITE, host: 'evil.example.com' });
  assert.equal(evil.status, 400, evil.body);
  assert.equal(JSON.parse(evil.body).reason, 'bad_request');
  assert.equal(bed.seen.length, 0);
  const same = await ask({ ':method': 'GET', ':path': '/public/y', ':authority': SITE, host: SITE.toUpperCase() });
  assert.equal(same.status, 200);
  const plain = await ask({ ':method': 'GET', ':path': '/public/z', ':authority': SITE });
  assert.equal(plain.status, 200);
  assert.deepEqual(bed.seen.map((s) => s.host), [SITE, SITE]);
  // Without :authority, Host is the authority (RFC 9113 §8.3.1).
  const hostOnly = await ask({ ':method': 'GET', ':path': '/public/w', ':scheme': 'http', host: SITE });
  assert.equal(hostOnly.status, 200);
  assert.equal(bed.seen.at(-1)!.host, SITE);
  await assertServing(bed.gw.httpPort);
});

test('HTTP/1.0 with Transfer-Encoding is faulty framing: refused, the connection closed, nothing after it forwarded (RFC 9112 §6.1)', async (t) => {
  const bed = await startAttackBed(t);
  const answer = await rawExchange(bed.gw.httpPort,
    `POST /public/a HTTP/1.0\r\nHost: ${SITE}\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` + SMUGGLED.replace('HTTP/1.1', 'HTTP/1.0'),
    { waitMs: 1500 });
  assert.match(answer, /^HTTP\/1\.[01] 400 /, answer.slice(0, 200));
  assert.equal(statusLines(answer).length, 1, answer);
  assert.deepEqual(bed.seen, []);
  await assertServing(bed.gw.httpPort);
});

test('nothing is read or forwarded after a request that closes the connection', async (t) => {
  const bed = await startAttackBed(t);
  const first = `GET /public/first HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`;
  const second = `GET /public/second HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`;
  // HTTP/1.1 with Connection: close, and HTTP/1.0 without keep-alive, each followed by more bytes.
  const a = await rawExchange(bed.gw.httpPort, first + second + SMUGGLED, { waitMs: 1500 });
  assert.match(a, /^HTTP\/1\.1 200 /);
  assert.equal(statusLines(a).length, 1, a);
  const b = await rawExchange(bed.gw.httpPort, `GET /public/old HTTP/1.0\r\nHost: ${SITE}\r\n\r\n` + second + SMUGGLED, { waitMs: 1500 });
  assert.match(b, /^HTTP\/1\.[01] 200 /);
  assert.equal(statusLines(b).length, 1, b);
  assert.deepEqual(bed.seen.map((s) => s.url), ['/public/first', '/public/old']);
  await assertServing(bed.gw.httpPort);
});

test('after a refused (400) request nothing further on the connection is executed', async (t) => {
  const bed = await startAttackBed(t);
  // Two Host lines: node's parser accepts them, the gateway refuses them; the pipelined request after it must not run.
  const answer = await rawExchange(bed.gw.httpPort, `GET /public/a HTTP/1.1\r\nHost: ${SITE}\r\nHost: x\r\n\r\n` + `GET /public/after HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`, { waitMs: 1500 });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /connection: close/i);
  assert.equal(statusLines(answer).length, 1, answer);
  assert.deepEqual(bed.seen, []);
  await assertServing(bed.gw.httpPort);
});

test('pipelined keep-alive requests still work in order (the close rules only apply after a close)', async (t) => {
  const bed = await startAttackBed(t);
  const req = (p: string, close = false): string => `GET /public/${p} HTTP/1.1\r\nHost: ${SITE}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  const answer = await rawExchange(bed.gw.httpPort, req('1') + req('2') + req('3', true), { waitMs: 1500 });
  assert.equal(statusLines(answer).length, 3, answer);
  assert.deepEqual(bed.seen.map((s) => s.url), ['/public/1', '/public/2', '/public/3']);
});
