// One port, split by SNI: a Gateway with HTTPS listeners and a TLS Passthrough listener on the same
// port (the Listener spec counts HTTPS and TLS listeners with distinct hostnames as distinct), and
// the same with Istio (an HTTPS server and a PASSTHROUGH server of one port). Real clients: https
// and http2 clients get the gateway's certificate and the HTTPRoute's backend; a TLS client for a
// name the TLSRoute claims gets the backend's own certificate and talks to it end to end; the more
// specific name wins either way, and names nobody claims get the gateway's default certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { makeCert, type TestCert } from '../dataplane/certs.js';
import { configDir, freePorts, serviceYaml, startCli, startEcho, type EchoBackend } from './cli-harness.js';

/** A TLS server with its own certificate that answers `<name>:<first line>` and closes. */
function tlsBackend(host: string, port: number, name: string, cert: TestCert): Promise<tls.Server> {
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => s.end(`${name}:${d.toString().trim()}`));
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

/** A TLS conversation: the certificate the client saw and what came back. */
function talkTls(port: number, servername: string, ca: string | undefined): Promise<{ subject: string; answer: string }> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const s = tls.connect({ port, host: '127.0.0.1', servername, ...(ca === undefined ? { rejectUnauthorized: false } : { ca }) }, () => s.write('hello\n'));
    s.setEncoding('utf8').on('data', (d: string) => (answer += d));
    s.on('end', () => resolve({ subject: String(s.getPeerCertificate().subject?.CN ?? ''), answer }));
    s.on('error', reject);
  });
}

