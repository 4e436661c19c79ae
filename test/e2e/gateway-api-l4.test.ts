// Gateway API L4 through the real gateway process: a TCP listener with a TCPRoute and a TLS
// Passthrough listener with two TLSRoutes, from YAML on disk. Real clients: a TCP client reaches
// the TCPRoute's Service endpoint; TLS clients with two SNI names each reach their own backend,
// which receives the ClientHello untouched (passthrough); an SNI name no route claims reaches none.
// Then a TLS Terminate listener and a UDP listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
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
    ['run', '--workers', '1', '--config', dir, '--port-map', `5432=${tcpPort},8443=${tlsPort}`, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
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

// A kubernetes.io/tls Secret for secure.example.com (the one test/translate/gateway-api/golden/frontend-client-validation.in.yaml uses).
const SERVER_SECRET = `apiVersion: v1
kind: Secret
metadata: {name: server-cert, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzRENDQVZhZ0F3SUJBZ0lVQkI4U3RKWUFJRTNjc0Uxbi9ndDdCaHdOUXJVd0NnWUlLb1pJemowRUF3SXcKSFRFYk1Ca0dBMVVFQXd3U2MyVmpkWEpsTG1WNFlXMXdiR1V1WTI5dE1DQVhEVEkyTVRJd01qRXlNalUxTjFvWQpEekl4TWpZeE1UQTRNVEl5TlRVM1dqQWRNUnN3R1FZRFZRUUREQkp6WldOMWNtVXVaWGhoYlhCc1pTNWpiMjB3CldUQVRCZ2NxaGtqT1BRSUJCZ2dxaGtqT1BRTUJCd05DQUFUM0tMa0FYQjBucVNqVW5waFRLWHRodFNvR0JJMHMKcGRJNHJtd3FJVWc5YytKTWNKMGRNSXZBUGRzeHBBV3NoWmFPbWFuS2ZqWitwVG9pRldoVEJ4RllvM0l3Y0RBZApCZ05WSFE0RUZnUVUvWWdBMStncGQ4ekIzTWpZZkhhemgrQXFobVV3SHdZRFZSMGpCQmd3Rm9BVS9ZZ0ExK2dwCmQ4ekIzTWpZZkhhemgrQXFobVV3RHdZRFZSMFRBUUgvQkFVd0F3RUIvekFkQmdOVkhSRUVGakFVZ2hKelpXTjEKY21VdVpYaGhiWEJzWlM1amIyMHdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWdBbmlMOHpGM2d6OHlMcDZZUFFCNwpJNXdTNnluYWJZN3YxR3YyTUZsdFRRb0NJUUNEUVRyV2dteGhOVC92Tncrb1FPaFIwRldzbkRMZS9ZbjJnc3A2CjdvWXQvZz09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K, tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ2pXNWd6bmZmUXZ6YzhkUWgKM29VRXRZbWNoWEs1eVRmMGh1cGhUbStQaG9DaFJBTkNBQVQzS0xrQVhCMG5xU2pVbnBoVEtYdGh0U29HQkkwcwpwZEk0cm13cUlVZzljK0pNY0owZE1JdkFQZHN4cEFXc2haYU9tYW5LZmpaK3BUb2lGV2hUQnhGWQotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==}
`;

test('Gateway API TLS Terminate listener: TLS ends at the gateway with the listener certificate and the backend of the TLSRoute gets plaintext', async (t) => {
  const [backendPort, tlsPort, http, https, admin] = await freePorts(5);
  const app = await recordingServer('127.0.0.2', backendPort!, 'app');
  t.after(() => app.server.close());
  const dir = configDir(t, {
    'secret.yaml': SERVER_SECRET,
    'l4.yaml': `apiVersion: gateway.networking.k8s.io/v1
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
  - {name: term, port: 9443, protocol: TLS, tls: {mode: Terminate, certificateRefs: [{name: server-cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: term}]
  hostnames: [secure.example.com]
  rules: [{backendRefs: [{name: app, port: 7000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {ports: [{port: 7000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-1, namespace: default, labels: {kubernetes.io/service-name: app}}
addressType: IPv4
ports: [{port: ${backendPort}}]
endpoints: [{addresses: [127.0.0.2]}]
`,
  });
  const gw = await startCli(
    t,
    ['run', '--workers', '1', '--config', dir, '--port-map', `9443=${tlsPort}`, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
    /admin on 127\.0\.0\.1:\d+/,
  );
  const { answer, subject } = await new Promise<{ answer: string; subject: string }>((resolve, reject) => {
    let got = '';
    const s = tls.connect({ port: tlsPort!, host: '127.0.0.1', servername: 'secure.example.com', rejectUnauthorized: false }, () => s.write('hello\n'));
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve({ answer: got.trim(), subject: String(s.getPeerCertificate().subject?.CN ?? '') }));
    s.on('error', reject);
  });
  assert.equal(answer, 'app', gw.stderr());
  assert.equal(subject, 'secure.example.com', 'the listener certificate is served');
  assert.equal(app.firstBytes[0]?.toString(), 'hello\n', 'the backend gets the plaintext');
  await gw.stop();
});

test('Gateway API UDP listener: a UDPRoute carries datagrams both ways to its Service endpoint', async (t) => {
  const [backendPort, udpPort, http, https, admin] = await freePorts(5);
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => echo.bind(backendPort!, '127.0.0.2', () => resolve()));
  t.after(() => echo.close());
  const dir = configDir(t, {
    'l4.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: dns, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: dns}]
  rules: [{backendRefs: [{name: dns, port: 53}]}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: default}
spec: {ports: [{port: 53, protocol: UDP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-1, namespace: default, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{port: ${backendPort}, protocol: UDP}]
endpoints: [{addresses: [127.0.0.2]}]
`,
  });
  const gw = await startCli(
    t,
    ['run', '--workers', '1', '--config', dir, '--port-map', `53=${udpPort}`, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
    /admin on 127\.0\.0\.1:\d+/,
  );
  const client = dgram.createSocket('udp4');
  t.after(() => client.close());
  const reply = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply\n${gw.stderr()}`)), 5000);
    client.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg.toString());
    });
    client.send('ping', udpPort!, '127.0.0.1');
  });
  assert.equal(reply, 'echo:ping');
  await gw.stop();
});
