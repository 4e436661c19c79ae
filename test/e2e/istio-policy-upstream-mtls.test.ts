// DestinationRule `tls.mode: MUTUAL` through the real `isthmus run`: an https backend that
// requires a client certificate signed by its own CA. Subsets of one Service carry different
// TLS settings, so one gateway shows each outcome: the client certificate from a TLS Secret (with
// `ca.crt`) and from a generic Secret (`cert`/`key`/`cacert`) is accepted; SIMPLE (no client
// certificate) is refused by the backend; a subjectAltNames the server does not carry fails
// verification; ISTIO_MUTUAL and MUTUAL without a credential answer 500 and are never sent.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { adminJson, configDir, get, startGateway } from './cli-harness.js';
import { makeCa, makeLeaf, type TestCert } from '../dataplane/certs.js';

const ADDRESS = '127.0.0.6';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Answers with the client certificate's URI SAN; refuses handshakes without a certificate from `clientCa`. */
async function startMutualBackend(t: TestContext, serverCert: TestCert, clientCaPem: string): Promise<number> {
  const server = https.createServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: clientCaPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const body = JSON.stringify({ name: 'vault', client: peer.subjectaltname ?? null, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, ADDRESS);
  await once(server, 'listening');
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

function configFor(port: number, serverCa: string, client: TestCert): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/vault.test"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vault, namespace: bank}
spec:
  hosts: [vault.test]
  gateways: [istio-system/edge]
  http:
  - match: [{uri: {prefix: /tls-secret}}]
    route: [{destination: {host: vault, subset: tls-secret}}]
  - match: [{uri: {prefix: /generic-secret}}]
    route: [{destination: {host: vault, subset: generic-secret}}]
  - match: [{uri: {prefix: /simple}}]
    route: [{destination: {host: vault, subset: simple}}]
  - match: [{uri: {prefix: /wrong-san}}]
    route: [{destination: {host: vault, subset: wrong-san}}]
  - match: [{uri: {prefix: /istio-mutual}}]
    route: [{destination: {host: vault, subset: istio-mutual}}]
  - match: [{uri: {prefix: /no-credential}}]
    route: [{destination: {host: vault, subset: no-credential}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: vault, namespace: bank}
spec:
  host: vault.bank.svc.cluster.local
  subsets:
  - name: tls-secret
    labels: {app: vault}
    trafficPolicy: {tls: {mode: MUTUAL, credentialName: vault-client, subjectAltNames: [vault.bank.svc]}}
  - name: generic-secret
    labels: {app: vault}
    trafficPolicy: {tls: {mode: MUTUAL, credentialName: vault-generic, sni: vault.bank.svc}}
  - name: simple
    labels: {app: vault}
    trafficPolicy: {tls: {mode: SIMPLE, credentialName: vault-client}}
  - name: wrong-san
    labels: {app: vault}
    trafficPolicy: {tls: {mode: MUTUAL, credentialName: vault-client, subjectAltNames: [other.bank.svc]}}
  - name: istio-mutual
    labels: {app: vault}
    trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  - name: no-credential
    labels: {app: vault}
    trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /etc/certs/client.pem, privateKey: /etc/certs/key.pem}}
---
apiVersion: v1
kind: Secret
metadata: {name: vault-client, namespace: bank}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(client.certPem)}
  tls.key: ${b64(client.keyPem)}
  ca.crt: ${b64(serverCa)}
---
apiVersion: v1
kind: Secret
metadata: {name: vault-generic, namespace: bank}
type: Opaque
data:
  cert: ${b64(client.certPem)}
  key: ${b64(client.keyPem)}
---
apiVersion: v1
kind: Secret
metadata: {name: vault-generic-cacert, namespace: bank}
type: Opaque
data:
  cacert: ${b64(serverCa)}
---
apiVersion: v1
kind: Service
metadata: {name: vault, namespace: bank}
spec:
  selector: {app: vault}
  ports: [{name: http, port: 8443, targetPort: https}]
---
apiVersion: v1
kind: Pod
metadata: {name: vault-0, namespace: bank, labels: {app: vault}}
spec:
  containers: [{name: vault, image: vault, ports: [{name: https, containerPort: ${port}}]}]
status:
  podIP: ${ADDRESS}
  conditions: [{type: Ready, status: "True"}]
`;
}

test('DestinationRule tls.mode MUTUAL presents the credentialName certificate and verifies the upstream', async (t) => {
  const serverCa = makeCa('Vault Server CA');
  const clientCa = makeCa('Gateway Client CA');
  const client = makeLeaf(clientCa, ['URI:spiffe://edge/gateway'], 'clientAuth');
  const port = await startMutualBackend(t, makeLeaf(serverCa, ['DNS:vault.bank.svc']), clientCa.certPem);
  const dir = configDir(t, { 'istio.yaml': configFor(port, serverCa.certPem, client) });
  const gateway = await startGateway(t, { config: [dir] });

  for (const path of ['/tls-secret', '/generic-secret']) {
    const ok = await get(gateway.httpPort, path, 'vault.test');
    assert.equal(ok.status, 200, `${path}: ${ok.body}`);
    assert.equal((JSON.parse(ok.body) as { client: string }).client, 'URI:spiffe://edge/gateway', path);
  }

  // SIMPLE verifies the server but sends no certificate: the backend refuses the handshake.
  const simple = await get(gateway.httpPort, '/simple', 'vault.test');
  assert.equal(simple.status, 502, simple.body);

  // The client certificate does not relax verification: a SAN the server lacks is refused.
  const wrongSan = await get(gateway.httpPort, '/wrong-san', 'vault.test');
  assert.equal(wrongSan.status, 502, wrongSan.body);
  assert.equal((JSON.parse(wrongSan.body) as { reason: string }).reason, 'upstream_tls_error');

  // Never sent: no mesh CA, and no credential (file paths are not read).
  for (const path of ['/istio-mutual', '/no-credential']) assert.equal((await get(gateway.httpPort, path, 'vault.test')).status, 500, path);

  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; path?: string; message: string }[];
  assert.ok(diagnostics.some((d) => d.code === 'ERR_BACKEND_TLS_INVALID' && /ISTIO_MUTUAL/.test(d.message)), JSON.stringify(diagnostics));
  assert.ok(diagnostics.some((d) => d.code === 'ERR_BACKEND_TLS_INVALID' && /needs tls\.credentialName.*file paths/.test(d.message)), JSON.stringify(diagnostics));

  // The admin API names the client certificate but never shows its key.
  const config = JSON.stringify(await adminJson(gateway.adminPort, '/api/config'));
  assert.match(config, /destinationrule\/bank\/vault\/client-certificate\/vault-client/);
  assert.doesNotMatch(config, /PRIVATE KEY/);
});
