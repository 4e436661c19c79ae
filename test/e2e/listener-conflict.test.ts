// Two Gateways declare one port, one HTTP and one HTTPS, through the real command: the bind step
// serves the older one, reports the newer as Conflicted (ProtocolConflict) with a diagnostic, and
// the apply succeeds (before binds, the second socket on the port failed it with EADDRINUSE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCert } from '../dataplane/certs.js';
import { adminJson, configDir, freePort, get, serviceYaml, startEcho, startGateway } from './cli-harness.js';

function gateways(cert: { certPem: string; keyPem: string }): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: v1
kind: Secret
metadata: {name: secure-tls, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64(cert.certPem)}, tls.key: ${b64(cert.keyPem)}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: plain, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: isthmus
  listeners: [{name: web, port: 8000, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: secure, namespace: default, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  gatewayClassName: isthmus
  listeners:
  - name: tls
    port: 8000
    protocol: HTTPS
    hostname: secure.test
    tls: {certificateRefs: [{name: secure-tls}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: plain}, {name: secure}]
  rules: [{backendRefs: [{name: alpha, port: 80}]}]
`;
}

interface ListenerStatusView {
  name: string;
  attachedRoutes: number;
  conditions: { type: string; status: string; reason: string; message: string }[];
}

test('an HTTP and an HTTPS Gateway listener on one port: the later is Conflicted, the other serves, the apply succeeds', async (t) => {
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const port = await freePort();
  const dir = configDir(t, { 'services.yaml': serviceYaml(alpha), 'gateways.yaml': gateways(makeCert(['secure.test'])) });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--port-map', `8000=${port}`] });

  const res = await get(port, '/', 'secure.test');
  assert.equal(res.status, 200, res.body);
  assert.equal(res.name, 'alpha');

  const statuses = (await adminJson(gateway.adminPort, '/api/status')) as { kind: string; name: string; status: { listeners?: ListenerStatusView[]; conditions?: { type: string; status: string }[] } }[];
  const listenerOf = (gw: string): ListenerStatusView | undefined => statuses.find((s) => s.kind === 'Gateway' && s.name === gw)?.status.listeners?.[0];
  const conflicted = listenerOf('secure')?.conditions.find((c) => c.type === 'Conflicted');
  assert.equal(conflicted?.status, 'True');
  assert.equal(conflicted?.reason, 'ProtocolConflict');
  assert.match(conflicted?.message ?? '', new RegExp(`bind 127\\.0\\.0\\.1:${port} speaks HTTP for Gateway default/plain listener "web"`));
  assert.equal(listenerOf('secure')?.conditions.find((c) => c.type === 'Programmed')?.status, 'False');
  assert.equal(statuses.find((s) => s.name === 'secure')?.status.conditions?.find((c) => c.type === 'Programmed')?.status, 'False', 'no listener of it serves');
  assert.equal(listenerOf('plain')?.conditions.find((c) => c.type === 'Conflicted')?.status, 'False');
  assert.equal(listenerOf('plain')?.conditions.find((c) => c.type === 'Programmed')?.status, 'True');

  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as unknown;
  const text = JSON.stringify(diagnostics);
  assert.match(text, /ERR_LISTENER_CONFLICT/);
  assert.doesNotMatch(text, /ERR_LISTENER_BIND|ERR_CONFIG_REJECTED/);
});
