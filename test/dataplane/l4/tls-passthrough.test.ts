// TLS listeners: the ClientHello reader on a real ClientHello (captured from node's TLS client),
// passthrough by SNI to real TLS servers with their own certificates made by openssl, and
// termination with an injected certificate.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { parseClientHello } from '../../../src/dataplane/l4/client-hello.js';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { SniRoutes } from '../../../src/dataplane/l4/sni-routes.js';
import type { IrL4Listener } from '../../../src/ir/l4.js';
import { makeCert, type TestCert } from '../certs.js';
import { backend, echoServer, l4Listener, local, readAll, recordConnectionEnds, tcpServer } from './l4-harness.js';

const ends = recordConnectionEnds();
after(() => ends.stop());

/** The first flight of node's TLS client for `servername`, as a server would read it. */
async function captureClientHello(servername: string | undefined): Promise<Buffer> {
  let got = Buffer.alloc(0);
  const capture = await tcpServer((s) => s.on('data', (d) => (got = Buffer.concat([got, d]))));
  const client = tls.connect({ host: '127.0.0.1', port: capture.port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  client.on('error', () => {});
  for (let i = 0; i < 100 && parseClientHello(got).kind === 'need-more'; i++) await new Promise((r) => setTimeout(r, 10));
  client.destroy();
  await capture.close();
  return got;
}

/** The same handshake message cut into two TLS records (RFC 8446 §5.1 allows it). */
function refragment(hello: Buffer, at: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const record = (part: Buffer): Buffer => Buffer.concat([Buffer.from([22, 3, 1, part.length >> 8, part.length & 255]), part]);
  return Buffer.concat([record(body.subarray(0, at)), record(body.subarray(at))]);
}

test('ClientHello reader: the SNI, every prefix needs more, two records, no SNI, malformed', async () => {
  const hello = await captureClientHello('Shop.Example.COM');
  assert.deepEqual(parseClientHello(hello), { kind: 'client-hello', serverName: 'shop.example.com' });
  for (let i = 0; i < hello.length; i += 7) assert.deepEqual(parseClientHello(hello.subarray(0, i)), { kind: 'need-more' }, `prefix ${i}`);
  assert.deepEqual(parseClientHello(refragment(hello, 2)), { kind: 'client-hello', serverName: 'shop.example.com' });
  assert.deepEqual(parseClientHello(refragment(hello, 100)), { kind: 'client-hello', serverName: 'shop.example.com' });
  assert.deepEqual(parseClientHello(await captureClientHello(undefined)), { kind: 'client-hello' });
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'invalid');
  // A cipher-suites length that runs past the message: refused, not read out of bounds.
  const broken = Buffer.from(hello);
  const suitesLenAt = 5 + 4 + 2 + 32 + 1 + broken[5 + 4 + 2 + 32]!;
  broken.writeUInt16BE(broken.readUInt16BE(suitesLenAt) + 4000, suitesLenAt);
  assert.equal(parseClientHello(broken).kind, 'invalid');
  // A handshake that claims to be huge: refused at once rather than buffered.
  const huge = Buffer.from(hello);
  huge.writeUIntBE(1_000_000, 6, 3);
  assert.equal(parseClientHello(huge).kind, 'invalid');
});

let certA: TestCert;
let certB: TestCert;
before(() => {
  certA = makeCert(['a.example.com']);
  certB = makeCert(['b.example.com']);
});

async function tlsBackend(cert: TestCert, name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('data', (d) => s.end(`${name}:${d.toString()}`));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** `anyName`: accept a certificate for another name (a default route's backend answers any SNI). */
function tlsRequest(port: number, servername: string, ca: string, anyName = false): Promise<{ subject: string; answer: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca, ...(anyName ? { checkServerIdentity: () => undefined } : {}) }, () => {
      const subject = s.getPeerCertificate().subject.CN as string;
      let answer = '';
      s.on('data', (d) => (answer += d.toString()));
      s.on('end', () => resolve({ subject, answer }));
      s.write('ping');
    });
    s.on('error', reject);
  });
}

