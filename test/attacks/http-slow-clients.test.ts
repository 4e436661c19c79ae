// Slow and idle clients: every connection is bounded by a timer from its first moment (first byte,
// complete head, idle between requests), and one client address cannot hold more than its share of
// connections. Timeouts are shortened here; the assertions allow generous slack (a closed-or-not
// answer, never a timing measurement) so a loaded machine does not make them flaky.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import { assertServing, openSocket, SITE, startAttackBed, timeUntilClosed } from './attack-harness.js';
import { makeCert } from '../dataplane/certs.js';
import { cluster, forwardRoute, httpListener, snapshot, startGateway, startUpstream, echoHandler } from '../dataplane/harness.js';

const SHORT = { firstByteTimeoutMs: 400, headersTimeoutMs: 600, keepAliveTimeoutMs: 600 };

test('slowloris: connections that trickle header bytes are closed at the header timeout', async (t) => {
  const bed = await startAttackBed(t, { limits: SHORT });
  const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(bed.gw.httpPort)));
  const head = `GET /public/slow HTTP/1.1\r\nHost: ${SITE}\r\nX-Slow: ${'a'.repeat(200)}`;
  const closed = sockets.map((s) => timeUntilClosed(s, 5000));
  let i = 0;
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write(head[i % head.length]!);
    i++;
  }, 100);
  t.after(() => clearInterval(drip));
  const times = await Promise.all(closed);
  clearInterval(drip);
  assert.ok(times.every((ms) => ms >= 0), `every trickling connection is closed (ms until close: ${times.map(Math.round).join(', ')})`);
  assert.deepEqual(bed.seen, []);
  await assertServing(bed.gw.httpPort);
});

test('connections that never send a byte are closed at the first-byte timeout (cleartext and TLS)', async (t) => {
  const bed = await startAttackBed(t, { limits: SHORT });
  const silent = await Promise.all(Array.from({ length: 10 }, () => openSocket(bed.gw.httpPort)));
  const times = await Promise.all(silent.map((s) => timeUntilClosed(s, 5000)));
  assert.ok(times.every((ms) => ms >= 0), `silent cleartext connections are closed: ${times.map(Math.round).join(', ')}`);

  const cert = makeCert([SITE]);
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(
    snapshot([httpListener([forwardRoute('r', 'c')], [SITE], { name: 'test/https', protocol: 'https', port: 443, tls: { certificates: ['cert'] } })], [cluster('c', [up])], 1, [
      { name: 'cert', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'cert' }, serverNames: [SITE], certPem: cert.certPem, keyPem: cert.keyPem },
    ]),
    { limits: SHORT },
  );
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  // A TCP connection to the TLS port that never starts the handshake.
  const raw = await openSocket(gw.httpsPort);
  assert.ok((await timeUntilClosed(raw, 5000)) >= 0, 'a TLS connection without a ClientHello is closed');
  // A completed handshake, then silence.
  const secure = tls.connect({ port: gw.httpsPort, host: '127.0.0.1', servername: SITE, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  secure.on('error', () => undefined);
  await new Promise((resolve) => secure.once('secureConnect', resolve));
  assert.ok((await timeUntilClosed(secure, 5000)) >= 0, 'a TLS connection that sends no request is closed');
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async (t) => {
  const bed = await startAttackBed(t, { limits: SHORT });
  const socket = await openSocket(bed.gw.httpPort);
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
  socket.write(`GET /public/once HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`);
  assert.ok((await timeUntilClosed(socket, 5000)) >= 0, 'closed after idling');
  assert.match(answer, /^HTTP\/1\.1 200 /);
});

test('an HTTP/2 session with no open stream is closed after the keep-alive timeout; one that never sends a request too', async (t) => {
  const bed = await startAttackBed(t, { limits: SHORT });
  const session = http2.connect(`http://127.0.0.1:${bed.gw.httpPort}`);
  session.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    session.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  const stream = session.request({ ':path': '/public/h2', ':authority': SITE });
  stream.resume();
  await new Promise((resolve) => stream.on('close', resolve));
  assert.equal(await closed, true, 'the idle h2 session is closed by the gateway');

  const silent = http2.connect(`http://127.0.0.1:${bed.gw.httpPort}`);
  silent.on('error', () => undefined);
  const silentClosed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    silent.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  assert.equal(silentClosed, true, 'a session that never opens a stream is closed');
});

test('one client address may hold at most maxConnectionsPerClient connections; others keep being served', async (t) => {
  const bed = await startAttackBed(t, { limits: { maxConnectionsPerClient: 5 } });
  const held = await Promise.all(Array.from({ length: 5 }, () => openSocket(bed.gw.httpPort)));
  const extra = await openSocket(bed.gw.httpPort);
  assert.ok((await timeUntilClosed(extra, 3000)) >= 0, 'the sixth connection is closed at once');
  for (const s of held) s.destroy();
  // Once the held connections are gone, the address is served again.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await assertServing(bed.gw.httpPort);
});

test('a client that stops reading its response is cut at the send timeout, and the backend is let go', async (t) => {
  // Far more than loopback socket buffers hold, so the gateway's writes must stall.
  const BIG = Buffer.alloc(64 << 20, 0x61);
  let backendClosed = false;
  const bed = await startAttackBed(t, {
    limits: { ...SHORT, sendTimeoutMs: 500 },
    respond: (req, res) => {
      req.resume();
      res.on('close', () => (backendClosed = true));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
    },
  });
  const socket = await openSocket(bed.gw.httpPort);
  socket.pause();
  socket.write(`GET /public/big HTTP/1.1\r\nHost: ${SITE}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 2500));
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  const closedAfter = await timeUntilClosed(socket, 10_000);
  assert.ok(closedAfter >= 0, 'the stalled connection was closed by the gateway');
  assert.ok(received < BIG.length, `the client did not get the whole body (${received} of ${BIG.length} bytes)`);
  assert.equal(backendClosed, true, 'the upstream response was abandoned');
  await assertServing(bed.gw.httpPort);
});
