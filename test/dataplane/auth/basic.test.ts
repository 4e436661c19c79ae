// HTTP Basic: RFC 7617 parsing, bcrypt hashes as htpasswd/PHP write them ($2y$), the success cache
// (observable: a cached check answers synchronously, a bcrypt check through a Promise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { ManualClock } from '../../../src/core/clock.js';
import { BASIC_CACHE_TTL_MS, decodeBasic } from '../../../src/dataplane/filters/auth/basic.js';
import { compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import type { IrAuthn } from '../../../src/ir/apim.js';
import { consumer, contextOf, headerValues } from './auth-fixtures.js';

// From the PHP manual's password_verify example (php.net/password-verify): a `$2y$` hash made by
// crypt_blowfish, the same format `htpasswd -B` writes; the password is `rasmuslerdorf`.
const PHP_2Y_HASH = '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a';
const COLON_PASSWORD = 'p:a:ss word é';

const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

function setup(): { clock: ManualClock; request: ReturnType<typeof compileAuthn>['request'] } {
  const clock = new ManualClock(0, 0);
  const authn: IrAuthn = {
    policy: 'authpolicy/default/admin',
    realm: 'admin "area"',
    missing: 'deny',
    methods: [
      {
        kind: 'basic',
        users: [
          { user: 'rasmus', bcrypt: PHP_2Y_HASH, consumer: consumer('default/rasmus', ['admins']) },
          { user: 'carol', bcrypt: bcrypt.hashSync(COLON_PASSWORD, 4).replace(/^\$2b\$/, '$2a$'), consumer: consumer('default/carol') },
          { user: 'broken', bcrypt: 'not-a-bcrypt-hash', consumer: consumer('default/broken') },
        ],
      },
    ],
  };
  return { clock, request: compileAuthn(authn, { clock, jwks: new JwksCache({ clock }) }).request };
}

test('basic: a $2y$ hash (htpasswd / PHP) verifies; the consumer is set', async () => {
  const { request } = setup();
  const ctx = contextOf({ headers: { authorization: basicAuth('rasmus', 'rasmuslerdorf') } });
  assert.deepEqual(await request(ctx), { kind: 'continue' });
  assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'default/rasmus', groups: ['admins'] });
});

test('basic: the password may hold colons and UTF-8; the scheme is case-insensitive', async () => {
  const { request } = setup();
  const ctx = contextOf({ headers: { authorization: basicAuth('carol', COLON_PASSWORD).replace('Basic', 'bAsIc') } });
  assert.deepEqual(await request(ctx), { kind: 'continue' });
  assert.equal((ctx.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/carol');
  assert.deepEqual(decodeBasic(Buffer.from('a:b:c').toString('base64')), { user: 'a', password: 'b:c' });
  assert.deepEqual(decodeBasic(Buffer.from('a:').toString('base64')), { user: 'a', password: '' });
  // Unpadded base64 (some clients drop the padding).
  assert.deepEqual(decodeBasic(Buffer.from('ab:c').toString('base64').replace(/=+$/, '')), { user: 'ab', password: 'c' });
});

test('basic: wrong password, unknown user and a broken stored hash get the same 401 and challenge', async () => {
  const { request } = setup();
  for (const [user, password] of [['rasmus', 'rasmuslerdorF'], ['mallory', 'rasmuslerdorf'], ['broken', 'x'], ['carol', COLON_PASSWORD.split(':')[0]!]]) {
    const ctx = contextOf({ headers: { authorization: basicAuth(user!, password!) } });
    const outcome = await request(ctx);
    assert.equal(outcome.kind, 'respond', `${user}:${password}`);
    if (outcome.kind !== 'respond') continue;
    assert.equal(outcome.status, 401);
    assert.deepEqual(headerValues(outcome.headers, 'www-authenticate'), ['Basic realm="admin \\"area\\"", charset="UTF-8"']);
    assert.equal(JSON.parse(outcome.body!).message, 'invalid user or password');
    assert.equal(ctx.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  }
});

test('basic: malformed credentials are 401, not "missing"', async () => {
  const { request } = setup();
  const malformed = ['Basic', 'Basic !!!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}`, 'Basic YWJj ZGVm', 'Basic a'];
  for (const value of malformed) {
    const outcome = await request(contextOf({ headers: { authorization: value } }));
    assert.equal(outcome.kind === 'respond' && JSON.parse(outcome.body!).message, 'malformed basic credentials', value);
  }
  const other = await request(contextOf({ headers: { authorization: 'Bearer abc.def.ghi' } }));
  assert.equal(other.kind === 'respond' && JSON.parse(other.body!).message, 'missing credentials');
});

test('basic: a verified pair is remembered for the TTL (answered synchronously), a wrong one never', async () => {
  const { clock, request } = setup();
  const headers = { authorization: basicAuth('rasmus', 'rasmuslerdorf') };
  const first = request(contextOf({ headers }));
  assert.ok(first instanceof Promise, 'the first check runs bcrypt');
  assert.equal((await first).kind, 'continue');
  const second = request(contextOf({ headers }));
  assert.ok(!(second instanceof Promise), 'the second is answered from the cache, without bcrypt');
  assert.equal(second.kind, 'continue');

  const wrong = { authorization: basicAuth('rasmus', 'guess') };
  for (let i = 0; i < 2; i++) {
    const o = request(contextOf({ headers: wrong }));
    assert.ok(o instanceof Promise, 'failures are never cached');
    assert.equal((await o).kind, 'respond');
  }

  clock.advance(BASIC_CACHE_TTL_MS);
  const expired = request(contextOf({ headers }));
  assert.ok(expired instanceof Promise, 'after the TTL, bcrypt again');
  assert.equal((await expired).kind, 'continue');
});

test('basic: a new compile (a config reload, e.g. a changed password) starts with an empty cache', async () => {
  const a = setup();
  const headers = { authorization: basicAuth('rasmus', 'rasmuslerdorf') };
  await a.request(contextOf({ headers }));
  assert.ok(!(a.request(contextOf({ headers })) instanceof Promise));
  const b = setup();
  assert.ok(b.request(contextOf({ headers })) instanceof Promise);
});
