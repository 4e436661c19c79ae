import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import https from 'node:https';
import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { cluster, echoHandler, forwardRoute, httpListener, snapshot, startGateway, startUpstream } from './harness.js';
import { makeCert } from './certs.js';
import type { IrCertificate } from '../../src/ir/types.js';

function h2Get(url: string, path: string, headers: Record<string, string>, options: http2.SecureClientSessionOptions = {}): Promise<{ status: number; body: string; alpn?: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, options);
    session.on('error', reject);
    const stream = session.request({ ':path': path, ...headers });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const alpn = (session.socket as tls.TLSSocket).alpnProtocol || undefined;
      session.close();
      resolve({ status, body: Buffer.concat(chunks).toString(), alpn });
    });
    stream.on('error', reject);
  });
}

test('cleartext HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1', async (t) => {
  const up = await startUpstream(echoHandler('a'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await h2Get(`http://127.0.0.1:${gw.httpPort}`, '/h2?q=1', { ':authority': 'shop.example' });
  assert.equal(res.status, 200);
  const echoed = JSON.parse(res.body);
  assert.equal(echoed.url, '/h2?q=1');
  assert.equal(echoed.headers.host, 'shop.example', ':authority becomes Host upstream');
  assert.equal(echoed.headers['x-forwarded-proto'], 'http');
});

test('HTTPS: SNI selects the certificate, ALPN offers h2 and http/1.1', async (t) => {
  const a = makeCert(['a.example']);
  const wild = makeCert(['*.b.example']);
  const certs: IrCertificate[] = [
    { name: 'secret/default/a', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'a' }, serverNames: ['a.example'], ...a },
    { name: 'secret/default/b', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'b' }, serverNames: ['*.b.example'], ...wild },
  ];
  const up = await startUpstream(echoHandler('a'));
  const listener = httpListener([forwardRoute('r', 'c')], ['*'], {
    name: 'test/https',
    protocol: 'https',
    port: 443,
    tls: { certificates: ['secret/default/a', 'secret/default/b'] },
  });
  const gw = await startGateway(snapshot([listener], [cluster('c', [up])], 1, certs));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const served = (servername: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: gw.httpsPort, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
        const cert = new X509Certificate(s.getPeerX509Certificate()!.raw);
        s.end();
        resolve(cert.subject);
      });
      s.on('error', reject);
    });
  assert.match(await served('a.example'), /CN=a\.example/);
  assert.match(await served('x.b.example'), /CN=\*\.b\.example/);
  assert.match(await served('unknown.example'), /CN=a\.example/, 'the first certificate is the default');

  const res = await h2Get(`https://127.0.0.1:${gw.httpsPort}`, '/tls', { ':authority': 'x.b.example' }, { servername: 'x.b.example', ca: wild.certPem, rejectUnauthorized: false });
  assert.equal(res.status, 200);
  assert.equal(res.alpn, 'h2');
  assert.equal(JSON.parse(res.body).headers['x-forwarded-proto'], 'https');
});

test('HTTPS: a Host whose certificate differs from the SNI one gets 421; one the same certificate covers is served', async (t) => {
  const a = makeCert(['a.example']);
  const wild = makeCert(['*.b.example']);
  const certs: IrCertificate[] = [
    { name: 'secret/default/a', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'a' }, serverNames: ['a.example'], ...a },
    { name: 'secret/default/b', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'b' }, serverNames: ['*.b.example'], ...wild },
  ];
  const up = await startUpstream(echoHandler('a'));
  const listener = httpListener([forwardRoute('r', 'c')], ['*'], { name: 'test/https', protocol: 'https', port: 443, tls: { certificates: ['secret/default/a', 'secret/default/b'] } });
  const gw = await startGateway(snapshot([listener], [cluster('c', [up])], 1, certs));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const get = (servername: string, host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: gw.httpsPort, servername, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
  assert.equal(await get('a.example', 'x.b.example'), 421);
  assert.equal(await get('x.b.example', 'y.b.example'), 200, 'the wildcard certificate covers both');
  assert.equal(await get('a.example', 'A.example:443'), 200);
});

test('a Service port with appProtocol https is reached over TLS (its certificate verified)', async (t) => {
  const cert = makeCert(['backend.internal']);
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => res.end(`tls=${(req.socket as tls.TLSSocket).encrypted} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port }], { protocol: 'https', tls: { serverName: 'backend.internal', verification: { kind: 'verify', caPem: cert.certPem } } })]));
  t.after(async () => {
    await gw.close();
    server.closeAllConnections();
    server.close();
  });
  const res = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.httpPort, path: '/secure', agent: false }, (r) => {
      let s = '';
      r.on('data', (c: Buffer) => (s += c));
      r.on('end', () => resolve(s));
    }).on('error', reject);
  });
  assert.equal(res, 'tls=true /secure');
});
