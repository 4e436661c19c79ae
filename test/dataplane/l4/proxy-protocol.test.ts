// PROXY protocol v1 and v2: the parser on hand-made bytes, and the proxy end to end with a real
// backend that parses the header it receives, and a real front that sends one.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { encodeProxyHeader, parseProxyHeader, PROXY_V2_SIGNATURE } from '../../../src/dataplane/l4/proxy-protocol.js';
import { backend, connect, exchange, l4Listener, local, readAll, recordConnectionEnds, tcpServer } from './l4-harness.js';

const ends = recordConnectionEnds();
after(() => ends.stop());

/** A v2 header made by hand, byte by byte from the spec (not by the code under test). */
function v2Header(src: string, sport: number, dst: string, dport: number): Buffer {
  const addr = Buffer.from([...src.split('.').map(Number), ...dst.split('.').map(Number), sport >> 8, sport & 255, dport >> 8, dport & 255]);
  return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 12]), addr]);
}

/**
 * A backend that reads a PROXY header (v1 text line or v2 binary, parsed here independently of the
 * code under test) and answers "v<version> <src>:<sport> -> <dst>:<dport> | <rest>".
 */
function headerReportingBackend(): ReturnType<typeof tcpServer> {
  return tcpServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.subarray(0, 12).equals(PROXY_V2_SIGNATURE) && buf.length >= 28) {
        const b = buf.subarray(16);
        const ip = (o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
        const rest = buf.subarray(16 + buf.readUInt16BE(14)).toString();
        if (rest.length > 0) s.end(`v2 ${ip(0)}:${b.readUInt16BE(8)} -> ${ip(4)}:${b.readUInt16BE(10)} | ${rest}`);
      } else if (buf.toString('latin1').startsWith('PROXY ') && buf.includes('\r\n')) {
        const eol = buf.indexOf('\r\n');
        const [, , src, dst, sport, dport] = buf.toString('latin1', 0, eol).split(' ');
        const rest = buf.subarray(eol + 2).toString();
        if (rest.length > 0) s.end(`v1 ${src}:${sport} -> ${dst}:${dport} | ${rest}`);
      } else if (buf.length > 0 && !buf.toString('latin1').startsWith('PROXY') && buf[0] !== 0x0d) {
        s.end(`none | ${buf.toString()}`);
      }
    });
  });
}

test('parser: v1 and v2 headers, split over segments, and refusals', () => {
  const v1 = Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\nGET');
  assert.deepEqual(parseProxyHeader(v1.subarray(0, 20)), { kind: 'need-more' });
  const r1 = parseProxyHeader(v1);
  assert.equal(r1.kind, 'header');
  assert.deepEqual(r1.kind === 'header' && [r1.consumed, r1.source, r1.destination], [v1.length - 3, { address: '203.0.113.7', port: 51000 }, { address: '192.0.2.1', port: 443 }]);
  const v2 = v2Header('203.0.113.9', 40000, '192.0.2.2', 8443);
  for (let i = 0; i < v2.length; i++) assert.deepEqual(parseProxyHeader(v2.subarray(0, i)), { kind: 'need-more' }, `prefix of ${i} bytes`);
  const r2 = parseProxyHeader(v2);
  assert.deepEqual(r2.kind === 'header' && [r2.consumed, r2.version, r2.source], [28, 2, { address: '203.0.113.9', port: 40000 }]);
  assert.equal(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n')).kind, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 ::1 5.6.7.8 1 1\r\n')).kind, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)).kind, 'invalid');
  const huge = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
  assert.equal(parseProxyHeader(huge).kind, 'invalid');
  const local = parseProxyHeader(Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]));
  assert.deepEqual(local, { kind: 'header', consumed: 16, version: 2 });
  // What we write, we read.
  const ours = parseProxyHeader(encodeProxyHeader('v2', { address: '2001:db8::1', port: 1 }, { address: '2001:db8::2', port: 2 }));
  assert.deepEqual(ours.kind === 'header' && ours.source, { address: '2001:db8::1', port: 1 });
});

