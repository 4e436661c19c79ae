// The TransformPolicy filter parts on their own: template rendering (trusted proxies, claims as
// JSON, absent values), header values made safe, JSON edits (arrays, no prototype reached, claims
// never mutated), media types, and the body filter's once-per-route log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJsonValue, compileTemplate } from '../../../src/dataplane/filters/transform/render-template.js';
import { compileHeaderTransform, safeHeaderValue } from '../../../src/dataplane/filters/transform/header-transform.js';
import { compileJsonEdit } from '../../../src/dataplane/filters/transform/json-edit.js';
import { compileJsonBodyFilter, isJsonMediaType } from '../../../src/dataplane/filters/transform/json-body-filter.js';
import { compileFilterChain } from '../../../src/dataplane/filters/compile-filters.js';
import { localFilterDeps } from '../../../src/dataplane/filters/filter-deps.js';
import { EMPTY_CHAIN } from '../../../src/dataplane/filters/filter-types.js';
import { requestContext } from '../../support/request-context.js';

const NO_PROXY = { isTrustedProxy: undefined };

test('templates render the consumer, claims, headers and the client behind a trusted proxy', () => {
  const ctx = requestContext({ consumer: { name: 'default/acme', groups: ['a', 'b'] }, claims: { org: { id: 7, tags: ['x'] } }, headers: { 'x-forwarded-for': '203.0.113.9', 'x-t': ['1', '2'] }, clientIp: '10.0.0.1', method: 'PATCH', path: '/p' });
  const render = (t: Parameters<typeof compileTemplate>[0], trusted = false): string => compileTemplate(t, { isTrustedProxy: trusted ? (ip) => ip === '10.0.0.1' : undefined })(ctx);
  assert.equal(render([{ kind: 'consumer' }, { kind: 'text', text: '|' }, { kind: 'consumer-groups' }]), 'default/acme|a,b');
  assert.equal(render([{ kind: 'claim', path: ['org', 'id'] }, { kind: 'claim', path: ['org', 'tags'] }, { kind: 'claim', path: ['none'] }]), '7["x"]');
  assert.equal(render([{ kind: 'header', name: 'x-t' }, { kind: 'header', name: 'absent' }]), '1, 2');
  assert.equal(render([{ kind: 'client-address' }]), '10.0.0.1');
  assert.equal(render([{ kind: 'client-address' }], true), '203.0.113.9');
  assert.equal(render([{ kind: 'method' }, { kind: 'path' }, { kind: 'request-id' }]), `PATCH/p${ctx.requestId}`);
  // An inherited property is no claim.
  assert.equal(render([{ kind: 'claim', path: ['constructor'] }]), '');
  const anonymous = requestContext();
  assert.equal(compileTemplate([{ kind: 'consumer' }], NO_PROXY)(anonymous), '');
  assert.equal(compileJsonValue({ kind: 'template', template: [{ kind: 'consumer' }] }, NO_PROXY)(anonymous), null);
  assert.deepEqual(compileJsonValue({ kind: 'template', template: [{ kind: 'consumer-groups' }] }, NO_PROXY)(anonymous), []);
});

test('header values: control characters refuse the header (the client copy of a set still goes), non-ASCII is percent-encoded', () => {
  assert.equal(safeHeaderValue('a\tb c'), 'a\tb c');
  assert.equal(safeHeaderValue('a\r\nx-admin: 1'), undefined);
  assert.equal(safeHeaderValue('a\nb'), undefined);
  assert.equal(safeHeaderValue('a\x00b'), undefined);
  assert.equal(safeHeaderValue('a\x7fb'), undefined);
  assert.equal(safeHeaderValue('Zoë 🦊'), 'Zo%C3%AB %F0%9F%A6%8A');
  const refused: string[] = [];
  const edit = compileHeaderTransform({ remove: [], set: [{ name: 'x-email', value: [{ kind: 'claim', path: ['email'] }] }], add: [] }, NO_PROXY, (_c, name) => refused.push(name));
  const headers = ['X-Email', 'forged', 'x-keep', '1'];
  edit(requestContext({ claims: { email: 'e@x\r\nx-admin: true' } }), headers);
  assert.deepEqual(headers, ['x-keep', '1']);
  assert.deepEqual(refused, ['x-email']);
});

