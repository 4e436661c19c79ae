// Upstream TLS against real https servers on 127.0.0.1 whose certificates a private CA signed
// (openssl): the cluster's policy decides which CA and which name are trusted, and nothing is
// reached unverified unless the policy says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway } from './harness.js';
import { makeCa, makeLeaf, type TestCert } from './certs.js';
import type { IrCluster, IrUpstreamTls } from '../../src/ir/types.js';
import { uriSansOf } from '../../src/dataplane/upstream/upstream-tls.js';

const SVC = 'backend.default.svc';
const SPIFFE = 'spiffe://cluster.local/ns/default/sa/backend';
const ca = makeCa('Isthmus Test CA');
const otherCa = makeCa('Some Other CA');
const leaf = makeLeaf(ca, [`DNS:${SVC}`, `URI:${SPIFFE}`]);

interface TlsUpstream {
  readonly port: number;
  /** SNI of every TLS connection that reached a request, in order. */
  readonly servernames: (string | false | null)[];
  /** TCP connections accepted, handshakes that failed included. */
  connections: number;
  close(): Promise<void>;
}

async function startTlsUpstream(t: { after(fn: () => Promise<void>): void }, cert: TestCert, name = 'tls'): Promise<TlsUpstream> {
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const socket = req.socket as TLSSocket;
    up.servernames.push(socket.servername);
    res.end(`${name} ${req.url}`);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const up: TlsUpstream = {
    port: (server.address() as AddressInfo).port,
    servernames: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => up.connections++);
  t.after(() => up.close());
  return up;
}

function tlsCluster(name: string, up: TlsUpstream, tls?: IrUpstreamTls, extra: Partial<IrCluster> = {}): IrCluster {
  return cluster(name, [{ address: '127.0.0.1', port: up.port }], { protocol: 'https', ...(tls === undefined ? {} : { tls }), ...extra });
}

const verified = (serverName: string, caPem?: string, subjectAltNames?: Extract<IrUpstreamTls['verification'], { kind: 'verify' }>['subjectAltNames']): IrUpstreamTls => ({
  serverName,
  verification: { kind: 'verify', ...(caPem === undefined ? {} : { caPem }), ...(subjectAltNames === undefined ? {} : { subjectAltNames }) },
});

async function gatewayFor(t: { after(fn: () => Promise<void>): void }, clusters: readonly IrCluster[]) {
  const routes = clusters.map((c) => forwardRoute(c.name, c.name, { path: { kind: 'prefix', value: `/${c.name}` } }));
  const gw = await startGateway(snapshot([httpListener(routes)], clusters));
  t.after(() => gw.close());
  return gw;
}

async function get(port: number, path: string, host = 'shop.example'): Promise<{ status: number; reason?: string; body: string }> {
  const res = await request(port, { path, headers: { host } });
  if (res.status < 500) return { status: res.status, body: res.body };
  return { status: res.status, reason: (JSON.parse(res.body) as { reason: string }).reason, body: res.body };
}

test('a TLS cluster with no policy verifies like any HTTPS client: a private-CA certificate gets 502 upstream_tls_error', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up)]);
  const res = await get(gw.httpPort, '/c');
  assert.equal(res.status, 502);
  assert.equal(res.reason, 'upstream_tls_error');
  assert.deepEqual(up.servernames, [], 'no request reached the upstream');
});

test('the right CA and the certificate\'s name: 200, with the policy\'s name as SNI whatever the Host', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up, verified(SVC, ca.certPem))]);
  assert.deepEqual(await get(gw.httpPort, '/c/one'), { status: 200, body: 'tls /c/one' });
  assert.deepEqual(await get(gw.httpPort, '/c/two', 'evil.example'), { status: 200, body: 'tls /c/two' });
  assert.deepEqual(up.servernames, [SVC, SVC]);
  assert.equal(up.connections, 1, 'a different Host does not make undici reconnect');
});

test('the right CA but another server name: 502', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up, verified('other.default.svc', ca.certPem))]);
  const res = await get(gw.httpPort, '/c');
  assert.equal(res.status, 502);
  assert.equal(res.reason, 'upstream_tls_error');
});

test('another CA, or node\'s default CAs: 502', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('other', up, verified(SVC, otherCa.certPem)), tlsCluster('system', up, verified(SVC))]);
  for (const path of ['/other', '/system']) {
    const res = await get(gw.httpPort, path);
    assert.equal(res.status, 502, path);
    assert.equal(res.reason, 'upstream_tls_error', path);
  }
});

test('a CA bundle of several certificates trusts each of them', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up, verified(SVC, otherCa.certPem + ca.certPem))]);
  assert.equal((await get(gw.httpPort, '/c')).status, 200);
});

