// Service annotations → the IR's upstream TLS policy, and the diagnostics for settings that
// cannot be used (the golden upstream-tls.in.yaml shows the whole picture; these pin the rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { translate, type TranslateResult } from '../../src/translate/translate.js';
import type { IrCluster, IrRouteAction } from '../../src/ir/types.js';
import { GOLDEN_OPTIONS, snapshotOf } from './golden-harness.js';
import { makeCa } from '../dataplane/certs.js';

const ca = makeCa('Translator Test CA');

function indent(text: string, spaces: number): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');
}

/** An Ingress in namespace `ns` routing / to Service `api` port 443 (appProtocol https), plus `extra` documents. */
function translateWith(annotations: Record<string, string>, extra = ''): TranslateResult {
  const yaml = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ns}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 443}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: ns
  annotations: ${JSON.stringify(annotations)}
spec:
  ports: [{port: 443, targetPort: 8443, appProtocol: https}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: api, namespace: ns}
subsets: [{addresses: [{ip: 127.0.9.1}], ports: [{port: 8443}]}]
${extra}`;
  return translate(snapshotOf(yaml, 'test.yaml'), GOLDEN_OPTIONS);
}

function caSecret(name: string, type: string, caCrt: string): string {
  return `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ns}
type: ${type}
stringData:
  ca.crt: |
${indent(caCrt, 4)}
`;
}

function onlyCluster(result: TranslateResult): IrCluster {
  assert.equal(result.ir.clusters.length, 1, JSON.stringify(result.diagnostics));
  return result.ir.clusters[0]!;
}

function routeAction(result: TranslateResult): IrRouteAction {
  return result.ir.listeners[0]!.virtualHosts[0]!.routes[0]!.action;
}

test('no annotations: verified against the default CAs as <service>.<namespace>.svc', () => {
  const result = translateWith({});
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(onlyCluster(result).tls, { serverName: 'api.ns.svc', verification: { kind: 'verify' } });
});

test('a CA Secret (Opaque or kubernetes.io/tls) gives the bundle; the server-name annotation replaces the name', () => {
  for (const type of ['Opaque', 'kubernetes.io/tls']) {
    const result = translateWith(
      { 'isthmus.dev/upstream-ca-secret': 'internal-ca', 'isthmus.dev/upstream-server-name': 'api.internal.example' },
      caSecret('internal-ca', type, ca.certPem),
    );
    assert.deepEqual(result.diagnostics, [], type);
    const tls = onlyCluster(result).tls;
    assert.equal(tls?.serverName, 'api.internal.example');
    assert.equal(tls?.verification.kind, 'verify');
    const caPem = tls?.verification.kind === 'verify' ? tls.verification.caPem : undefined;
    assert.equal(new X509Certificate(caPem!).fingerprint256, new X509Certificate(ca.certPem).fingerprint256, type);
  }
});

test('only certificates of ca.crt reach the IR: a private key in it is dropped, with a warning', () => {
  const result = translateWith({ 'isthmus.dev/upstream-ca-secret': 'sloppy' }, caSecret('sloppy', 'Opaque', ca.certPem + ca.keyPem));
  const text = JSON.stringify(result.ir);
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.match(text, /BEGIN CERTIFICATE/);
  assert.equal(result.diagnostics.length, 1);
  assert.equal(result.diagnostics[0]!.severity, 'warning');
  assert.match(result.diagnostics[0]!.message, /also holds PRIVATE KEY blocks; only its certificates are used/);
});

test('a missing Secret: an error naming the Service, the annotation and what was expected; the route answers 503', () => {
  const result = translateWith({ 'isthmus.dev/upstream-ca-secret': 'nowhere' });
  const service = result.diagnostics.find((d) => d.object?.kind === 'Service');
  assert.ok(service);
  assert.equal(service.severity, 'error');
  assert.equal(service.code, 'ERR_BACKEND_TLS_INVALID');
  assert.deepEqual(service.object, { group: '', kind: 'Service', namespace: 'ns', name: 'api' });
  assert.equal(service.path, 'metadata.annotations["isthmus.dev/upstream-ca-secret"]');
  assert.match(service.message, /^Secret "nowhere" not found in namespace "ns"; expected a Secret of type Opaque or kubernetes\.io\/tls with a PEM CA bundle in data\["ca\.crt"\]/);
  const ingress = result.diagnostics.find((d) => d.object?.kind === 'Ingress');
  assert.equal(ingress?.code, 'ERR_BACKEND_TLS_INVALID');
  assert.equal(ingress?.path, 'spec.rules[0].http.paths[0].backend.service.name');
  assert.equal(result.ir.clusters.length, 0, 'no cluster: nothing can reach the upstream unverified');
  const action = routeAction(result);
  assert.deepEqual(action, { kind: 'reject', reason: 'invalid_backend' }, 'answered with the documented 503 invalid_backend');
});

test('a ca.crt that is not a PEM certificate, or has a broken one, is an error', () => {
  const cases: [string, RegExp][] = [
    ['hello', /data\["ca\.crt"\] holds no PEM certificate; expected one or more "-----BEGIN CERTIFICATE-----" blocks/],
    [`${ca.certPem}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`, /certificate 2 of 2 in Secret "bad" data\["ca\.crt"\] is not a valid PEM X\.509 certificate/],
  ];
  for (const [value, message] of cases) {
    const result = translateWith({ 'isthmus.dev/upstream-ca-secret': 'bad' }, caSecret('bad', 'Opaque', value));
    const d = result.diagnostics.find((x) => x.object?.kind === 'Service');
    assert.equal(d?.path, 'metadata.annotations["isthmus.dev/upstream-ca-secret"]');
    assert.match(d?.message ?? '', message);
    assert.equal(result.ir.clusters.length, 0);
  }
});

test('insecure-skip-verify "true" is taken, with a warning; other values are errors', () => {
  const skip = translateWith({ 'isthmus.dev/upstream-insecure-skip-verify': 'true' });
  assert.deepEqual(onlyCluster(skip).tls, { serverName: 'api.ns.svc', verification: { kind: 'insecure-skip-verify' } });
  assert.deepEqual(
    skip.diagnostics.map((d) => [d.severity, d.code, d.path]),
    [['warning', 'ERR_BACKEND_TLS_UNVERIFIED', 'metadata.annotations["isthmus.dev/upstream-insecure-skip-verify"]']],
  );
  assert.deepEqual(onlyCluster(translateWith({ 'isthmus.dev/upstream-insecure-skip-verify': 'false' })).tls?.verification, { kind: 'verify' });
  const bad = translateWith({ 'isthmus.dev/upstream-insecure-skip-verify': 'True' });
  assert.equal(bad.ir.clusters.length, 0);
  assert.match(bad.diagnostics.find((d) => d.object?.kind === 'Service')?.message ?? '', /expected "true" or "false", found "True"/);
});

test('a server name that is not a DNS name is an error', () => {
  for (const value of ['*.ns.svc', '10.0.0.1', 'Api.ns.svc', '']) {
    const result = translateWith({ 'isthmus.dev/upstream-server-name': value });
    assert.equal(result.ir.clusters.length, 0, value);
    assert.equal(result.diagnostics.find((d) => d.object?.kind === 'Service')?.path, 'metadata.annotations["isthmus.dev/upstream-server-name"]', value);
  }
});
