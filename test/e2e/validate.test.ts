// `isthmus validate DIR`: one line per diagnostic (severity, object, field path, message, [CODE]),
// exit 1 when any is an error, 0 for warnings only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, runCli } from './cli-harness.js';

// A Service (named port `http`), a ready Pod and an Ingress for shop.test: valid on its own.
const GOOD = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
spec:
  containers: [{name: web, image: echo, ports: [{name: http, containerPort: 8080}]}]
status:
  podIP: 127.0.0.2
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  rules:
    - host: shop.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`;

function ingress(name: string, host: string, backend: string, created = '2024-06-01T00:00:00Z'): string {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  rules:
    - host: ${host}
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: ${backend}}}
`;
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly exitCode: number;
  /** The whole diagnostic line: severity, object, field path, message and [CODE]. */
  readonly line: RegExp;
}

const CASES: readonly Case[] = [
  {
    name: 'malformed YAML',
    file: 'apiVersion: v1\nkind: Service\nmetadata: {name: broken\n  spec: [\n',
    exitCode: 1,
    line: /^error: \S*\/broken\.yaml: invalid YAML\b.*: .+ \[ERR_CONFIG_YAML_PARSE\]$/m,
  },
  {
    name: 'an Ingress pointing at a missing Service',
    file: ingress('lost', 'lost.test', '{name: nope, port: {number: 80}}'),
    exitCode: 1,
    line: /^error: Ingress default\/lost spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.name: Service "nope" not found in namespace "default" \[ERR_BACKEND_SERVICE_NOT_FOUND\] \(\S+\/broken\.yaml#0\)$/m,
  },
  {
    name: 'a port name the Service does not have',
    file: ingress('badport', 'port.test', '{name: web, port: {name: grpc}}'),
    exitCode: 1,
    line: /^error: Ingress default\/badport spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.port\.name: Service "web" has no port named "grpc" \(port names: http\) \[ERR_BACKEND_PORT_NOT_FOUND\]/m,
  },
  {
    // Same host and path as Ingress shop, created later: it loses, with a warning only.
    name: 'two Ingresses claiming the same host and path',
    file: ingress('copycat', 'shop.test', '{name: web, port: {number: 80}}', '2025-01-01T00:00:00Z'),
    exitCode: 0,
    line: /^warning: Ingress default\/copycat spec\.rules\[0\]\.http\.paths\[0\]: Prefix path "\/" on host "shop\.test" is also claimed by Ingress default\/shop spec\.rules\[0\]\.http\.paths\[0\], which is older; this path is ignored \[ERR_INGRESS_RULE_CONFLICT\]/m,
  },
  {
    name: 'a TLS Secret that is not a valid certificate',
    file: `apiVersion: v1
kind: Secret
metadata: {name: bad-tls, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from('not a certificate').toString('base64')}
  tls.key: ${Buffer.from('not a key').toString('base64')}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: default}
spec:
  tls: [{hosts: [secure.test], secretName: bad-tls}]
  rules:
    - host: secure.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`,
    exitCode: 1,
    line: /^error: Ingress default\/secure spec\.tls\[0\]\.secretName: Secret "bad-tls" .*not a PEM X\.509 certificate.* \[ERR_TLS_SECRET_INVALID\] \(\S+\/broken\.yaml#1\)$/m,
  },
  {
    name: 'an unknown kind (a warning: skipped, exit 0)',
    file: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gizmo, namespace: default}\nspec: {size: 3}\n',
    exitCode: 0,
    line: /^warning: Widget default\/gizmo: example\.com\/v1 Widget is not handled here; skipped \[ERR_RESOURCE_UNKNOWN_KIND\]/m,
  },
];

// Each case is its own process; they run side by side to keep the suite short.
test('isthmus validate', { concurrency: true }, async (t) => {
  const cases: Array<Promise<void>> = [];
  cases.push(t.test('a good folder prints no diagnostics and exits 0', async (st) => {
    const dir = configDir(st, { 'app.yaml': GOOD });
    const res = await runCli(['validate', dir]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal(res.stdout, '3 objects, 1 routes, 0 diagnostics\n');
  }));

  for (const c of CASES) {
    cases.push(t.test(`${c.name} → its diagnostic line, exit ${c.exitCode}`, async (st) => {
      const dir = configDir(st, { 'app.yaml': GOOD, 'broken.yaml': c.file });
      const res = await runCli(['validate', dir]);
      assert.match(res.stdout, c.line);
      const diagnosticLines = res.stdout.split('\n').filter((l) => /^(error|warning): /.test(l));
      assert.equal(diagnosticLines.length, 1, `exactly one diagnostic expected:\n${res.stdout}`);
      assert.match(res.stdout, /\d+ objects, \d+ routes, 1 diagnostics\n$/);
      assert.equal(res.code, c.exitCode, res.stdout + res.stderr);
    }));
  }

  cases.push(t.test('every problem at once is reported, each on its own line, across several folders; exit 1', async (st) => {
    const one = configDir(st, { 'app.yaml': GOOD });
    const many = configDir(st, Object.fromEntries(CASES.map((c, i) => [`case-${i}.yaml`, c.file])));
    const res = await runCli(['validate', one, many]);
    assert.equal(res.code, 1);
    for (const code of ['ERR_CONFIG_YAML_PARSE', 'ERR_BACKEND_SERVICE_NOT_FOUND', 'ERR_BACKEND_PORT_NOT_FOUND', 'ERR_INGRESS_RULE_CONFLICT', 'ERR_TLS_SECRET_INVALID', 'ERR_RESOURCE_UNKNOWN_KIND']) {
      assert.ok(res.stdout.includes(`[${code}]`), `missing ${code}:\n${res.stdout}`);
    }
  }));

  cases.push(t.test('a folder that does not exist is an error (ERR_CONFIG_READ), exit 1', async () => {
    const res = await runCli(['validate', '/nonexistent/isthmus-e2e']);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /^error: \/nonexistent\/isthmus-e2e: cannot read: .*\[ERR_CONFIG_READ\]$/m);
  }));
  await Promise.all(cases);
});
