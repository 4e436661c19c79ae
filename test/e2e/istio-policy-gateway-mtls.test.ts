// Istio Gateway `tls.mode: MUTUAL` and `OPTIONAL_MUTUAL` through the real `isthmus run`: three
// servers on port 443, each its own client validation, as each Istio server is its own Envoy
// filter chain. MUTUAL (CA in the credential Secret's `ca.crt`) refuses a client without a
// certificate, or with another CA's; OPTIONAL_MUTUAL (CA in the `<credentialName>-cacert`
// Secret) serves a client without one but refuses one another CA signed; SIMPLE asks nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { adminJson, configDir, serviceYaml, startEcho, startGateway } from './cli-harness.js';
import { makeCa, makeCert, makeLeaf, type TestCert } from '../dataplane/certs.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function istioYaml(serverCert: TestCert, clientCaPem: string): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: mtls-cred, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64(serverCert.certPem)}, tls.key: ${b64(serverCert.keyPem)}, ca.crt: ${b64(clientCaPem)}}
---
apiVersion: v1
kind: Secret
metadata: {name: optional-cred, namespace: istio-system}
type: Opaque
data: {cert: ${b64(serverCert.certPem)}, key: ${b64(serverCert.keyPem)}}
---
apiVersion: v1
kind: Secret
metadata: {name: optional-cred-cacert, namespace: istio-system}
type: Opaque
data: {ca.crt: ${b64(clientCaPem)}}
---
apiVersion: v1
kind: Secret
metadata: {name: open-cred, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64(serverCert.certPem)}, tls.key: ${b64(serverCert.keyPem)}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-open, protocol: HTTPS}
    hosts: ["*/open.test"]
    tls: {mode: SIMPLE, credentialName: open-cred}
  - port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: ["*/mtls.test"]
    tls: {mode: MUTUAL, credentialName: mtls-cred}
  - port: {number: 443, name: https-optional, protocol: HTTPS}
    hosts: ["*/optional.test"]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: optional-cred}
  - port: {number: 443, name: https-no-ca, protocol: HTTPS}
    hosts: ["*/no-ca.test"]
    tls: {mode: MUTUAL, credentialName: open-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: [open.test, mtls.test, optional.test, no-ca.test]
  gateways: [istio-system/edge]
  http:
  - route: [{destination: {host: alpha}}]
`;
}

interface Outcome {
  readonly status?: number;
  readonly error?: string;
}

function request(port: number, servername: string, host: string, serverCa: string, client?: TestCert): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername,
        headers: { host },
        ca: serverCa,
        // Without SNI the client has no name to check the server certificate against.
        ...(servername === '' ? { checkServerIdentity: () => undefined } : {}),
        agent: false,
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

test('Istio Gateway MUTUAL and OPTIONAL_MUTUAL validate client certificates per server on one port', async (t) => {
  const clientCa = makeCa('Istio Client CA');
  const otherCa = makeCa('Other CA');
  const server = makeCert(['open.test', 'mtls.test', 'optional.test', 'no-ca.test']);
  const alpha = await startEcho(t, '127.0.0.7', 'alpha');
  const dir = configDir(t, { 'services.yaml': serviceYaml(alpha), 'istio.yaml': istioYaml(server, clientCa.certPem) });
  const gateway = await startGateway(t, { config: [dir] });
  const port = gateway.httpsPort;
  const good = makeLeaf(clientCa, ['DNS:client.test'], 'clientAuth');
  const bad = makeLeaf(otherCa, ['DNS:client.test'], 'clientAuth');

  // SIMPLE: no certificate asked of anyone who does not have one.
  assert.equal((await request(port, 'open.test', 'open.test', server.certPem)).status, 200);

  // MUTUAL: a certificate the CA signed, or no HTTP at all.
  assert.equal((await request(port, 'mtls.test', 'mtls.test', server.certPem, good)).status, 200);
  const without = await request(port, 'mtls.test', 'mtls.test', server.certPem);
  assert.equal(without.status, undefined, `no HTTP answer without a client certificate: ${JSON.stringify(without)}`);
  const wrong = await request(port, 'mtls.test', 'mtls.test', server.certPem, bad);
  assert.equal(wrong.status, undefined, `no HTTP answer with another CA's certificate: ${JSON.stringify(wrong)}`);

  // OPTIONAL_MUTUAL: none is fine, a valid one is fine, an invalid one is refused.
  assert.equal((await request(port, 'optional.test', 'optional.test', server.certPem)).status, 200);
  assert.equal((await request(port, 'optional.test', 'optional.test', server.certPem, good)).status, 200);
  const optionalWrong = await request(port, 'optional.test', 'optional.test', server.certPem, bad);
  assert.equal(optionalWrong.status, undefined, `no HTTP answer with another CA's certificate: ${JSON.stringify(optionalWrong)}`);

  // The MUTUAL name cannot be reached through the SIMPLE server's connection. Without SNI the
  // connection is the first server's (SIMPLE): the OPTIONAL_MUTUAL name is served there without a
  // certificate, but not with one that was never checked against its CA.
  assert.equal((await request(port, 'open.test', 'mtls.test', server.certPem)).status, 421);
  assert.equal((await request(port, '', 'optional.test', server.certPem)).status, 200);
  assert.equal((await request(port, '', 'optional.test', server.certPem, bad)).status, 421);

  // MUTUAL without any CA is not programmed (never served as SIMPLE): the name has no certificate of its own.
  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; path?: string; message: string }[];
  const noCa = diagnostics.find((d) => d.path === 'spec.servers[3].tls.credentialName');
  assert.equal(noCa?.code, 'ERR_TLS_CLIENT_CA_INVALID', JSON.stringify(diagnostics));
  assert.match(noCa?.message ?? '', /open-cred-cacert/);
});
