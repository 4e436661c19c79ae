// Binds on real sockets: a wildcard bind serving a specific-address listener by local address,
// 421 across logical listeners that share one certificate, and conflicting listeners that no
// longer fail the apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { DataPlane } from '../../src/dataplane/data-plane.js';
import { UndiciTransport } from '../../src/dataplane/upstream/undici-transport.js';
import { systemClock } from '../../src/core/clock.js';
import { seededRandom } from '../../src/core/random.js';
import { bindListeners } from '../../src/translate/binds/bind-listeners.js';
import type { IrCertificate, IrListener } from '../../src/ir/types.js';
import { cluster, echoHandler, forwardRoute, request, snapshot, startGateway, startUpstream } from './harness.js';
import { makeCert } from './certs.js';

function listener(name: string, hostnames: readonly string[], clusterName: string, extra: Partial<IrListener> = {}): IrListener {
  return { name, protocol: 'http', port: 80, virtualHosts: [{ name: `${name}/vh`, hostnames, wildcardMatch: 'any-labels', routes: [forwardRoute(`${name}/r`, clusterName)] }], ...extra };
}

test('a listener on a specific address shares the wildcard bind of its port and sees only connections to its address', async (t) => {
  const a = await startUpstream(echoHandler('any'));
  const b = await startUpstream(echoHandler('specific'));
  const listeners = [listener('l/any', ['*'], 'a'), listener('l/specific', ['*'], 'b', { address: '127.0.0.2' })];
  const bound = bindListeners(listeners, { listenAddress: '0.0.0.0', portMap: new Map([[80, 0]]) });
  assert.equal(bound.binds.length, 1, 'one socket, not an EADDRINUSE between 0.0.0.0 and 127.0.0.2');
  const dataPlane = new DataPlane({ trustedProxies: [], transport: new UndiciTransport(), clock: systemClock, random: seededRandom(1) });
  const result = await dataPlane.apply({ generation: 1, listeners: bound.listeners, binds: bound.binds, clusters: [cluster('a', [a]), cluster('b', [b])], certificates: [] });
  t.after(async () => {
    await dataPlane.drain(100);
    await a.close();
    await b.close();
  });
  assert.equal(result.outcome, 'applied', JSON.stringify(result.diagnostics));
  const port = dataPlane.boundPorts()[0]!.port;
  const via = async (address: string): Promise<string> => (JSON.parse((await request(port, { host: address, path: '/' })).body) as { name: string }).name;
  assert.equal(await via('127.0.0.1'), 'any');
  assert.equal(await via('127.0.0.2'), 'specific');
  assert.equal(await via('127.0.0.3'), 'any');
});

test('HTTPS listeners sharing one certificate: a Host of another listener than the SNI name gets 421', async (t) => {
  const cert = makeCert(['*.shared.test', 'shared.test']);
  const certs: IrCertificate[] = ['one', 'two'].map((n) => ({
    name: `secret/${n}`,
    origin: { group: '', kind: 'Secret', namespace: 'default', name: 'shared' },
    serverNames: [`${n}.shared.test`],
    ...cert,
  }));
  const up = await startUpstream(echoHandler('up'));
  const https1 = listener('gw/one', ['one.shared.test'], 'c', { protocol: 'https', port: 443, tls: { certificates: ['secret/one'] } });
  const https2 = listener('gw/two', ['two.shared.test'], 'c', { protocol: 'https', port: 443, tls: { certificates: ['secret/two'] } });
  const gw = await startGateway(snapshot([https1, https2], [cluster('c', [up])], 1, certs));
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
  assert.equal(await get('one.shared.test', 'one.shared.test'), 200);
  assert.equal(await get('two.shared.test', 'two.shared.test'), 200);
  assert.equal(await get('one.shared.test', 'two.shared.test'), 421, 'same certificate, another listener');
  assert.equal(await get('unknown.shared.test', 'two.shared.test'), 421, 'the SNI name selected no listener, the Host one');
  assert.equal(await get('one.shared.test', 'unknown.shared.test'), 404, 'no listener serves the Host: the SNI listener answers');
});

test('HTTP and HTTPS listeners declared on one port: one is refused by the bind step, the apply succeeds', async (t) => {
  const up = await startUpstream(echoHandler('up'));
  const cert = makeCert(['secure.test']);
  const plain = listener('gw/a/web', ['*'], 'c', { declaredBy: { object: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'a' }, path: 'spec.listeners[0]', sectionName: 'web', hostname: '*' } });
  const secure = listener('gw/b/secure', ['secure.test'], 'c', {
    protocol: 'https',
    tls: { certificates: ['secret/s'] },
    declaredBy: { object: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'b' }, path: 'spec.listeners[0]', sectionName: 'secure', hostname: 'secure.test' },
  });
  const certs: IrCertificate[] = [{ name: 'secret/s', origin: { group: '', kind: 'Secret', namespace: 'default', name: 's' }, serverNames: ['secure.test'], ...cert }];
  const gw = await startGateway(snapshot([plain, secure], [cluster('c', [up])], 1, certs));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  assert.deepEqual(gw.dataPlane.boundPorts().map((p) => p.protocol), ['http']);
  assert.equal((await request(gw.httpPort, { path: '/', headers: { host: 'secure.test' } })).status, 200);
});

test('a reload that changes a port from HTTP to HTTPS, or moves it to the wildcard address, rebinds without EADDRINUSE', async (t) => {
  const up = await startUpstream(echoHandler('up'));
  const free = await startUpstream(() => undefined);
  const port = free.port;
  await free.close();
  const cert = makeCert(['r.test']);
  const certs: IrCertificate[] = [{ name: 'secret/r', origin: { group: '', kind: 'Secret', namespace: 'default', name: 'r' }, serverNames: ['r.test'], ...cert }];
  const dataPlane = new DataPlane({ trustedProxies: [], transport: new UndiciTransport(), clock: systemClock, random: seededRandom(1) });
  t.after(async () => {
    await dataPlane.drain(100);
    await up.close();
  });
  const applyWith = async (l: IrListener, listenAddress: string, generation: number): Promise<void> => {
    const bound = bindListeners([l], { listenAddress, portMap: new Map([[l.port, port]]) });
    const result = await dataPlane.apply({ generation, listeners: bound.listeners, binds: bound.binds, clusters: [cluster('c', [up])], certificates: certs });
    assert.equal(result.outcome, 'applied', JSON.stringify(result.diagnostics));
  };
  await applyWith(listener('l/http', ['*'], 'c'), '127.0.0.1', 1);
  assert.equal((await request(port, { path: '/' })).status, 200);
  await applyWith(listener('l/https', ['*'], 'c', { protocol: 'https', tls: { certificates: ['secret/r'] } }), '127.0.0.1', 2);
  assert.deepEqual(dataPlane.boundPorts().map((p) => [p.protocol, p.port]), [['https', port]]);
  await applyWith(listener('l/http', ['*'], 'c'), '0.0.0.0', 3);
  assert.deepEqual(dataPlane.boundPorts().map((p) => [p.bind, p.protocol]), [[`0.0.0.0:${port}`, 'http']]);
  assert.equal((await request(port, { path: '/' })).status, 200);
});
