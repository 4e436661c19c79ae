// Gateway `spec.tls.frontend` client-certificate validation through the real `isthmus run`: an
// HTTPS listener whose port requires a client certificate from a private CA (AllowValidOnly).
// A node https client with a certificate that CA signed gets 200; without one, or with one
// another CA signed, the connection is refused before any HTTP. Two listeners on one port where
// only one name validates clients (two Gateways merged on one bind): the other name still serves
// clients without a certificate, and a request for the validated name on its connection, or on a
// connection without SNI, is refused (421).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { configDir, serviceYaml, startEcho, startGateway } from './cli-harness.js';
import { makeCa, makeCert, makeLeaf, type TestCert } from '../dataplane/certs.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function gatewayYaml(serverCert: TestCert, clientCaPem: string, frontend: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: v1
kind: Secret
metadata: {name: server-cert, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64(serverCert.certPem)}, tls.key: ${b64(serverCert.keyPem)}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: client-ca, namespace: default}
data:
  ca.crt: ${JSON.stringify(clientCaPem)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners:
  - {name: mtls, port: 443, protocol: HTTPS, hostname: mtls.test, tls: {mode: Terminate, certificateRefs: [{name: server-cert}]}}
${frontend}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules: [{backendRefs: [{name: alpha, port: 80}]}]
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

test('AllowValidOnly: 200 with a client certificate the CA signed; refused without one or with another CA\'s', async (t) => {
  const clientCa = makeCa('Client CA');
  const otherCa = makeCa('Other CA');
  const server = makeCert(['mtls.test', 'open.test']);
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const frontend = `  tls:
    frontend:
      default:
        validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}], mode: AllowValidOnly}`;
  const dir = configDir(t, { 'services.yaml': serviceYaml(alpha), 'gateway.yaml': gatewayYaml(server, clientCa.certPem, frontend) });
  const gateway = await startGateway(t, { config: [dir] });

  const withCert = await request(gateway.httpsPort, 'mtls.test', 'mtls.test', server.certPem, makeLeaf(clientCa, ['DNS:client.test'], 'clientAuth'));
  assert.equal(withCert.status, 200, JSON.stringify(withCert));

  const without = await request(gateway.httpsPort, 'mtls.test', 'mtls.test', server.certPem);
  assert.equal(without.status, undefined, `no HTTP answer without a client certificate: ${JSON.stringify(without)}`);
  assert.ok(without.error !== undefined);

  const wrongCa = await request(gateway.httpsPort, 'mtls.test', 'mtls.test', server.certPem, makeLeaf(otherCa, ['DNS:client.test'], 'clientAuth'));
  assert.equal(wrongCa.status, undefined, `no HTTP answer with another CA's certificate: ${JSON.stringify(wrongCa)}`);
});

test('one bind, two Gateways, one validating clients: the other name serves without a certificate and cannot carry the validated name', async (t) => {
  const clientCa = makeCa('Client CA');
  const server = makeCert(['mtls.test', 'open.test']);
  const alpha = await startEcho(t, '127.0.0.3', 'alpha');
  const frontend = `  tls:
    frontend:
      default:
        validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: open, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: isthmus
  listeners:
  - {name: open, port: 443, protocol: HTTPS, hostname: open.test, tls: {mode: Terminate, certificateRefs: [{name: server-cert}]}}`;
  const yaml = gatewayYaml(server, clientCa.certPem, frontend).replace('parentRefs: [{name: eg}]', 'parentRefs: [{name: eg}, {name: open}]');
  const dir = configDir(t, { 'services.yaml': serviceYaml(alpha), 'gateway.yaml': yaml });
  const gateway = await startGateway(t, { config: [dir] });
  const port = gateway.httpsPort;
  const client = makeLeaf(clientCa, ['DNS:c'], 'clientAuth');

  assert.equal((await request(port, 'open.test', 'open.test', server.certPem)).status, 200, 'the open name needs no certificate');
  assert.equal((await request(port, 'mtls.test', 'mtls.test', server.certPem)).status, undefined, 'the validated name refuses a client without one');
  assert.equal((await request(port, 'mtls.test', 'mtls.test', server.certPem, client)).status, 200);
  // The validated name through a connection made for the open name, or made without SNI (the
  // older Gateway's certificate is the bind's default): 421.
  assert.equal((await request(port, 'open.test', 'mtls.test', server.certPem)).status, 421);
  assert.equal((await request(port, 'open.test', 'mtls.test', server.certPem, client)).status, 421);
  assert.equal((await request(port, '', 'mtls.test', server.certPem)).status, 421);
});
