// compileAuthz: Istio's evaluation order (deny, then allow, then noMatch), every condition kind and
// its negation, the path forms, and address blocks (IPv4, IPv6, mapped, trusted proxies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrAuthz, IrAuthzCondition, IrAuthzRule } from '../../../src/ir/apim.js';
import { compileAuthz } from '../../../src/dataplane/filters/authz.js';
import { compileCidrs, parseCidr } from '../../../src/core/cidr.js';
import type { FilterOutcome } from '../../../src/dataplane/filters/filter-types.js';
import { requestContext } from '../../support/request-context.js';

type Ctx = Parameters<typeof requestContext>[0];

function status(authz: IrAuthz, ctx: Ctx = {}, deps = {}): number {
  const out = compileAuthz(authz, deps)(requestContext(ctx)) as FilterOutcome;
  return out.kind === 'continue' ? 200 : out.status;
}

const rule = (action: 'allow' | 'deny', ...conditions: IrAuthzCondition[]): IrAuthzRule => ({ name: `r/${action}`, action, conditions });
const only = (c: IrAuthzCondition, ctx: Ctx): number => status({ policy: 'p', rules: [rule('allow', c)], noMatch: 'deny' }, ctx);

test('no allow rule: allowed unless a deny rule matches; deny wins over allow', () => {
  assert.equal(status({ policy: 'p', rules: [], noMatch: 'allow' }), 200);
  assert.equal(status({ policy: 'p', rules: [rule('deny', { kind: 'method', values: ['POST'], negate: false })], noMatch: 'allow' }), 200);
  assert.equal(status({ policy: 'p', rules: [rule('deny', { kind: 'method', values: ['GET'], negate: false })], noMatch: 'allow' }), 403);
  assert.equal(status({ policy: 'p', rules: [rule('allow'), rule('deny', { kind: 'path', values: ['/orders'], negate: false })], noMatch: 'deny' }), 403, 'deny before allow');
});

test('allow rules present and none matching: 403 in the local-reply shape; an empty allow list denies all', () => {
  const out = compileAuthz({ policy: 'p', rules: [rule('allow', { kind: 'method', values: ['POST'], negate: false })], noMatch: 'deny' })(requestContext()) as FilterOutcome;
  assert.equal(out.kind, 'respond');
  assert.ok(out.kind === 'respond');
  assert.equal(out.status, 403);
  assert.equal(out.details, 'forbidden');
  const body = JSON.parse(out.body!);
  assert.deepEqual(Object.keys(body), ['status', 'reason', 'message', 'request_id']);
  assert.equal(body.reason, 'forbidden');
  assert.equal(status({ policy: 'p', rules: [], noMatch: 'deny' }), 403, "Istio's allow-nothing");
  assert.equal(status({ policy: 'p', rules: [rule('allow')], noMatch: 'deny' }), 200, 'an empty rule matches all');
});

test('consumer and group, and their negations (absent consumer: positive fails, negation holds)', () => {
  const consumer = { name: 'default/acme', groups: ['gold', 'eu'] };
  assert.equal(only({ kind: 'consumer', values: ['default/acme'], negate: false }, { consumer }), 200);
  assert.equal(only({ kind: 'consumer', values: ['default/acme'], negate: false }, {}), 403);
  assert.equal(only({ kind: 'consumer', values: ['default/acme'], negate: true }, { consumer }), 403);
  assert.equal(only({ kind: 'consumer', values: ['default/acme'], negate: true }, {}), 200);
  assert.equal(only({ kind: 'group', values: ['silver', 'eu'], negate: false }, { consumer }), 200);
  assert.equal(only({ kind: 'group', values: ['silver'], negate: false }, { consumer }), 403);
  assert.equal(only({ kind: 'group', values: ['gold'], negate: true }, { consumer }), 403);
});