function httpsGet(port: number, servername: string, ca: string): Promise<{ status: number; name: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', servername, ca, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        let name: string | undefined;
        try {
          name = (JSON.parse(body) as { name?: string }).name;
        } catch {
          name = undefined;
        }
        resolve({ status: res.statusCode ?? 0, name });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function h2Get(port: number, servername: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${servername}:${port}`, { host: '127.0.0.1', servername, ca });
    session.on('error', reject);
    const req = session.request({ ':path': '/', ':authority': servername });
    let body = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    req.on('error', reject);
  });
}

function secretYaml(name: string, cert: TestCert): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64(cert.certPem)}, tls.key: ${b64(cert.keyPem)}}
`;
}

function backendServiceYaml(name: string, address: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{port: 443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{port: ${port}}]
endpoints: [{addresses: [${address}]}]
`;
}

function gatewayYaml(web: EchoBackend, dbPort: number, gatewayCert: TestCert): string {
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
  - {name: web, port: 8443, protocol: HTTPS, hostname: web.example.com, tls: {certificateRefs: [{name: gw-cert}]}}
  - {name: apps, port: 8443, protocol: HTTPS, hostname: "*.apps.example.com", tls: {certificateRefs: [{name: gw-cert}]}}
  - {name: passthrough, port: 8443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: web}, {name: edge, sectionName: apps}]
  rules: [{backendRefs: [{name: ${web.name}, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: default}
spec:
  parentRefs: [{name: edge, sectionName: passthrough}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: db, port: 443}]}]
---
${secretYaml('gw-cert', gatewayCert)}---
${serviceYaml(web)}---
${backendServiceYaml('db', '127.0.0.3', dbPort)}`;
}

test('Gateway API: HTTPS and TLS Passthrough listeners share one port, split by SNI', async (t) => {
  const [dbPort, tlsPort, http, httpsPort, admin] = await freePorts(5);
  const gatewayCert = makeCert(['web.example.com', '*.apps.example.com']);
  const dbCert = makeCert(['db.example.com', 'other.example.com']);
  const web = await startEcho(t, '127.0.0.2', 'web');
  const db = await tlsBackend('127.0.0.3', dbPort!, 'db', dbCert);
  t.after(() => db.close());
  const dir = configDir(t, { 'gw.yaml': gatewayYaml(web, dbPort!, gatewayCert) });
  const gw = await startCli(
    t,
    ['run', '--workers', '1', '--config', dir, '--port-map', `8443=${tlsPort}`, '--http-port', String(http), '--https-port', String(httpsPort), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
    /admin on 127\.0\.0\.1:\d+/,
  );
  // HTTPS for the names the HTTPS listeners own: the exact one, and a longer wildcard than the TLS listener's.
  assert.deepEqual(await httpsGet(tlsPort!, 'web.example.com', gatewayCert.certPem), { status: 200, name: 'web' }, gw.stderr());
  assert.deepEqual(await httpsGet(tlsPort!, 'x.apps.example.com', gatewayCert.certPem), { status: 200, name: 'web' });
  const h2 = await h2Get(tlsPort!, 'web.example.com', gatewayCert.certPem);
  assert.equal(h2.status, 200);
  assert.equal((JSON.parse(h2.body) as { name: string }).name, 'web');
  // Passthrough for what only the TLS listener's wildcard covers: the backend's certificate, end to end.
  assert.deepEqual(await talkTls(tlsPort!, 'db.example.com', dbCert.certPem), { subject: 'db.example.com', answer: 'db:hello' });
  assert.deepEqual(await talkTls(tlsPort!, 'other.example.com', dbCert.certPem), { subject: 'db.example.com', answer: 'db:hello' });
  // A name nobody claims (and no SNI at all) stays with the HTTPS bind: its default certificate.
  assert.equal((await talkTls(tlsPort!, 'nobody.org', undefined)).subject, 'web.example.com');

  const statuses = (await (await fetch(`http://127.0.0.1:${admin}/api/status`)).json()) as { kind: string; name: string; status: { listeners?: { name: string; conditions: { type: string; status: string; reason: string }[] }[] } }[];
  const edge = statuses.find((s) => s.kind === 'Gateway' && s.name === 'edge');
  for (const name of ['web', 'apps', 'passthrough']) {
    const conditions = edge?.status.listeners?.find((l) => l.name === name)?.conditions ?? [];
    assert.equal(conditions.find((c) => c.type === 'Conflicted')?.status, 'False', `${name}: ${JSON.stringify(conditions)}`);
    assert.equal(conditions.find((c) => c.type === 'Programmed')?.status, 'True', name);
  }
  // explain asks the data plane's own split.
  const explained = async (sni: string) => ((await (await fetch(`http://127.0.0.1:${admin}/api/explain?connect=127.0.0.1:${tlsPort}&sni=${sni}`)).json()) as { steps: { summary: string }[] }).steps.map((s) => s.summary);
  const dbSteps = await explained('db.example.com');
  assert.match(dbSteps[0]!, /SNI "db\.example\.com" goes to the L4 listener/, dbSteps.join('\n'));
  assert.ok(dbSteps.some((s) => s.startsWith('route tlsroute/default/db/')), dbSteps.join('\n'));
  const webSteps = await explained('web.example.com');
  assert.match(webSteps[0]!, /SNI "web\.example\.com" goes to the HTTPS bind/, webSteps.join('\n'));
  assert.match(webSteps[1]!, /TLS ends here/);
  await gw.stop();
});

test('Istio: an HTTPS server and a PASSTHROUGH server of one port, split by SNI', async (t) => {
  const [dbPort, tlsPort, http, httpsPort, admin] = await freePorts(5);
  const gatewayCert = makeCert(['web.example.com']);
  const dbCert = makeCert(['db.example.com']);
  const web = await startEcho(t, '127.0.0.2', 'web');
  const db = await tlsBackend('127.0.0.3', dbPort!, 'db', dbCert);
  t.after(() => db.close());
  const dir = configDir(t, {
    'istio.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [web.example.com]
    tls: {mode: SIMPLE, credentialName: gw-cert}
  - port: {number: 8443, name: tls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web.example.com]
  gateways: [edge]
  http: [{route: [{destination: {host: ${web.name}.default.svc.cluster.local, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.com]
  gateways: [edge]
  tls: [{match: [{sniHosts: [db.example.com]}], route: [{destination: {host: db.default.svc.cluster.local, port: {number: 443}}}]}]
---
${secretYaml('gw-cert', gatewayCert)}---
${serviceYaml(web)}---
${backendServiceYaml('db', '127.0.0.3', dbPort!)}`,
  });
  const gw = await startCli(
    t,
    ['run', '--workers', '1', '--config', dir, '--port-map', `8443=${tlsPort}`, '--http-port', String(http), '--https-port', String(httpsPort), '--admin-port', String(admin), '--listen-address', '127.0.0.1'],
    /admin on 127\.0\.0\.1:\d+/,
  );
  assert.deepEqual(await httpsGet(tlsPort!, 'web.example.com', gatewayCert.certPem), { status: 200, name: 'web' }, gw.stderr());
  assert.deepEqual(await talkTls(tlsPort!, 'db.example.com', dbCert.certPem), { subject: 'db.example.com', answer: 'db:hello' });
  assert.ok(!/ERR_L4_LISTENER_CONFLICT/.test(gw.stderr()), gw.stderr());
  await gw.stop();
});