function passthroughListener(name: string, portA: number, portB: number): IrL4Listener {
  return {
    ...l4Listener(name, []),
    protocol: 'TLS',
    tls: { mode: 'passthrough' },
    routes: [
      { name: 'tlsroute/a', sniHosts: ['a.example.com'], backends: [backend('svc/a', [local(portA)])] },
      { name: 'tlsroute/wild', sniHosts: ['*.example.com'], backends: [backend('svc/b', [local(portB)])] },
    ],
  };
}

test('passthrough by SNI: exact beats wildcard, the client sees the backend certificate', async (t) => {
  const a = await tlsBackend(certA, 'A');
  const b = await tlsBackend(certB, 'B');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close(), await b.close()));
  await server.apply([passthroughListener('tls/pass', a.port, b.port)]);
  const port = server.portOf('tls/pass')!;
  assert.deepEqual(await tlsRequest(port, 'a.example.com', certA.certPem), { subject: 'a.example.com', answer: 'A:ping' });
  // b.example.com is matched by the wildcard route, served by B with B's own certificate.
  assert.deepEqual(await tlsRequest(port, 'b.example.com', certB.certPem), { subject: 'b.example.com', answer: 'B:ping' });
  const m = await ends.waitFor((x) => x.listener === 'tls/pass' && x.serverName === 'b.example.com');
  assert.equal(m.route, 'tlsroute/wild');
});

test('SNI selection: exact beats wildcard, a longer wildcard beats a shorter, wildcards cover any number of labels but not the bare domain', () => {
  const routes = new SniRoutes([
    { name: 'exact', sniHosts: ['a.example.com'] },
    { name: 'wild', sniHosts: ['*.example.com'] },
    { name: 'deeper', sniHosts: ['*.b.example.com'] },
  ]);
  assert.equal(routes.select('a.example.com')?.name, 'exact');
  assert.equal(routes.select('x.example.com')?.name, 'wild');
  assert.equal(routes.select('x.y.example.com')?.name, 'wild');
  assert.equal(routes.select('x.b.example.com')?.name, 'deeper');
  assert.equal(routes.select('example.com'), undefined);
  assert.equal(new SniRoutes([{ name: 'default', sniHosts: [] }]).select('anything.org')?.name, 'default');
});

test('passthrough: a name no route takes is closed (the bare domain is not under its wildcard)', async (t) => {
  const a = await tlsBackend(certA, 'A');
  const b = await tlsBackend(certB, 'B');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close(), await b.close()));
  await server.apply([passthroughListener('tls/unknown', a.port, b.port)]);
  await assert.rejects(tlsRequest(server.portOf('tls/unknown')!, 'example.com', certB.certPem));
  const m = await ends.waitFor((x) => x.listener === 'tls/unknown');
  assert.equal(m.reason, 'no_route');
  assert.equal(m.serverName, 'example.com');
});

