// AuthPolicy externalAuth and clientCertificate, Consumer clientCertificates, and Istio CUSTOM
// AuthorizationPolicies through the mesh config's extensionProviders → the `ext-auth` and `authn`
// filters of each route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrExtAuth } from '../../../src/ir/apim.js';
import type { IrRoute } from '../../../src/ir/types.js';
import { ADMIN_ROUTE, authnOf, BASE, CART_ROUTE, GATEWAY, route, run, SHOP, statusOf } from './apim-fixtures.js';

function extAuthOf(r: IrRoute): IrExtAuth | undefined {
  const f = r.filters.find((x) => x.kind === 'ext-auth');
  return f?.kind === 'ext-auth' ? f.extAuth : undefined;
}

const policy = (name: string, spec: string): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
${spec}
`;

const FINGERPRINT = 'ab:cd:'.repeat(15) + 'ab:cd';

test('AuthPolicy externalAuth: one unconditional check with defaults; the identity headers are forward\'s; methods may be left out', () => {
  const { ir, diagnostics } = run(BASE + policy('ext', `  targetRefs: [${SHOP}]
  forward: {consumerHeader: X-Consumer}
  externalAuth:
    url: http://authz.default.svc:8080/check/
    requestHeaders: [Authorization, "x-client-*"]
    upstreamHeaders: [X-User]`));
  assert.deepEqual(diagnostics, []);
  const r = route(ir, 'public', CART_ROUTE);
  assert.deepEqual(extAuthOf(r), {
    policy: 'authpolicy/default/ext',
    checks: [{
      name: 'authpolicy/default/ext/external-auth',
      conditions: [],
      target: {
        kind: 'service',
        service: {
          url: 'http://authz.default.svc:8080/check',
          timeoutMs: 200,
          failureMode: 'closed',
          statusOnError: 503,
          requestHeaders: ['authorization', 'x-client-*'],
          identityHeaders: { consumer: 'x-consumer' },
          upstreamHeaders: ['x-user'],
        },
      },
    }],
  });
  // No methods: the authn filter asks for nothing (it still strips forged consumer headers).
  assert.deepEqual(authnOf(r), { policy: 'authpolicy/default/ext', methods: [], missing: 'allow', realm: 'isthmus', forward: { consumerHeader: 'x-consumer' } });
  assert.deepEqual(r.filters.map((f) => f.kind).slice(-2), ['authn', 'ext-auth']);
  assert.equal(extAuthOf(route(ir, 'internal', ADMIN_ROUTE)), undefined, 'the admin route is not targeted');
});

test('AuthPolicy externalAuth: timeout and failure mode read; a bad URL fails closed (a deny check) and marks the policy Invalid', () => {
  const ok = run(BASE + policy('ext', `  targetRefs: [${GATEWAY}]
  methods: {apiKey: {}}
  externalAuth: {url: "https://authz.test", timeout: 1s, failureMode: open, statusOnError: 403, clientHeaders: [x-reason]}`));
  const service = extAuthOf(route(ok.ir, 'public', CART_ROUTE))!.checks[0]!.target;
  assert.deepEqual(service.kind === 'service' && [service.service.url, service.service.timeoutMs, service.service.failureMode, service.service.statusOnError, service.service.clientHeaders], ['https://authz.test', 1000, 'open', 403, ['x-reason']]);
  const bad = run(BASE + policy('ext', `  targetRefs: [${GATEWAY}]
  externalAuth: {url: "http://user:pw@authz.test/x"}`));
  assert.deepEqual(extAuthOf(route(bad.ir, 'public', CART_ROUTE))!.checks[0]!.target, { kind: 'deny', reason: 'invalid externalAuth.url' });
  assert.deepEqual(bad.diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_INVALID', 'spec.externalAuth.url']]);
  assert.equal(statusOf(bad.statuses, 'AuthPolicy', 'ext').status.ancestors[0]!.conditions[0]!.reason, 'Invalid');
  // Neither methods nor externalAuth: the CEL rule, checked by the translator; every request is refused.
  const neither = run(BASE + policy('none', `  targetRefs: [${GATEWAY}]`));
  assert.deepEqual(neither.diagnostics.map((d) => [d.code, d.path]), [['ERR_POLICY_INVALID', 'spec']]);
  assert.equal(authnOf(route(neither.ir, 'public', CART_ROUTE))!.missing, 'deny');
});

test('Consumer clientCertificates → the clientCertificate method: fingerprints normalised, subjects kept; bad entries and duplicates reported', () => {
  const { ir, diagnostics, load } = run(BASE + `---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  groups: [partners]
  clientCertificates:
    - {sha256Fingerprint: "${FINGERPRINT.replace(/:/g, '')}"}
    - {subject: "CN=acme,O=Example"}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: copycat, namespace: default, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  clientCertificates:
    - {sha256Fingerprint: "${FINGERPRINT.toUpperCase()}"}
    - {sha256Fingerprint: "${'01'.repeat(32)}", subject: "CN=x"}
