// Upstream TLS through the real `isthmus run`: a Service with appProtocol https and a CA Secret
// reaches an https backend whose certificate a private CA signed; without the annotation the same
// backend is refused (502), also when the change arrives as a hot reload over warm connections.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { adminJson, appliedGeneration, configDir, get, pollUntil, startGateway } from './cli-harness.js';
import { makeCa, makeLeaf } from '../dataplane/certs.js';

const HOST = 'secure.test';
const ADDRESS = '127.0.0.5';

/** An https echo backend on ADDRESS whose certificate names `secure-api.default.svc`. */
async function startHttpsBackend(t: TestContext, cert: { certPem: string; keyPem: string }): Promise<number> {
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const body = JSON.stringify({ name: 'secure-api', url: req.url, tls: true });
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

function servicesYaml(port: number, annotations: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: secure-api
  namespace: default
  annotations: {${annotations}}
spec:
  selector: {app: secure-api}
  ports: [{name: https, port: 443, targetPort: https, appProtocol: https}]
---
apiVersion: v1
kind: Pod
metadata: {name: secure-api-pod, namespace: default, labels: {app: secure-api}}
spec:
  containers: [{name: api, image: api, ports: [{name: https, containerPort: ${port}}]}]
status:
  podIP: ${ADDRESS}
  conditions: [{type: Ready, status: "True"}]
`;
}

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: default}
spec:
  rules:
    - host: ${HOST}
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: secure-api, port: {number: 443}}}}
`;

test('appProtocol https with isthmus.dev/upstream-ca-secret: 200 through an Ingress; 502 without the annotation', async (t) => {
  const ca = makeCa('E2E Cluster CA');
  const port = await startHttpsBackend(t, makeLeaf(ca, ['DNS:secure-api.default.svc']));
  const secret = `apiVersion: v1
kind: Secret
metadata: {name: cluster-ca, namespace: default}
type: Opaque
data:
  ca.crt: ${Buffer.from(ca.certPem).toString('base64')}
`;
  const dir = configDir(t, {
    'services.yaml': servicesYaml(port, 'isthmus.dev/upstream-ca-secret: cluster-ca'),
    'secret.yaml': secret,
    'ingress.yaml': INGRESS,
  });
  const gateway = await startGateway(t, { config: [dir] });

  const ok = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.name, 'secure-api');

  // The admin API names the CA, but neither its PEM nor anything of the Secret beyond it.
  const config = JSON.stringify(await adminJson(gateway.adminPort, '/api/config'));
  assert.match(config, /\[CA bundle: 1 certificate \(CN=E2E Cluster CA\), sha256 [0-9a-f]{16}\]/);
  assert.doesNotMatch(config, /BEGIN CERTIFICATE|PRIVATE KEY/);
  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { severity: string }[];
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);

  // Without the annotation the backend's private CA is unknown: refused, warm connection or not.
  // Waiting for the apply (not polling with requests) keeps passive health out of it: five
  // failed handshakes in a row would eject the endpoint, as any five connect failures do.
  const rewrite = async (annotations: string): Promise<void> => {
    const before = await appliedGeneration(gateway.adminPort);
    writeFileSync(path.join(dir, 'services.yaml'), servicesYaml(port, annotations));
    await pollUntil('the change to apply', async () => ((await appliedGeneration(gateway.adminPort)) > before ? true : undefined));
  };
  await rewrite('');
  const refused = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(refused.status, 502, refused.body);
  assert.equal((JSON.parse(refused.body) as { reason: string }).reason, 'upstream_tls_error');

  // And back: the annotation restores it.
  await rewrite('isthmus.dev/upstream-ca-secret: cluster-ca');
  const restored = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(restored.status, 200, restored.body);
  assert.equal(restored.name, 'secure-api');
});

test('a missing CA Secret: the route answers 503 and the diagnostic names the Service and the annotation', async (t) => {
  const ca = makeCa('E2E Cluster CA');
  const port = await startHttpsBackend(t, makeLeaf(ca, ['DNS:secure-api.default.svc']));
  const dir = configDir(t, {
    'services.yaml': servicesYaml(port, 'isthmus.dev/upstream-ca-secret: not-there'),
    'ingress.yaml': INGRESS,
  });
  const gateway = await startGateway(t, { config: [dir] });
  const res = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(res.status, 503, res.body);
  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { severity: string; code: string; object?: { kind: string; name: string }; path?: string; message: string }[];
  const onService = diagnostics.find((d) => d.object?.kind === 'Service');
  assert.equal(onService?.code, 'ERR_BACKEND_TLS_INVALID');
  assert.equal(onService?.object?.name, 'secure-api');
  assert.equal(onService?.path, 'metadata.annotations["isthmus.dev/upstream-ca-secret"]');
  assert.match(onService?.message ?? '', /Secret "not-there" not found in namespace "default"/);
});