test('passthrough: a ClientHello sent in pieces reaches the backend byte for byte', async (t) => {
  let received = Buffer.alloc(0);
  const raw = await tcpServer((s) => s.on('data', (d) => (received = Buffer.concat([received, d]))));
  const server = new L4Server();
  t.after(async () => (await server.close(), await raw.close()));
  await server.apply([passthroughListener('tls/pieces', raw.port, raw.port)]);
  const hello = await captureClientHello('a.example.com');
  const client = net.connect({ host: '127.0.0.1', port: server.portOf('tls/pieces')! });
  client.on('error', () => {});
  for (const [from, to] of [[0, 3], [3, 60], [60, hello.length]] as const) {
    client.write(hello.subarray(from, to));
    await new Promise((r) => setTimeout(r, 40));
  }
  for (let i = 0; i < 50 && received.length < hello.length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(received.equals(hello), 'the backend got the ClientHello untouched');
  client.destroy();
});

test('terminate: TLS ends at the listener with the injected certificate, plaintext goes on', async (t) => {
  const gw = makeCert(['gw.example.com']);
  const echo = await echoServer('plain');
  const server = new L4Server({ resolveCertificate: (ref) => (ref === 'secret/default/gw' ? gw : undefined) });
  t.after(async () => (await server.close(), await echo.close()));
  const listener: IrL4Listener = { ...l4Listener('tls/term', [backend('svc/p', [local(echo.port)])]), protocol: 'TLS', tls: { mode: 'terminate', certificate: 'secret/default/gw' } };
  const missing: IrL4Listener = { ...listener, name: 'tls/nocert', tls: { mode: 'terminate', certificate: 'secret/default/none' } };
  const result = await server.apply([listener, missing]);
  assert.deepEqual(result.bound, ['tls/term']);
  assert.deepEqual(result.failed, [{ listener: 'tls/nocert', message: 'the certificate "secret/default/none" is not known: not served' }]);
  const s = tls.connect({ host: '127.0.0.1', port: server.portOf('tls/term')!, servername: 'gw.example.com', ca: gw.certPem });
  const out = readAll(s as unknown as net.Socket);
  s.once('secureConnect', () => s.write('hello'));
  s.on('data', () => s.end());
  assert.equal((await out).data, 'plain:hello');
  assert.equal(server.portOf('tls/nocert'), undefined);
});

test('passthrough: a route with no sniHosts takes clients without SNI and unknown names; junk is refused', async (t) => {
  const a = await tlsBackend(certA, 'A');
  const b = await tlsBackend(certB, 'B');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close(), await b.close()));
  const listener: IrL4Listener = {
    ...passthroughListener('tls/default', a.port, b.port),
    routes: [
      { name: 'tlsroute/a', sniHosts: ['a.example.com'], backends: [backend('svc/a', [local(a.port)])] },
      { name: 'tlsroute/default', sniHosts: [], backends: [backend('svc/b', [local(b.port)])] },
    ],
  };
  await server.apply([listener]);
  const port = server.portOf('tls/default')!;
  // No servername: node sends no SNI when it connects to an IP address.
  const noSni = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certB.certPem, checkServerIdentity: () => undefined }, () => {
      resolve(s.getPeerCertificate().subject.CN as string);
      s.destroy();
    });
    s.on('error', reject);
  });
  assert.equal(noSni, 'b.example.com');
  assert.equal((await tlsRequest(port, 'other.test', certB.certPem, true)).answer, 'B:ping');
  assert.equal((await tlsRequest(port, 'a.example.com', certA.certPem)).answer, 'A:ping');
  const junk = net.connect({ host: '127.0.0.1', port });
  const closed = readAll(junk);
  junk.write('GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n');
  assert.equal((await closed).data, '');
  assert.equal((await ends.waitFor((x) => x.listener === 'tls/default' && x.reason === 'tls_error')).route, undefined);
});

test('terminate behind a trusted front: the PROXY header first, then TLS on the same connection', async (t) => {
  const gw = makeCert(['gw.example.com']);
  const echo = await echoServer('plain');
  const server = new L4Server({ resolveCertificate: () => gw });
  t.after(async () => (await server.close(), await echo.close()));
  await server.apply([{ ...l4Listener('tls/front', [backend('svc/p', [local(echo.port)])], { acceptProxyProtocolFrom: ['127.0.0.1'] }), protocol: 'TLS', tls: { mode: 'terminate', certificate: 'secret/default/gw' } }]);
  const raw = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: server.portOf('tls/front')! }, () => resolve(s));
    s.once('error', reject);
  });
  // The header and the ClientHello in one segment, as a front proxy writes them.
  raw.cork();
  raw.write('PROXY TCP4 198.51.100.20 192.0.2.1 40000 443\r\n');
  const s = tls.connect({ socket: raw, servername: 'gw.example.com', ca: gw.certPem });
  process.nextTick(() => raw.uncork());
  const out = readAll(s as unknown as net.Socket);
  s.once('secureConnect', () => s.write('hello'));
  s.on('data', () => s.end());
  assert.equal((await out).data, 'plain:hello');
  const m = await ends.waitFor((x) => x.listener === 'tls/front');
  assert.equal(m.clientAddress, '198.51.100.20');
  assert.equal(m.serverName, 'gw.example.com');
});