for (const version of ['v1', 'v2'] as const) {
  test(`the backend receives a PROXY ${version} header with the client and the address it reached`, async (t) => {
    const be = await headerReportingBackend();
    const server = new L4Server();
    t.after(async () => (await server.close(), await be.close()));
    await server.apply([l4Listener(`pp/${version}`, [backend('svc/pp', [local(be.port)], { proxyProtocol: version })])]);
    const port = server.portOf(`pp/${version}`)!;
    const client = await connect(port);
    const answer = await exchange(client, 'hi', 1000);
    assert.equal(answer, `${version} 127.0.0.1:${client.localPort} -> 127.0.0.1:${port} | hi`);
  });
}

test('a trusted front: its v2 header (made by the test) gives the client address the backend sees', async (t) => {
  const be = await headerReportingBackend();
  const server = new L4Server();
  t.after(async () => (await server.close(), await be.close()));
  await server.apply([l4Listener('pp/trusted', [backend('svc/pp', [local(be.port)], { proxyProtocol: 'v1' })], { acceptProxyProtocolFrom: ['127.0.0.0/8'] })]);
  const client = await connect(server.portOf('pp/trusted')!);
  const header = v2Header('203.0.113.50', 61000, '192.0.2.80', 443);
  // Split across segments: the header in two writes, then the data.
  client.write(header.subarray(0, 10));
  await new Promise((r) => setTimeout(r, 30));
  client.write(header.subarray(10));
  const answer = await exchange(client, 'data', 1000);
  assert.equal(answer, 'v1 203.0.113.50:61000 -> 192.0.2.80:443 | data');
  client.end();
  const m = await ends.waitFor((x) => x.listener === 'pp/trusted');
  assert.equal(m.clientAddress, '203.0.113.50');
});

test('a trusted front with a bad or missing header is refused by closing', async (t) => {
  const be = await headerReportingBackend();
  const server = new L4Server();
  t.after(async () => (await server.close(), await be.close()));
  await server.apply([l4Listener('pp/bad', [backend('svc/pp', [local(be.port)])], { acceptProxyProtocolFrom: ['127.0.0.1/32'] })]);
  const client = await connect(server.portOf('pp/bad')!);
  const read = readAll(client);
  client.write('GET / HTTP/1.1\r\n\r\n');
  assert.equal((await read).data, '');
  assert.equal((await ends.waitFor((x) => x.listener === 'pp/bad')).reason, 'proxy_protocol_error');
  assert.equal(be.sockets.size, 0);
});

test('an untrusted peer: a PROXY header it sends is not parsed and reaches the backend as data', async (t) => {
  const be = await headerReportingBackend();
  const server = new L4Server();
  t.after(async () => (await server.close(), await be.close()));
  // Only 192.0.2.0/24 is trusted; the test connects from 127.0.0.1.
  await server.apply([l4Listener('pp/untrusted', [backend('svc/pp', [local(be.port)], { proxyProtocol: 'v1' })], { acceptProxyProtocolFrom: ['192.0.2.0/24'] })]);
  const client = await connect(server.portOf('pp/untrusted')!);
  const spoof = 'PROXY TCP4 6.6.6.6 7.7.7.7 1 2\r\n';
  const answer = await exchange(client, spoof, 1000);
  // The backend sees our header with the real peer first; the spoofed one is only payload.
  assert.equal(answer, `v1 127.0.0.1:${client.localPort} -> 127.0.0.1:${server.portOf('pp/untrusted')} | ${spoof}`);
});

test('an IPv4 client is written as TCP4 even when the socket reports it IPv4-mapped', () => {
  const h = encodeProxyHeader('v1', { address: '::ffff:10.1.2.3', port: 5 }, { address: '::ffff:10.1.2.4', port: 6 });
  assert.equal(h.toString(), 'PROXY TCP4 10.1.2.3 10.1.2.4 5 6\r\n');
  assert.ok(net.isIP('10.1.2.3'));
});
