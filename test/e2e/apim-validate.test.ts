// `isthmus validate` checks isthmus.dev objects against the schemas of deploy/crds/ (the CRDs a
// cluster would enforce): a bad object is refused with its field path, examples/apim passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { configDir, repoRoot, runCli } from './cli-harness.js';

const BAD: readonly { readonly name: string; readonly yaml: string; readonly line: RegExp }[] = [
  {
    name: 'a period outside the duration grammar',
    yaml: `apiVersion: isthmus.dev/v1alpha1
kind: Plan
metadata: {name: gold, namespace: default}
spec:
  rateLimits: [{requests: 10, period: "1 minute"}]
`,
    line: /^error: Plan default\/gold spec\.rateLimits\[0\]\.period: expected a string matching .*\(ms\|s\|m\|h\|d\).* \[ERR_RESOURCE_INVALID\]/m,
  },
  {
    name: 'an unknown field (kubectl --validate=strict refuses it too)',
    yaml: `apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec:
  apiKeys: [{secretRef: {name: k, namespace: other}}]
`,
    line: /^error: Consumer default\/acme spec\.apiKeys\[0\]\.secretRef: unknown field "namespace" \[ERR_RESOURCE_INVALID\]/m,
  },
  {
    name: 'a missing required field',
    yaml: `apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  externalAuth: {timeout: 1s}
`,
    line: /^error: AuthPolicy default\/p spec\.externalAuth: required field "url" is missing \[ERR_RESOURCE_INVALID\]/m,
  },
  {
    name: 'a value outside an enum',
    yaml: `apiVersion: isthmus.dev/v1alpha1
kind: API
metadata: {name: orders, namespace: default}
spec:
  versions: [{name: v1, stage: beta, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]}]
`,
    line: /^error: API default\/orders spec\.versions\[0\]\.stage: expected one of "draft", "published", "deprecated", "retired" .*\[ERR_RESOURCE_INVALID\]/m,
  },
];

for (const c of BAD) {
  test(`isthmus validate refuses ${c.name}, with the field path`, async (t) => {
    const dir = configDir(t, { 'bad.yaml': c.yaml });
    const res = await runCli(['validate', dir]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout + res.stderr, c.line);
  });
}

test('isthmus validate examples/apim: no diagnostics', async () => {
  const res = await runCli(['validate', path.join(repoRoot(), 'examples', 'apim')]);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout + res.stderr, / 0 diagnostics/);
});
