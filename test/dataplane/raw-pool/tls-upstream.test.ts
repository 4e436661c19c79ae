// https upstreams through the raw pool, with certificates made by openssl (certs.ts): verification
// stays on, the policy's name is checked and sent as SNI, ALPN offers http/1.1, mutual TLS presents
// the client certificate, and connections are reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { RawTransport } from '../../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { compileUpstreamTls } from '../../../src/dataplane/upstream/upstream-tls.js';
import { makeCa, makeCert, makeLeaf } from '../certs.js';
import { answerEach, connectionFor, OK, send, startRawServer } from './raw-harness.js';

const ca = makeCa();
const leaf = makeLeaf(ca, ['DNS:api.internal.test']);

test('a self-signed certificate nobody trusts: upstream_tls_error, nothing sent', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const self = makeCert(['api.internal.test']);
  let requests = 0;
  const server = await startRawServer(t, (s) => answerEach(s, () => (requests++, OK)), { cert: self.certPem, key: self.keyPem });
  const tls = compileUpstreamTls({ serverName: 'api.internal.test', verification: { kind: 'verify', caPem: ca.certPem } });
  const out = await send(transport, server.port, { connection: connectionFor('https', { tls }) });
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') assert.equal(out.reason, 'upstream_tls_error', `${out.code}: ${out.message}`);
  assert.equal(requests, 0);
});

test('a certificate for another name than the policy says: upstream_tls_error', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const server = await startRawServer(t, (s) => answerEach(s, () => OK), { cert: leaf.certPem, key: leaf.keyPem });
  const tls = compileUpstreamTls({ serverName: 'other.internal.test', verification: { kind: 'verify', caPem: ca.certPem } });
  const out = await send(transport, server.port, { connection: connectionFor('https', { tls }) });
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') assert.equal(out.reason, 'upstream_tls_error', `${out.code}: ${out.message}`);
});

test('a trusted CA: the request succeeds, SNI is the policy name, ALPN is http/1.1, the connection is reused', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const seen: { sni: string | false; alpn: string | false | null }[] = [];
  const server = await startRawServer(
    t,
    (s) => {
      const tlsSocket = s as TLSSocket;
      seen.push({ sni: (tlsSocket as unknown as { servername: string | false }).servername, alpn: tlsSocket.alpnProtocol });
      answerEach(s, () => OK);
    },
    { cert: leaf.certPem, key: leaf.keyPem, ALPNProtocols: ['http/1.1'] },
  );
  const tls = compileUpstreamTls({ serverName: 'api.internal.test', verification: { kind: 'verify', caPem: ca.certPem } });
  const connection = connectionFor('https', { tls });
  for (let i = 0; i < 3; i++) {
    const out = await send(transport, server.port, { connection });
    assert.equal(out.kind, 'ok', JSON.stringify(out));
  }
  assert.equal(server.sockets.length, 1);
  assert.deepEqual(seen, [{ sni: 'api.internal.test', alpn: 'http/1.1' }]);
});

test('mutual TLS: the client certificate of the policy is presented', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const clientCa = makeCa('Client CA');
  const client = makeLeaf(clientCa, ['URI:spiffe://test/ns/gw/sa/isthmus'], 'clientAuth');
  const server = await startRawServer(
    t,
    (s) => {
      const peer = (s as TLSSocket).getPeerCertificate();
      answerEach(s, () => `HTTP/1.1 200 OK\r\nx-peer: ${peer.subjectaltname ?? 'none'}\r\ncontent-length: 2\r\n\r\nok`);
    },
    { cert: leaf.certPem, key: leaf.keyPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true },
  );
  const tls = compileUpstreamTls(
    { serverName: 'api.internal.test', verification: { kind: 'verify', caPem: ca.certPem }, clientCertificate: 'gw' },
    { name: 'gw', certPem: client.certPem, keyPem: client.keyPem } as Parameters<typeof compileUpstreamTls>[1],
  );
  const out = await send(transport, server.port, { connection: connectionFor('https', { tls }) });
  assert.equal(out.kind, 'ok', JSON.stringify(out));
  if (out.kind === 'ok') assert.equal(out.headers[out.headers.indexOf('x-peer') + 1], 'URI:spiffe://test/ns/gw/sa/isthmus');
});

test('a new connection resumes the TLS session of the pool', async (t) => {
  const transport = new RawTransport();
  t.after(() => transport.close());
  const reused: boolean[] = [];
  // Every response closes its connection, so each request needs a new one.
  const server = await startRawServer(
    t,
    (s) => {
      answerEach(s, () => {
        reused.push((s as TLSSocket).isSessionReused());
        return 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok';
      });
    },
    { cert: leaf.certPem, key: leaf.keyPem, maxVersion: 'TLSv1.2' },
  );
  const tls = compileUpstreamTls({ serverName: 'api.internal.test', verification: { kind: 'verify', caPem: ca.certPem } });
  const connection = connectionFor('https', { tls });
  for (let i = 0; i < 3; i++) assert.equal((await send(transport, server.port, { connection })).kind, 'ok');
  assert.equal(server.sockets.length, 3);
  assert.deepEqual(reused, [false, true, true]);
});