test('JSON edits: remove, rename, set in that order; arrays by index; nothing reaches a prototype; claims are copied', () => {
  const claims = { roles: ['a'] };
  const edit = compileJsonEdit(
    {
      maxBytes: 100,
      remove: [['items', '0'], ['missing', 'deep']],
      rename: [{ from: ['old'], to: ['new', 'place'] }, { from: ['absent'], to: ['x'] }],
      set: [{ path: ['items', '1'], value: { kind: 'json', value: 'appended' } }, { path: ['roles'], value: { kind: 'template', template: [{ kind: 'claim', path: ['roles'] }] } }, { path: ['roles', '1'], value: { kind: 'json', value: 'b' } }, { path: ['str', 'x'], value: { kind: 'json', value: 1 } }],
    },
    NO_PROXY,
  );
  const doc = JSON.parse('{"items":["gone","kept"],"old":1,"str":"s","__proto__":{"p":1}}') as Record<string, unknown>;
  const out = edit(requestContext({ claims }), doc);
  assert.deepEqual(out, JSON.parse('{"items":["kept","appended"],"str":"s","__proto__":{"p":1},"new":{"place":1},"roles":["a","b"]}'));
  assert.deepEqual(claims, { roles: ['a'] }, 'the verified claims are not edited');
  assert.equal(({} as Record<string, unknown>).p, undefined);
  // A document that is not an object: edits through it are left alone.
  assert.deepEqual(edit(requestContext(), [1, 2]), [1, 2]);
  assert.equal(edit(requestContext(), 'text'), 'text');
});

test('JSON bodies: media types, strict UTF-8, one log line per reason', () => {
  for (const t of ['application/json', 'Application/JSON; charset=utf-8', 'application/problem+json', 'application/vnd.api+json']) assert.ok(isJsonMediaType(t), t);
  for (const t of [undefined, 'text/plain', 'application/jsonp', '+json', 'text/json-seq']) assert.ok(!isJsonMediaType(t), String(t));
  const lines: string[] = [];
  const filter = compileJsonBodyFilter({ maxBytes: 10, remove: [['a']], rename: [], set: [] }, 'request', NO_PROXY, (_c, reason) => lines.push(reason));
  const ctx = requestContext();
  assert.equal(filter.apply(ctx, Buffer.from('{"a":1,"b":2}'))!.toString(), '{"b":2}');
  assert.equal(filter.apply(ctx, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), undefined, 'invalid UTF-8 is not JSON');
  assert.equal(filter.wants(ctx, 'application/json', 'gzip'), false);
  assert.equal(filter.wants(ctx, 'application/json', 'identity'), true);
  assert.deepEqual(lines, ['request body passed unchanged: it does not parse as JSON', 'request body passed unchanged: it is content-encoded ("gzip")']);
  const said: string[] = [];
  const chain = compileFilterChain([{ kind: 'transform', transform: { policy: 'transformpolicy/default/t', request: { body: { maxBytes: 10, remove: [], rename: [], set: [] } } } }], { ...localFilterDeps(), log: (l) => said.push(l) });
  chain.requestBody!.apply(ctx, Buffer.from('{'));
  chain.requestBody!.apply(ctx, Buffer.from('{'));
  assert.equal(said.length, 1, 'once per route and reason');
  assert.match(said[0]!, /^isthmus: transformpolicy\/default\/t on route httproute\/default\/orders\/rule\/0: request body passed unchanged/);
  assert.equal(chain.responseBody, undefined);
  assert.equal(compileFilterChain([], localFilterDeps()), EMPTY_CHAIN, 'routes without filters share the empty chain');
  assert.equal(EMPTY_CHAIN.requestBody, undefined);
});