test('an IP address as the server name: checked against the IP SANs, and no SNI is sent (RFC 6066)', async (t) => {
  const up = await startTlsUpstream(t, makeLeaf(ca, ['IP:127.0.0.1']));
  const gw = await gatewayFor(t, [tlsCluster('ip', up, verified('127.0.0.1', ca.certPem)), tlsCluster('otherip', up, verified('127.0.0.2', ca.certPem))]);
  assert.equal((await get(gw.httpPort, '/ip')).status, 200);
  assert.equal((await get(gw.httpPort, '/otherip')).status, 502);
  assert.deepEqual(up.servernames, [false]);
});

test('insecure-skip-verify reaches an untrusted upstream, still over TLS with the SNI', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up, { serverName: 'anything.example', verification: { kind: 'insecure-skip-verify' } })]);
  assert.deepEqual(await get(gw.httpPort, '/c'), { status: 200, body: 'tls /c' });
  assert.deepEqual(up.servernames, ['anything.example']);
});

test('subjectAltNames: a listed DNS or URI SAN passes instead of the server name; none listed on the certificate fails', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [
    tlsCluster('dns', up, verified('sni-only.example', ca.certPem, [{ kind: 'dns', value: 'nope.default.svc' }, { kind: 'dns', value: SVC }])),
    tlsCluster('uri', up, verified('sni-only.example', ca.certPem, [{ kind: 'uri', value: SPIFFE }])),
    tlsCluster('dnsbad', up, verified(SVC, ca.certPem, [{ kind: 'dns', value: 'nope.default.svc' }])),
    tlsCluster('uribad', up, verified(SVC, ca.certPem, [{ kind: 'uri', value: 'spiffe://cluster.local/ns/default/sa/other' }])),
    // A DNS name that only appears as a URI's host is not a DNS SAN.
    tlsCluster('mixed', up, verified(SVC, ca.certPem, [{ kind: 'dns', value: 'cluster.local' }])),
  ]);
  assert.equal((await get(gw.httpPort, '/dns')).status, 200);
  assert.equal((await get(gw.httpPort, '/uri')).status, 200);
  for (const path of ['/dnsbad', '/uribad', '/mixed']) {
    const res = await get(gw.httpPort, path);
    assert.equal(res.status, 502, path);
    assert.equal(res.reason, 'upstream_tls_error', path);
  }
  assert.deepEqual(up.servernames, ['sni-only.example', 'sni-only.example'], 'SNI is the server name; the SAN list only changes the check');
});

test('two clusters on one address:port with different policies never share connections', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [
    tlsCluster('good', up, verified(SVC, ca.certPem)),
    tlsCluster('bad', up, verified(SVC, otherCa.certPem)),
    tlsCluster('skip', up, { serverName: 'skip.example', verification: { kind: 'insecure-skip-verify' } }),
  ]);
  // Interleaved, so a shared warm connection would show up as a 200 on /bad.
  for (let i = 0; i < 3; i++) {
    assert.equal((await get(gw.httpPort, '/good')).status, 200, `good ${i}`);
    assert.equal((await get(gw.httpPort, '/bad')).status, 502, `bad ${i}`);
    assert.equal((await get(gw.httpPort, '/skip')).status, 200, `skip ${i}`);
  }
  const upstreams = gw.dataPlane.upstreams() as { pools: Record<string, unknown>; clusters: { name: string; tls?: { verify: string; serverName: string } }[] };
  const pools = Object.keys(upstreams.pools);
  assert.equal(pools.filter((k) => k.endsWith(`|127.0.0.1:${up.port}`)).length, 3, `one pool per policy: ${pools.join(', ')}`);
  assert.deepEqual(
    upstreams.clusters.map((c) => [c.name, c.tls?.verify, c.tls?.serverName]),
    [['good', 'ca-bundle', SVC], ['bad', 'ca-bundle', SVC], ['skip', 'skip', 'skip.example']],
  );
});

test('a policy change applies on reload: warm connections made under the old policy are not reused', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const skip = tlsCluster('c', up, { serverName: SVC, verification: { kind: 'insecure-skip-verify' } });
  const gw = await gatewayFor(t, [skip]);
  const routes = [forwardRoute('c', 'c', { path: { kind: 'prefix', value: '/c' } })];
  assert.equal((await get(gw.httpPort, '/c')).status, 200, 'unverified, as configured');

  // Same cluster name, same endpoint, now verified against the default CAs: the keep-alive
  // connection opened without verification must not carry this request.
  await gw.dataPlane.apply(snapshot([httpListener(routes)], [tlsCluster('c', up, verified(SVC))], 2));
  const res = await get(gw.httpPort, '/c');
  assert.equal(res.status, 502);
  assert.equal(res.reason, 'upstream_tls_error');

  await gw.dataPlane.apply(snapshot([httpListener(routes)], [tlsCluster('c', up, verified(SVC, ca.certPem))], 3));
  assert.equal((await get(gw.httpPort, '/c')).status, 200, 'the right CA now');
  const pools = Object.keys((gw.dataPlane.upstreams() as { pools: Record<string, unknown> }).pools);
  assert.equal(pools.length, 1, `pools of replaced policies are closed: ${pools.join(', ')}`);
});

