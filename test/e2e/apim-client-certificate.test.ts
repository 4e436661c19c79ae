// Client certificates as credentials through the real gateway: an HTTPS listener that validates
// client certificates optionally (Gateway tls.frontend, AllowInsecureFallback, so the handshake
// also admits clients without one), an AuthPolicy with methods.clientCertificate, and Consumers
// naming certificates by SHA-256 fingerprint and by subject. Certificates are made with openssl;
// the client is node's https.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configDir, serviceYaml, startEcho, startGateway } from './cli-harness.js';
import { makeCa, makeCert, type TestCa, type TestCert } from '../dataplane/certs.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A client certificate with the given subject, signed by `ca`, and its fingerprint as openssl prints it. */
function clientCert(ca: TestCa, subject: string): TestCert & { readonly fingerprint: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-client-cert-'));
  try {
    const file = (n: string): string => path.join(dir, n);
    writeFileSync(file('ca.pem'), ca.certPem);
    writeFileSync(file('ca.key'), ca.keyPem);
    writeFileSync(file('ext.cnf'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', file('c.key'), '-out', file('c.csr')], { stdio: 'pipe' });
    execFileSync('openssl', ['x509', '-req', '-in', file('c.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('c.pem')], { stdio: 'pipe' });
    const printed = execFileSync('openssl', ['x509', '-in', file('c.pem'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    return { certPem: readFileSync(file('c.pem'), 'utf8'), keyPem: readFileSync(file('c.key'), 'utf8'), fingerprint: printed.trim().split('=')[1]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function request(port: number, serverCa: string, client?: TestCert): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/orders', servername: 'mtls.test', headers: { host: 'mtls.test', 'x-consumer': 'forged' }, ca: serverCa, agent: false, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('client certificate → Consumer → forwarded consumer header; unknown or unverified certificates get 401; none is anonymous', async (t) => {
  const clientCa = makeCa('Client CA');
  const otherCa = makeCa('Other CA');
  const server = makeCert(['mtls.test']);
  const byFingerprint = clientCert(clientCa, '/O=Acme/CN=acme-billing');
  const bySubject = clientCert(clientCa, '/O=Example/CN=globex');
  const unknown = clientCert(clientCa, '/CN=stranger');
  const foreign = clientCert(otherCa, '/O=Example/CN=globex');
  const api = await startEcho(t, '127.0.0.1', 'api');
  const yaml = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: v1
kind: Secret
metadata: {name: server-cert, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64(server.certPem)}, tls.key: ${b64(server.keyPem)}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: client-ca, namespace: default}
data:
  ca.crt: ${JSON.stringify(clientCa.certPem)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners:
  - {name: mtls, port: 443, protocol: HTTPS, hostname: mtls.test, tls: {mode: Terminate, certificateRefs: [{name: server-cert}]}}
  tls:
    frontend:
      default:
        validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}], mode: AllowInsecureFallback}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orders, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: api, port: 80}]}]
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec:
  groups: [partners]
  clientCertificates: [{sha256Fingerprint: "${byFingerprint.fingerprint}"}]
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: globex, namespace: default}
spec:
  clientCertificates: [{subject: "CN=globex,O=Example"}]
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: mtls, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: orders}]
  methods: {clientCertificate: {}}
  allowAnonymous: true
  forward: {consumerHeader: x-consumer, groupsHeader: x-consumer-groups}
`;
  const dir = configDir(t, { 'services.yaml': serviceYaml(api), 'mtls.yaml': yaml });
  const gw = await startGateway(t, { config: [dir] });
  const port = gw.httpsPort;
  const upstream = (body: string): Record<string, string[]> => (JSON.parse(body) as { headers: Record<string, string[]> }).headers;

  const acme = await request(port, server.certPem, byFingerprint);
  assert.equal(acme.status, 200, acme.body);
  assert.deepEqual(upstream(acme.body)['X-Consumer'], ['default/acme'], 'by fingerprint, replacing the forged header');
  assert.deepEqual(upstream(acme.body)['X-Consumer-Groups'], ['partners']);

  const globex = await request(port, server.certPem, bySubject);
  assert.equal(globex.status, 200, globex.body);
  assert.deepEqual(upstream(globex.body)['X-Consumer'], ['default/globex'], 'by subject');

  const stranger = await request(port, server.certPem, unknown);
  assert.equal(stranger.status, 401);
  assert.equal(JSON.parse(stranger.body).message, 'unknown client certificate');
  assert.equal(stranger.headers['www-authenticate'], 'ClientCertificate realm="isthmus"');

  // The same subject from a CA the listener does not trust: the handshake lets it in
  // (AllowInsecureFallback), but an unverified certificate names nobody.
  const forged = await request(port, server.certPem, foreign);
  assert.equal(forged.status, 401);
  assert.equal(JSON.parse(forged.body).message, 'client certificate not verified');

  // No certificate: no credentials, and this policy allows anonymous requests (no consumer header).
  const none = await request(port, server.certPem);
  assert.equal(none.status, 200, none.body);
  assert.equal(upstream(none.body)['X-Consumer'], undefined);
});