test('claims: strings, list membership, nested paths, wildcards; request principal is iss/sub', () => {
  const claims = { iss: 'https://idp', sub: 'u1', groups: ['admins', 'dev'], org: { tier: 'gold' }, n: 3 };
  assert.equal(only({ kind: 'claim', path: ['groups'], values: ['admins'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'claim', path: ['groups'], values: ['ops'], negate: false }, { claims }), 403);
  assert.equal(only({ kind: 'claim', path: ['groups'], values: ['admins'], negate: true }, { claims }), 403);
  assert.equal(only({ kind: 'claim', path: ['org', 'tier'], values: ['gold'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'claim', path: ['n'], values: ['3'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'claim', path: ['missing'], values: ['*'], negate: false }, { claims }), 403);
  assert.equal(only({ kind: 'claim', path: ['sub'], values: ['*'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'request-principal', values: ['https://idp/u1'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'request-principal', values: ['https://idp/*'], negate: false }, { claims }), 200);
  assert.equal(only({ kind: 'request-principal', values: ['*'], negate: true }, {}), 200, 'notRequestPrincipals: ["*"] = no token');
});

test('method, host and header, and negations', () => {
  assert.equal(only({ kind: 'method', values: ['GET', 'HEAD'], negate: false }, {}), 200);
  assert.equal(only({ kind: 'method', values: ['GET'], negate: true }, {}), 403);
  assert.equal(only({ kind: 'host', values: ['api.example.com'], negate: false }, { authority: 'API.example.com:8080' }), 200);
  assert.equal(only({ kind: 'host', values: ['*.example.com'], negate: false }, {}), 200);
  assert.equal(only({ kind: 'host', values: ['*.example.org'], negate: true }, {}), 200);
  assert.equal(only({ kind: 'header', name: 'x-env', values: ['prod'], negate: false }, { headers: { 'x-env': 'prod' } }), 200);
  assert.equal(only({ kind: 'header', name: 'x-env', values: ['prod'], negate: false }, {}), 403);
  assert.equal(only({ kind: 'header', name: 'x-env', values: ['*'], negate: true }, {}), 200);
});

test('paths: exact, prefix /x/*, suffix *.js, any *; the query is not part of the path', () => {
  const p = (values: string[], path: string, negate = false): number => only({ kind: 'path', values, negate }, { path });
  assert.equal(p(['/orders'], '/orders'), 200);
  assert.equal(p(['/orders'], '/orders/1'), 403);
  assert.equal(p(['/admin/*'], '/admin/users'), 200);
  assert.equal(p(['/admin/*'], '/admin'), 403, 'Istio prefix /admin/* is the string prefix /admin/');
  assert.equal(p(['*.js'], '/static/app.js'), 200);
  assert.equal(p(['*.js'], '/static/app.css'), 403);
  assert.equal(p(['*'], '/anything'), 200);
  assert.equal(p(['/admin/*'], '/public', true), 200);
});

test('address blocks: IPv4, IPv6, mapped IPv4, bare addresses; negation; invalid blocks', () => {
  const v4 = compileCidrs(['10.0.0.0/8', '192.0.2.7']);
  assert.equal(v4.contains('10.255.1.2'), true);
  assert.equal(v4.contains('11.0.0.1'), false);
  assert.equal(v4.contains('192.0.2.7'), true);
  assert.equal(v4.contains('192.0.2.8'), false);
  assert.equal(v4.contains('::ffff:10.1.1.1'), true, 'IPv4-mapped');
  const v6 = compileCidrs(['2001:db8::/32', '::1']);
  assert.equal(v6.contains('2001:db8:ffff::1'), true);
  assert.equal(v6.contains('2001:db9::1'), false);
  assert.equal(v6.contains('::1'), true);
  assert.equal(v6.contains('10.0.0.1'), false);
  assert.equal(compileCidrs(['0.0.0.0/0']).contains('8.8.8.8'), true);
  assert.equal(compileCidrs(['::/0']).contains('fe80::1%eth0'), true);
  assert.equal(compileCidrs(['10.0.0.0/8']).contains('not-an-ip'), false);
  for (const bad of ['10.0.0.0/33', '300.1.1.1', '2001:db8::/129', '1::2::3', 'x/8']) assert.equal(parseCidr(bad).kind, 'invalid', bad);
  assert.equal(only({ kind: 'ip', of: 'peer', cidrs: ['192.0.2.0/24'], negate: false }, { clientIp: '192.0.2.9' }), 200);
  assert.equal(only({ kind: 'ip', of: 'peer', cidrs: ['192.0.2.0/24'], negate: true }, { clientIp: '192.0.2.9' }), 403);
});

test('client address: X-Forwarded-For is believed only from a trusted proxy, read from the right', () => {
  const authz: IrAuthz = { policy: 'p', rules: [rule('allow', { kind: 'ip', of: 'client', cidrs: ['203.0.113.0/24'], negate: false })], noMatch: 'deny' };
  const trusted = { isTrustedProxy: (ip: string) => ip.startsWith('10.') };
  const headers = { 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.0.0.2' };
  assert.equal(status(authz, { clientIp: '10.0.0.1', headers }, trusted), 200, 'the right-most untrusted hop');
  assert.equal(status(authz, { clientIp: '10.0.0.1', headers }, {}), 403, 'no trusted proxies: the peer');
  assert.equal(status(authz, { clientIp: '192.0.2.1', headers }, trusted), 403, 'an untrusted peer cannot claim an address');
  assert.equal(status(authz, { clientIp: '203.0.113.9' }, trusted), 200);
});

test('AUDIT rules mark the request for the log and never decide, refused requests included', async () => {
  const { AUDIT_RULE_ATTRIBUTE, identityFieldsOf } = await import('../../../src/dataplane/filters/request-identity.js');
  const audit: IrAuthzRule = { name: 'r/audit', action: 'audit', conditions: [{ kind: 'path', values: ['/admin/*'], negate: false }] };
  const authz: IrAuthz = { policy: 'p', rules: [audit, rule('deny', { kind: 'method', values: ['DELETE'], negate: false })], noMatch: 'allow' };
  const filter = compileAuthz(authz);
  const marked = requestContext({ path: '/admin/users' });
  assert.deepEqual(filter(marked), { kind: 'continue' });
  assert.equal(marked.attributes.get(AUDIT_RULE_ATTRIBUTE), 'r/audit');
  assert.equal(identityFieldsOf(marked).audit, 'r/audit');
  const refused = requestContext({ path: '/admin/users', method: 'DELETE' });
  assert.equal((filter(refused) as FilterOutcome).kind, 'respond');
  assert.equal(refused.attributes.get(AUDIT_RULE_ATTRIBUTE), 'r/audit');
  const plain = requestContext({ path: '/orders' });
  filter(plain);
  assert.equal(plain.attributes.get(AUDIT_RULE_ATTRIBUTE), undefined);
});