` + policy('mtls', `  targetRefs: [${GATEWAY}]
  methods: {clientCertificate: {}}`));
  const acme = { name: 'default/acme', groups: ['partners'] };
  assert.deepEqual(authnOf(route(ir, 'public', CART_ROUTE))!.methods, [{
    kind: 'client-certificate',
    fingerprints: [{ sha256: FINGERPRINT.toUpperCase(), consumer: acme }],
    subjects: [{ subject: 'CN=acme,O=Example', consumer: acme }],
  }]);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [
    ['ERR_CONSUMER_CREDENTIAL_INVALID', 'spec.clientCertificates[0]'],
    ['ERR_CONSUMER_CREDENTIAL_INVALID', 'spec.clientCertificates[1]'],
  ]);
  assert.match(diagnostics[0]!.message, /older Consumer default\/acme/);
  assert.match(diagnostics[1]!.message, /exactly one of sha256Fingerprint and subject/);
  assert.deepEqual(load, []);
  // The CRD's pattern refuses a fingerprint that is not 32 hex pairs when the object is loaded.
  const short = run(BASE + `---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: short, namespace: default}
spec: {clientCertificates: [{sha256Fingerprint: "AB:CD"}]}
`);
  assert.ok(short.load.some((l) => /clientCertificates/.test(l)), short.load.join('\n'));
});

const LABELS = { istioGatewayLabels: new Map([['istio', 'ingressgateway']]) };
const MESH = (providers: string): string => `---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    accessLogFile: /dev/stdout
    extensionProviders:
${providers.split('\n').map((l) => `      ${l}`).join('\n')}
`;
const CUSTOM = (name: string, provider: string, rules: string, created = '2024-01-01T00:00:00Z'): string => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: istio-system, creationTimestamp: "${created}"}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: ${provider}}
  rules: ${rules}
`;

test('Istio CUSTOM: the mesh config provider becomes the service; rules become check conditions; Istio defaults apply', () => {
  const { ir, diagnostics } = run(BASE + MESH(`- name: ext-authz
  envoyExtAuthzHttp:
    service: bar/ext-authz.bar.svc.cluster.local
    port: "8000"
    pathPrefix: /check
    timeout: 0.5s
    failOpen: true
    statusOnError: "503"
    includeRequestHeadersInCheck: [X-Ext-Authz]
    includeAdditionalHeadersInCheck: {X-Gateway: isthmus}
    headersToUpstreamOnAllow: [x-user, "x-auth-*"]
    headersToDownstreamOnDeny: [x-reason]
- name: otel
  opentelemetry: {service: otel.svc, port: 4317}`) + CUSTOM('ext', 'ext-authz', '[{to: [{operation: {paths: ["/admin/*"]}}]}]'), LABELS);
  assert.deepEqual(diagnostics, []);
  const ext = extAuthOf(route(ir, 'internal', ADMIN_ROUTE))!;
  assert.deepEqual(ext, {
    policy: 'authorizationpolicy/istio-system/ext',
    checks: [{
      name: 'authorizationpolicy/istio-system/ext/rule/0',
      conditions: [{ kind: 'path', values: ['/admin/*'], negate: false }],
      target: {
        kind: 'service',
        service: {
          url: 'http://ext-authz.bar.svc.cluster.local:8000/check',
          timeoutMs: 500,
          failureMode: 'open',
          statusOnError: 503,
          requestHeaders: ['x-ext-authz'],
          additionalHeaders: { 'x-gateway': 'isthmus' },
          upstreamHeaders: ['x-user', 'x-auth-*'],
          clientHeaders: ['x-reason'],
        },
      },
    }],
  });
  // Every route gets it (workload level); defaults: 600s, closed, 403.
  assert.ok(extAuthOf(route(ir, 'public', CART_ROUTE)));
  const defaults = run(BASE + MESH(`- name: p\n  envoyExtAuthzHttp: {service: authz.test, port: 9000}`) + CUSTOM('ext', 'p', '[{}]'), LABELS);
  const t = extAuthOf(route(defaults.ir, 'public', CART_ROUTE))!.checks[0]!.target;
  assert.deepEqual(t.kind === 'service' && [t.service.url, t.service.timeoutMs, t.service.failureMode, t.service.statusOnError, t.service.clientHeaders], ['http://authz.test:9000', 600_000, 'closed', 403, undefined]);
});

