// Gateway API L4 through the real gateway process: a TCP listener with a TCPRoute and a TLS
// Passthrough listener with two TLSRoutes, from YAML on disk. Real clients: a TCP client reaches
// the TCPRoute's Service endpoint; TLS clients with two SNI names each reach their own backend,
// which receives the ClientHello untouched (passthrough); an SNI name no route claims reaches none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { configDir, freePorts, startCli } from './cli-harness.js';

/** A backend that records the first bytes of each connection, answers its name and closes. */
function recordingServer(host: string, port: number, name: string): Promise<{ server: net.Server; firstBytes: Buffer[] }> {
  const firstBytes: Buffer[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => {
      firstBytes.push(d);
      s.end(`${name}\n`);
    });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve({ server, firstBytes })));
}

function askTcp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write('hello\n'));
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got.trim()));
    s.on('error', reject);
  });
}

/** A TLS ClientHello with this SNI name; the backends are not TLS servers, so the handshake ends in an error either way. */
function helloWithSni(port: number, servername: string): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

function yaml(backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners:
  - {name: pg, port: 5432, protocol: TCP}
  - {name: tls, port: 8443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: pg, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: pg}]
  rules: [{backendRefs: [{name: pg, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: tls}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: shop, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: mail, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: tls}]
  hostnames: [mail.example.com]
  rules: [{backendRefs: [{name: mail, port: 443}]}]
${['pg', 'shop', 'mail']
  .map(
    (name, i) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{port: ${name === 'pg' ? 5432 : 443}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{port: ${backendPort}}]
endpoints: [{addresses: [127.0.0.${i + 2}]}]
`,
  )
  .join('')}`;
}

test('Gateway API TCP and TLS Passthrough listeners: a TCPRoute and two TLSRoutes by SNI, served by the gateway process', async (t) => {
  const [backendPort, tcpPort, tlsPort, http, https, admin] = await freePorts(6);
  const pg = await recordingServer('127.0.0.2', backendPort!, 'pg');
  const shop = await recordingServer('127.0.0.3', backendPort!, 'shop');
  const mail = await recordingServer('127.0.0.4', backendPort!, 'mail');
  t.after(() => [pg, shop, mail].forEach((b) => b.server.close()));
  const dir = configDir(t, { 'l4.yaml': yaml(backendPort!) });
  const gw = await startCli(
    t,
    ['run', '--config', dir, '--port-map', `5432=${tcpPort},8443=${tlsPort}`, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
    /admin on 127\.0\.0\.1:\d+/,
  );
  assert.equal(await askTcp(tcpPort!), 'pg', gw.stderr());
  assert.equal(pg.firstBytes[0]?.toString(), 'hello\n');

  await helloWithSni(tlsPort!, 'shop.example.com');
  await helloWithSni(tlsPort!, 'mail.example.com');
  await helloWithSni(tlsPort!, 'mail.example.com');
  await helloWithSni(tlsPort!, 'other.example.com');
  assert.equal(shop.firstBytes.length, 1, gw.stderr());
  assert.equal(mail.firstBytes.length, 2);
  // Passthrough: the backend gets the client's own ClientHello (a TLS handshake record, 0x16),
  // with the SNI name in it.
  assert.equal(shop.firstBytes[0]![0], 0x16);
  assert.ok(shop.firstBytes[0]!.includes(Buffer.from('shop.example.com')));
  assert.equal(pg.firstBytes.length, 1, 'the unclaimed SNI name reached no backend');

  const statuses = (await (await fetch(`http://127.0.0.1:${admin}/api/status`)).json()) as { kind: string; name: string; status: { parents?: { conditions: { type: string; status: string }[] }[] } }[];
  const route = statuses.find((s) => s.kind === 'TLSRoute' && s.name === 'shop');
  assert.equal(route?.status.parents?.[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
  await gw.stop();
});
