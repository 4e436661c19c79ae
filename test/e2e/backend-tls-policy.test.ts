// BackendTLSPolicy through the real `isthmus run`: an HTTPRoute reaches an https backend whose
// certificate a private CA signed, trusted through a ConfigMap the policy names (the Service port
// says nothing about TLS: the policy alone makes it TLS). A wrong hostname in the policy gets
// 502 upstream_tls_error; a policy whose CA reference is broken answers 500, never cleartext or
// unverified, and its status and the route's diagnostic say why.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { adminJson, appliedGeneration, configDir, get, pollUntil, startGateway } from './cli-harness.js';
import { makeCa, makeLeaf } from '../dataplane/certs.js';

const HOST = 'btls.test';
const ADDRESS = '127.0.0.6';

async function startHttpsBackend(t: TestContext, cert: { certPem: string; keyPem: string }): Promise<{ port: number; servernames: string[] }> {
  const servernames: string[] = [];
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const body = JSON.stringify({ name: 'secure-api', url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('secureConnection', (socket: import('node:tls').TLSSocket) => servernames.push(String((socket as { servername?: string | false }).servername)));
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
  return { port: (server.address() as AddressInfo).port, servernames };
}

function resourcesYaml(port: number, caPem: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: secure, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [${HOST}]
  rules: [{backendRefs: [{name: secure-api, port: 443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: secure-api, namespace: default}
spec:
  selector: {app: secure-api}
  ports: [{name: https, port: 443, targetPort: https}]
---
apiVersion: v1
kind: Pod
metadata: {name: secure-api-pod, namespace: default, labels: {app: secure-api}}
spec:
  containers: [{name: api, image: api, ports: [{name: https, containerPort: ${port}}]}]
status:
  podIP: ${ADDRESS}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: backend-ca, namespace: default}
data:
  ca.crt: ${JSON.stringify(caPem)}
`;
}

function policyYaml(hostname: string, caConfigMap: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: secure-api-tls, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: secure-api, sectionName: https}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: ${caConfigMap}}]
    hostname: ${hostname}
`;
}

interface PolicyStatus {
  kind: string;
  name: string;
  status: { ancestors?: { ancestorRef: { name: string }; conditions: { type: string; status: string; reason: string }[] }[] };
}

test('BackendTLSPolicy: 200 through a private CA; wrong hostname 502 upstream_tls_error; broken CA reference 500', async (t) => {
  const ca = makeCa('BackendTLSPolicy E2E CA');
  const backend = await startHttpsBackend(t, makeLeaf(ca, ['DNS:secure-api.internal.test']));
  const dir = configDir(t, {
    'resources.yaml': resourcesYaml(backend.port, ca.certPem),
    'policy.yaml': policyYaml('secure-api.internal.test', 'backend-ca'),
  });
  const gateway = await startGateway(t, { config: [dir] });

  const ok = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.name, 'secure-api');
  assert.ok(backend.servernames.includes('secure-api.internal.test'), `SNI is the policy's hostname: ${backend.servernames.join(', ')}`);

  const statuses = (await adminJson(gateway.adminPort, '/api/status')) as PolicyStatus[];
  const policy = statuses.find((s) => s.kind === 'BackendTLSPolicy');
  assert.equal(policy?.status.ancestors?.[0]?.ancestorRef.name, 'eg');
  assert.deepEqual(policy?.status.ancestors?.[0]?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);

  // Waiting for the apply (not polling with requests) keeps passive health out of it.
  const rewrite = async (yaml: string): Promise<void> => {
    const before = await appliedGeneration(gateway.adminPort);
    writeFileSync(path.join(dir, 'policy.yaml'), yaml);
    await pollUntil('the change to apply', async () => ((await appliedGeneration(gateway.adminPort)) > before ? true : undefined));
  };

  // The certificate does not name the policy's hostname: refused.
  await rewrite(policyYaml('other.internal.test', 'backend-ca'));
  const wrongName = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(wrongName.status, 502, wrongName.body);
  assert.equal((JSON.parse(wrongName.body) as { reason: string }).reason, 'upstream_tls_error');

  // A CA reference that cannot be resolved: 500, and the backend is not reached at all.
  await rewrite(policyYaml('secure-api.internal.test', 'no-such-ca'));
  const handshakesBefore = backend.servernames.length;
  const broken = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(broken.status, 500, broken.body);
  assert.equal(backend.servernames.length, handshakesBefore, 'no connection to the backend');
  const after = (await adminJson(gateway.adminPort, '/api/status')) as PolicyStatus[];
  const conditions = after.find((s) => s.kind === 'BackendTLSPolicy')?.status.ancestors?.[0]?.conditions ?? [];
  assert.deepEqual(conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidCACertificateRef']);
  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; object?: { kind: string }; message: string }[];
  const onRoute = diagnostics.find((d) => d.object?.kind === 'HTTPRoute' && d.code === 'ERR_BACKEND_TLS_INVALID');
  assert.match(onRoute?.message ?? '', /governed by BackendTLSPolicy default\/secure-api-tls, which cannot be used .*ConfigMap "no-such-ca" not found/);

  // And back.
  await rewrite(policyYaml('secure-api.internal.test', 'backend-ca'));
  const restored = await get(gateway.httpPort, '/orders', HOST);
  assert.equal(restored.status, 200, restored.body);
});
