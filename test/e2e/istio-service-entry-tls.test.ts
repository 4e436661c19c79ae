// A ServiceEntry HTTPS port through the real command: the gateway originates TLS and verifies the
// upstream certificate against the entry's host. A DestinationRule on the entry's host supplies
// the private CA (credentialName), so that entry is reached; the same backend under another entry
// without one is refused (never sent unverified).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeCert } from '../dataplane/certs.js';
import { configDir, get, startGateway } from './cli-harness.js';

test('a ServiceEntry HTTPS port is verified; a DestinationRule on its host supplies the CA', async (t) => {
  const cert = makeCert(['secure.test', 'untrusted.test']);
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'tls-backend', path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.7', resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const entry = (name: string, host: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${host}]
  ports: [{number: 443, name: https, protocol: HTTPS, targetPort: ${port}}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.7}]
`;
  const istio = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: egress, namespace: default}
spec:
  hosts: [egress.test]
  gateways: [edge]
  http:
  - match: [{uri: {prefix: /trusted}}]
    route: [{destination: {host: secure.test}}]
  - route: [{destination: {host: untrusted.test}}]
---
${entry('secure', 'secure.test')}---
${entry('untrusted', 'untrusted.test')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure, namespace: default}
spec:
  host: secure.test
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: secure-ca}
---
apiVersion: v1
kind: Secret
metadata: {name: secure-ca, namespace: default}
type: Opaque
data:
  ca.crt: ${Buffer.from(cert.certPem).toString('base64')}
`;
  const dir = configDir(t, { 'istio.yaml': istio });
  const gateway = await startGateway(t, { config: [dir] });

  const trusted = await get(gateway.httpPort, '/trusted/x', 'egress.test');
  assert.equal(trusted.status, 200, trusted.body);
  assert.equal(trusted.name, 'tls-backend');
  // No CA for this entry: the system CAs do not know the test CA, so the gateway refuses it.
  const untrusted = await get(gateway.httpPort, '/x', 'egress.test');
  assert.ok(untrusted.status >= 500, `expected a 5xx, got ${untrusted.status}: ${untrusted.body}`);
  assert.equal(untrusted.name, undefined);
});
