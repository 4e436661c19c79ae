// compileAuthn across methods: order, "the first that finds credentials decides", one challenge
// per method, missing deny/allow, and the forward headers (client copies removed first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { ManualClock } from '../../../src/core/clock.js';
import { CLAIMS_ATTRIBUTE, compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import type { IrAuthn } from '../../../src/ir/apim.js';
import { AUDIENCE, consumer, contextOf, draftOf, headerValues, ISSUER, NOW_SEC, rsaKey, signToken, type SigningKey } from './auth-fixtures.js';

const KEY = 'isk_partner';

async function policy(missing: IrAuthn['missing'], forward?: IrAuthn['forward']): Promise<{ key: SigningKey; authn: ReturnType<typeof compileAuthn> }> {
  const key = await rsaKey('k1');
  const clock = new ManualClock(NOW_SEC * 1000, 0);
  const ir: IrAuthn = {
    policy: 'authpolicy/default/mixed',
    realm: 'shop',
    missing,
    ...(forward === undefined ? {} : { forward }),
    methods: [
      { kind: 'api-key', from: { header: 'x-api-key' }, keys: [{ sha256: createHash('sha256').update(KEY).digest('hex'), consumer: consumer('default/partner', ['partners', 'eu']) }] },
      {
        kind: 'jwt',
        issuer: ISSUER,
        audiences: [AUDIENCE],
        algorithms: ['RS256'],
        jwks: { kind: 'inline', keys: [key.jwk as Record<string, unknown>] },
        clockSkewSec: 0,
        from: { header: { name: 'authorization', prefix: 'Bearer ' } },
        consumerClaim: 'sub',
        consumers: { alice: consumer('default/alice', ['staff']) },
      },
      { kind: 'basic', users: [{ user: 'ops', bcrypt: bcrypt.hashSync('s3cret', 4), consumer: consumer('default/ops') }] },
    ],
  };
  return { key, authn: compileAuthn(ir, { clock, jwks: new JwksCache({ clock }) }) };
}

const ALL_CHALLENGES = ['ApiKey realm="shop"', 'Bearer realm="shop"', 'Basic realm="shop", charset="UTF-8"'];

test('authn: each method authenticates on its own; the first that finds credentials decides', async () => {
  const { key, authn } = await policy('deny');
  const byKey = contextOf({ headers: { 'x-api-key': KEY } });
  assert.deepEqual(await authn.request(byKey), { kind: 'continue' });
  assert.equal((byKey.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/partner');

  const byJwt = contextOf({ headers: { authorization: `Bearer ${await signToken(key)}` } });
  assert.deepEqual(await authn.request(byJwt), { kind: 'continue' });
  assert.equal((byJwt.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/alice');

  const byBasic = contextOf({ headers: { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` } });
  assert.deepEqual(await authn.request(byBasic), { kind: 'continue' });
  assert.equal((byBasic.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/ops');

  // A wrong API key with a valid token: the key was found first, so 401, no fall-through.
  const both = contextOf({ headers: { 'x-api-key': 'isk_wrong', authorization: `Bearer ${await signToken(key)}` } });
  const outcome = await authn.request(both);
  assert.equal(outcome.kind === 'respond' && outcome.status, 401);
  assert.equal(both.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  assert.equal(both.attributes.get(CLAIMS_ATTRIBUTE), undefined);
  // A valid key with a bad token: the key decides.
  const keyWins = contextOf({ headers: { 'x-api-key': KEY, authorization: 'Bearer junk' } });
  assert.deepEqual(await authn.request(keyWins), { kind: 'continue' });
});

test('authn: one WWW-Authenticate per method; the refusing method carries the error (RFC 6750 §3)', async () => {
  const { key, authn } = await policy('deny');
  const missing = await authn.request(contextOf());
  assert.equal(missing.kind, 'respond');
  if (missing.kind !== 'respond') return;
  assert.equal(missing.status, 401);
  assert.deepEqual(headerValues(missing.headers, 'www-authenticate'), ALL_CHALLENGES, 'no error code without credentials (§3.1)');
  assert.deepEqual(headerValues(missing.headers, 'cache-control'), ['no-store']);
  assert.equal(missing.contentType, 'application/json');
  assert.deepEqual(JSON.parse(missing.body!), { status: 401, reason: 'unauthorized', message: 'missing credentials', request_id: 'req-1' });

  const expired = await authn.request(contextOf({ headers: { authorization: `Bearer ${await signToken(key, { exp: NOW_SEC - 1 })}` } }));
  assert.deepEqual(headerValues(expired.kind === 'respond' ? expired.headers : [], 'www-authenticate'), [
    'ApiKey realm="shop"',
    'Bearer realm="shop", error="invalid_token", error_description="token expired"',
    'Basic realm="shop", charset="UTF-8"',
  ]);
});

test('authn: missing credentials with allow → anonymous; presented bad credentials are still 401', async () => {
  const { authn } = await policy('allow');
  const anon = contextOf();
  assert.deepEqual(authn.request(anon), { kind: 'continue' }, 'synchronous: no method needed I/O');
  assert.equal(anon.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  const bad = await authn.request(contextOf({ headers: { 'x-api-key': 'isk_wrong' } }));
  assert.equal(bad.kind === 'respond' && bad.status, 401);
  const badToken = await authn.request(contextOf({ headers: { authorization: 'Bearer a.b.c' } }));
  assert.equal(badToken.kind === 'respond' && badToken.status, 401);
});

test('authn: an upgrade request is authenticated like any other', async () => {
  const { key, authn } = await policy('deny');
  const ws = contextOf({ upgrade: true, headers: { authorization: `Bearer ${await signToken(key)}`, upgrade: 'websocket', connection: 'Upgrade' } });
  assert.deepEqual(await authn.request(ws), { kind: 'continue' });
  const refused = await authn.request(contextOf({ upgrade: true, headers: { upgrade: 'websocket' } }));
  assert.equal(refused.kind === 'respond' && refused.status, 401);
});

test('authn forward: client copies are removed, then consumer, groups and claims are set', async () => {
  const forward = { consumerHeader: 'X-Consumer', groupsHeader: 'x-consumer-groups', claims: { sub: 'x-sub', roles: 'X-Roles', note: 'x-note', absent: 'x-absent' } };
  const { key, authn } = await policy('allow', forward);
  const spoofed = ['X-Consumer', 'default/admin', 'x-consumer-groups', 'admins', 'x-sub', 'root', 'X-ROLES', 'all', 'x-absent', 'forged', 'x-other', 'kept', 'authorization', 'Bearer t'];

  // Anonymous: every spoofed copy is gone, nothing is set, unrelated headers stay.
  const anon = contextOf();
  await authn.request(anon);
  const anonDraft = draftOf([...spoofed]);
  authn.backendRequest(anon, anonDraft);
  assert.deepEqual(anonDraft.headers, ['x-other', 'kept', 'authorization', 'Bearer t']);

  // A token: consumer, groups comma-joined, claims (strings as they are, others as JSON, unsafe text escaped).
  const token = await signToken(key, { roles: ['reader', 'writer'], note: 'line1\r\nx-evil: 1' });
  const ctx = contextOf({ headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await authn.request(ctx), { kind: 'continue' });
  const draft = draftOf([...spoofed]);
  authn.backendRequest(ctx, draft);
  assert.deepEqual(headerValues(draft.headers, 'x-consumer'), ['default/alice']);
  assert.deepEqual(headerValues(draft.headers, 'x-consumer-groups'), ['staff']);
  assert.deepEqual(headerValues(draft.headers, 'x-sub'), ['alice']);
  assert.deepEqual(headerValues(draft.headers, 'x-roles'), ['["reader","writer"]']);
  assert.deepEqual(headerValues(draft.headers, 'x-note'), ['"line1\\r\\nx-evil: 1"']);
  assert.deepEqual(headerValues(draft.headers, 'x-absent'), [], 'a claim the token lacks is not forwarded, and the spoofed copy is gone');
  assert.deepEqual(headerValues(draft.headers, 'authorization'), ['Bearer t'], 'credentials go upstream untouched');

  // An API key consumer: groups comma-joined; claims none.
  const keyed = contextOf({ headers: { 'x-api-key': KEY } });
  await authn.request(keyed);
  const keyedDraft = draftOf([...spoofed]);
  authn.backendRequest(keyed, keyedDraft);
  assert.deepEqual(headerValues(keyedDraft.headers, 'x-consumer-groups'), ['partners,eu']);
  assert.deepEqual(headerValues(keyedDraft.headers, 'x-sub'), []);
});
