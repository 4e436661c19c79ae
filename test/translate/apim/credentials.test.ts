// Consumers' credentials (src/translate/apim/consumers.ts, htpasswd.ts): API key hashes read
// from Secrets and checked, bcrypt-only htpasswd, first claim wins, Plans found or reported, and
// /api/config (configView) shows none of the hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { configView } from '../../../src/cli/config-view.js';
import { parseHtpasswd } from '../../../src/translate/apim/htpasswd.js';
import { authnOf, BASE, CART_ROUTE, GATEWAY, rateLimitsOf, route, run } from './apim-fixtures.js';

const BCRYPT = '$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
const sha = (key: string): string => createHash('sha256').update(key).digest('hex');

function consumer(name: string, spec: string, created = '2024-01-01T00:00:00Z'): string {
  return `---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
${spec}
`;
}
function secret(name: string, data: string): string {
  return `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
type: Opaque
stringData:
${data}
`;
}
const POLICY = `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: all, namespace: default}
spec:
  targetRefs: [${GATEWAY}]
  methods: {apiKey: {}, basic: {}}
`;

test('API key hashes come from the Secret, lower-cased; bad ones are reported with the field path and identify nobody', () => {
  const yaml =
    BASE + POLICY +
    consumer('good', '  groups: [a, b]\n  apiKeys: [{secretRef: {name: good-key}}]') + secret('good-key', `  sha256: ${sha('k1').toUpperCase()}`) +
    consumer('plain', '  apiKeys: [{secretRef: {name: plain-key}}]') + secret('plain-key', '  sha256: my-secret-key') +
    consumer('none', '  apiKeys: [{secretRef: {name: missing}}]') +
    consumer('nokey', '  apiKeys: [{secretRef: {name: other}}]') + secret('other', '  token: x');
  const { ir, diagnostics } = run(yaml);
  const authn = authnOf(route(ir, 'public', CART_ROUTE))!;
  assert.deepEqual(authn.methods[0], { kind: 'api-key', from: { header: 'x-api-key' }, keys: [{ sha256: sha('k1'), consumer: { name: 'default/good', groups: ['a', 'b'] } }] });
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.object?.name, d.path]),
    [
      ['ERR_CONSUMER_CREDENTIAL_INVALID', 'nokey', 'spec.apiKeys[0].secretRef'],
      ['ERR_CONSUMER_CREDENTIAL_INVALID', 'none', 'spec.apiKeys[0].secretRef'],
      ['ERR_CONSUMER_CREDENTIAL_INVALID', 'plain', 'spec.apiKeys[0].secretRef'],
    ],
  );
  const plain = diagnostics.find((d) => d.object?.name === 'plain')!;
  assert.match(plain.message, /expected 64 hex characters/);
  assert.ok(!plain.message.includes('my-secret-key'), 'the diagnostic does not echo what may be a plain key');
});

test('the same key for two Consumers: the older keeps it, the newer is reported', () => {
  const yaml = BASE + POLICY + consumer('newer', '  apiKeys: [{secretRef: {name: k2}}]', '2025-01-01T00:00:00Z') + consumer('older', '  apiKeys: [{secretRef: {name: k1}}]', '2024-01-01T00:00:00Z') + secret('k1', `  sha256: ${sha('dup')}`) + secret('k2', `  sha256: ${sha('dup')}`);
  const { ir, diagnostics } = run(yaml);
  const m = authnOf(route(ir, 'public', CART_ROUTE))!.methods[0]!;
  assert.ok(m.kind === 'api-key');
  assert.deepEqual(m.keys.map((k) => k.consumer.name), ['default/older']);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name]), [['ERR_CONSUMER_CREDENTIAL_INVALID', 'newer']]);
  assert.match(diagnostics[0]!.message, /already identifies the older Consumer default\/older/);
});