test('Istio CUSTOM: an unknown or unusable provider denies what the policy matches, with the field path; no rules checks nothing; an AccessPolicy replaces it', () => {
  const { ir, diagnostics } = run(BASE + MESH('- name: grpc\n  envoyExtAuthzGrpc: {service: g.svc, port: 9000}') + CUSTOM('missing', 'nope', '[{to: [{operation: {methods: [POST]}}]}]') + CUSTOM('grpc', 'grpc', '[{}]', '2024-02-01T00:00:00Z') + CUSTOM('empty', 'grpc', '[]', '2024-03-01T00:00:00Z'), LABELS);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name, d.path]).sort(), [
    ['ERR_AUTHZ_PROVIDER_NOT_FOUND', 'empty', 'spec.provider.name'],
    ['ERR_AUTHZ_PROVIDER_NOT_FOUND', 'grpc', 'spec.provider.name'],
    ['ERR_AUTHZ_PROVIDER_NOT_FOUND', 'missing', 'spec.provider.name'],
  ]);
  assert.match(diagnostics.find((d) => d.object?.name === 'missing')!.message, /not among the mesh config's extensionProviders/);
  assert.match(diagnostics.find((d) => d.object?.name === 'grpc')!.message, /envoyExtAuthzGrpc, not envoyExtAuthzHttp/);
  const ext = extAuthOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(ext.checks.map((c) => [c.name, c.target]), [
    ['authorizationpolicy/istio-system/missing/rule/0', { kind: 'deny', reason: 'provider nope unusable' }],
    ['authorizationpolicy/istio-system/grpc/rule/0', { kind: 'deny', reason: 'provider grpc unusable' }],
  ]);
  const replaced = run(BASE + MESH('- name: p\n  envoyExtAuthzHttp: {service: a.test, port: 1}') + CUSTOM('ext', 'p', '[{}]') + `---
apiVersion: isthmus.dev/v1alpha1
kind: AccessPolicy
metadata: {name: shop, namespace: default}
spec:
  targetRefs: [${SHOP}]
  rules: {deny: [{paths: [/x]}]}
`, LABELS);
  assert.equal(extAuthOf(route(replaced.ir, 'public', CART_ROUTE)), undefined);
  assert.ok(extAuthOf(route(replaced.ir, 'internal', ADMIN_ROUTE)));
});

test('mesh config: malformed YAML and entries reported with the field path', () => {
  const broken = run(BASE + MESH('- name: p\n  envoyExtAuthzHttp: {service: a.test, port: 0}\n- {bogus: 1}') + CUSTOM('ext', 'p', '[{}]'), LABELS);
  assert.deepEqual(broken.diagnostics.map((d) => [d.code, d.path]).sort(), [
    ['ERR_AUTHZ_PROVIDER_NOT_FOUND', 'spec.provider.name'],
    ['ERR_MESH_CONFIG_INVALID', 'data.mesh.extensionProviders[0].envoyExtAuthzHttp.port'],
    ['ERR_MESH_CONFIG_INVALID', 'data.mesh.extensionProviders[1]'],
  ]);
  const notYaml = run(BASE + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "a: [1"}
` + CUSTOM('ext', 'p', '[{}]'), LABELS);
  assert.deepEqual(notYaml.diagnostics.map((d) => [d.code, d.path]).sort(), [['ERR_AUTHZ_PROVIDER_NOT_FOUND', 'spec.provider.name'], ['ERR_MESH_CONFIG_INVALID', 'data.mesh']]);
});