test('a failed verification is retried once on another endpoint, then answered: one handshake per endpoint', async (t) => {
  const a = await startTlsUpstream(t, leaf, 'a');
  const b = await startTlsUpstream(t, leaf, 'b');
  const c = cluster('c', [{ address: '127.0.0.1', port: a.port }, { address: '127.0.0.1', port: b.port }], { protocol: 'https', tls: verified(SVC, otherCa.certPem) });
  const gw = await gatewayFor(t, [c]);
  const res = await get(gw.httpPort, '/c');
  assert.equal(res.status, 502);
  assert.equal(res.reason, 'upstream_tls_error');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(a.connections + b.connections, 2, 'the first attempt and one retry, no reconnect loop');
});

test('passive health ejects an endpoint whose certificate keeps failing; with none left, panic mode still tries it (502, never a silent pass)', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('c', up, verified(SVC, otherCa.certPem))]);
  const answers: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await get(gw.httpPort, '/c');
    answers.push(`${res.status} ${res.reason}`);
  }
  assert.deepEqual(answers, Array(6).fill('502 upstream_tls_error'));
  const upstreams = gw.dataPlane.upstreams() as { clusters: { endpoints: { healthy: boolean }[] }[] };
  assert.equal(upstreams.clusters[0]!.endpoints[0]!.healthy, false, 'ejected after five failures');
  assert.equal(up.connections, 6, 'one handshake per request, no reconnect loop');
});

test('a CA bundle OpenSSL refuses (hand-written IR): a diagnostic, and the cluster answers 503', async (t) => {
  const up = await startTlsUpstream(t, leaf);
  const gw = await gatewayFor(t, [tlsCluster('ok', up, verified(SVC, ca.certPem))]);
  const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
  const routes = ['ok', 'broken'].map((n) => forwardRoute(n, n, { path: { kind: 'prefix', value: `/${n}` } }));
  const result = await gw.dataPlane.apply(snapshot([httpListener(routes)], [tlsCluster('ok', up, verified(SVC, ca.certPem)), tlsCluster('broken', up, verified(SVC, broken))], 2));
  assert.equal(result.outcome, 'applied');
  const d = result.diagnostics.find((x) => x.code === 'ERR_BACKEND_TLS_INVALID');
  assert.ok(d, JSON.stringify(result.diagnostics));
  assert.deepEqual(d.object, { group: '', kind: 'Service', namespace: 'default', name: 'broken' });
  assert.equal(d.path, 'tls.verification.caPem');
  assert.equal((await get(gw.httpPort, '/broken')).status, 503);
  assert.equal((await get(gw.httpPort, '/ok')).status, 200, 'the other cluster keeps serving');
  assert.equal(up.connections, 1);
});

test('WebSocket upgrades to a TLS upstream are verified too', async (t) => {
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem });
  server.on('tlsClientError', () => undefined);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo:${data.toString()}`)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const up = { port: (server.address() as AddressInfo).port } as TlsUpstream;
  const gw = await gatewayFor(t, [tlsCluster('good', up, verified(SVC, ca.certPem)), tlsCluster('bad', up, verified(SVC, otherCa.certPem))]);

  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/good`);
  await once(ws, 'open');
  ws.send('hi');
  const [reply] = (await once(ws, 'message')) as [Buffer];
  assert.equal(reply.toString(), 'echo:hi');
  ws.close();

  const refused = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/bad`);
  refused.on('error', () => undefined); // ws reports the refused handshake as an error too
  const [, res] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number; on(e: string, f: (c: Buffer) => void): void }];
  assert.equal(res.statusCode, 502);
  let body = '';
  res.on('data', (c) => (body += c.toString()));
  await once(res as unknown as NodeJS.EventEmitter, 'end');
  assert.equal((JSON.parse(body) as { reason: string }).reason, 'upstream_tls_error');
  refused.terminate();
});

test('uriSansOf reads node\'s subjectaltname format, quoted values included', () => {
  assert.deepEqual(uriSansOf('DNS:a.example, URI:spiffe://td/ns/x, IP Address:127.0.0.1'), ['spiffe://td/ns/x']);
  assert.deepEqual(uriSansOf('URI:"http://x.example/a,b", DNS:"b, c"'), ['http://x.example/a,b']);
  assert.deepEqual(uriSansOf(undefined), []);
});