test('htpasswd: bcrypt lines become users; other hash kinds are refused line by line', () => {
  const parsed = parseHtpasswd(`# comment\nalice:${BCRYPT}\nbob:$apr1$abc$def\n\ncarol:{SHA}abc=\nnocolon\nalice:${BCRYPT}\n`);
  assert.deepEqual(parsed.users, [{ user: 'alice', bcrypt: BCRYPT }]);
  assert.deepEqual(parsed.problems.map((p) => p.line), [3, 5, 6, 7]);
  assert.match(parsed.problems[0]!.message, /expected a bcrypt hash .* found MD5-crypt/);

  const yaml = BASE + POLICY + consumer('basic', '  basicAuth: {secretRef: {name: users}}') + secret('users', `  htpasswd: |\n    alice:${BCRYPT}\n    bob:$apr1$abc$def`);
  const { ir, diagnostics } = run(yaml);
  const basic = authnOf(route(ir, 'public', CART_ROUTE))!.methods[1]!;
  assert.ok(basic.kind === 'basic');
  assert.deepEqual(basic.users.map((u) => [u.user, u.consumer.name]), [['alice', 'default/basic']]);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.path]), [['ERR_CONSUMER_CREDENTIAL_INVALID', 'spec.basicAuth.secretRef']]);
  assert.match(diagnostics[0]!.message, /htpasswd line 2: user "bob"/);
});

test('/api/config redacts key and bcrypt hashes, and keeps the consumers', () => {
  const yaml = BASE + POLICY + consumer('c', `  apiKeys: [{secretRef: {name: k}}]\n  basicAuth: {secretRef: {name: users}}`) + secret('k', `  sha256: ${sha('top-secret')}`) + secret('users', `  htpasswd: "alice:${BCRYPT}"`);
  const { ir } = run(yaml);
  const full = JSON.stringify(ir);
  assert.ok(full.includes(sha('top-secret')) && full.includes(BCRYPT), 'the IR itself carries the hashes');
  const shown = JSON.stringify(configView(ir));
  assert.ok(!shown.includes(sha('top-secret')), 'no key hash');
  assert.ok(!shown.includes(BCRYPT), 'no bcrypt hash');
  assert.ok(shown.includes('"sha256":"[redacted]"') && shown.includes('"bcrypt":"[redacted]"'));
  assert.ok(shown.includes('default/c'));
});

test('Plans: a Consumer\'s Plan limits count on routes an AuthPolicy protects, with `plan` set; a missing Plan is reported', () => {
  const plan = `---
apiVersion: isthmus.dev/v1alpha1
kind: Plan
metadata: {name: gold, namespace: default}
spec:
  rateLimits: [{requests: 5, period: 1s}]
  quota: {requestsPerDay: 1000}
`;
  const yaml = BASE + POLICY + plan + consumer('a', '  plan: gold\n  apiKeys: [{secretRef: {name: k}}]') + secret('k', `  sha256: ${sha('a')}`) + consumer('b', '  plan: platinum');
  const { ir, diagnostics } = run(yaml);
  const rl = rateLimitsOf(route(ir, 'public', CART_ROUTE))!;
  assert.equal(rl.policy, 'authpolicy/default/all');
  assert.deepEqual(rl.limits, [{ name: 'plan/default/gold/0', requests: 5, periodMs: 1000, key: { kind: 'consumer' }, scope: 'global', plan: 'default/gold' }]);
  // The quota is a calendar quota of its own filter, after the rate limit.
  const filters = route(ir, 'public', CART_ROUTE)!.filters;
  const quota = filters.find((f) => f.kind === 'quota');
  assert.deepEqual(quota, { kind: 'quota', quotas: { policy: 'authpolicy/default/all', quotas: [{ name: 'plan/default/gold/day', requests: 1000, period: 'day', scope: 'global', plan: 'default/gold' }], onStoreFailure: 'open' } });
  assert.ok(filters.findIndex((f) => f.kind === 'rate-limit') < filters.indexOf(quota!));
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name, d.path]), [['ERR_CONSUMER_PLAN_NOT_FOUND', 'b', 'spec.plan']]);
  // Without an AuthPolicy, nobody is identified, so no Plan counts.
  assert.equal(rateLimitsOf(route(run(yaml.replace(POLICY, '')).ir, 'public', CART_ROUTE)), undefined);
});
