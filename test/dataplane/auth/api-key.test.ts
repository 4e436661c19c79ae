// API keys: found in the configured place only, matched by SHA-256, synchronous, and a key in the
// wrong place is no key at all (so `missing` decides, not "unknown key").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import { ManualClock } from '../../../src/core/clock.js';
import type { IrApiKeyMethod, IrAuthn } from '../../../src/ir/apim.js';
import { consumer, contextOf, headerValues } from './auth-fixtures.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const ACME_KEY = 'isk_acme-0123456789';
const GLOBEX_KEY = 'isk_globex-abcdef';

function authn(from: IrApiKeyMethod['from'], missing: IrAuthn['missing'] = 'deny'): IrAuthn {
  return {
    policy: 'authpolicy/default/partners',
    realm: 'partners',
    missing,
    methods: [
      {
        kind: 'api-key',
        from,
        keys: [
          { sha256: sha(ACME_KEY), consumer: consumer('default/acme', ['gold']) },
          // Upper-case hex in the IR still matches (the digest is compared lower case).
          { sha256: sha(GLOBEX_KEY).toUpperCase(), consumer: consumer('default/globex') },
        ],
      },
    ],
  };
}

const deps = { clock: new ManualClock(), jwks: new JwksCache({ clock: new ManualClock() }) };

test('api key: a valid key in the header sets the consumer, synchronously', () => {
  const { request } = compileAuthn(authn({ header: 'x-api-key' }), deps);
  const ctx = contextOf({ headers: { 'x-api-key': ACME_KEY } });
  const outcome = request(ctx);
  assert.ok(!(outcome instanceof Promise), 'API keys need no I/O: the request phase stays synchronous');
  assert.deepEqual(outcome, { kind: 'continue' });
  assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'default/acme', groups: ['gold'] });

  const other = contextOf({ headers: { 'x-api-key': GLOBEX_KEY } });
  assert.equal((request(other) as { kind: string }).kind, 'continue');
  assert.equal((other.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/globex');
});

test('api key: query parameter (percent-decoded) and cookie (quoted or not) are read when configured', () => {
  const { request } = compileAuthn(authn({ query: 'api_key', cookie: 'isthmus_key' }), deps);
  const q = contextOf({ query: `?a=1&api_key=${encodeURIComponent(ACME_KEY)}` });
  assert.equal((request(q) as { kind: string }).kind, 'continue');
  assert.equal((q.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/acme');

  const c = contextOf({ headers: { cookie: `theme=dark; isthmus_key="${GLOBEX_KEY}"; other=1` } });
  assert.equal((request(c) as { kind: string }).kind, 'continue');
  assert.equal((c.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/globex');
});

test('api key: an unknown key is 401 with an ApiKey challenge; never a consumer', () => {
  const { request } = compileAuthn(authn({ header: 'x-api-key' }), deps);
  const ctx = contextOf({ headers: { 'x-api-key': 'isk_wrong' } });
  const outcome = request(ctx);
  assert.ok(!(outcome instanceof Promise));
  assert.equal(outcome.kind, 'respond');
  if (outcome.kind !== 'respond') return;
  assert.equal(outcome.status, 401);
  assert.equal(outcome.details, 'unauthorized');
  assert.deepEqual(headerValues(outcome.headers, 'www-authenticate'), ['ApiKey realm="partners"']);
  assert.deepEqual(JSON.parse(outcome.body!), { status: 401, reason: 'unauthorized', message: 'unknown API key', request_id: 'req-1' });
  assert.equal(ctx.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  // A prefix or a suffix of a real key is just as unknown.
  for (const near of [ACME_KEY.slice(0, -1), `${ACME_KEY}x`, ACME_KEY.toUpperCase(), '']) {
    const o = request(contextOf({ headers: { 'x-api-key': near } })) as { kind: string; status?: number };
    assert.equal(o.status, 401, JSON.stringify(near));
  }
});

test('api key: a key in the wrong place is no credentials (deny → 401 "missing", allow → anonymous)', () => {
  const deny = compileAuthn(authn({ header: 'x-api-key' }, 'deny'), deps).request;
  const inQuery = contextOf({ query: `?x-api-key=${ACME_KEY}&api_key=${ACME_KEY}` });
  const outcome = deny(inQuery) as { kind: string; status?: number; body?: string };
  assert.equal(outcome.status, 401);
  assert.equal(JSON.parse(outcome.body!).message, 'missing credentials');
  assert.equal(inQuery.attributes.get(CONSUMER_ATTRIBUTE), undefined);

  const allow = compileAuthn(authn({ header: 'x-api-key' }, 'allow'), deps).request;
  const anon = contextOf({ headers: { authorization: `Bearer ${ACME_KEY}`, cookie: `x-api-key=${ACME_KEY}` } });
  assert.deepEqual(allow(anon), { kind: 'continue' });
  assert.equal(anon.attributes.get(CONSUMER_ATTRIBUTE), undefined, 'anonymous: no consumer');
});

test('api key: header first, then query, then cookie; the first place found decides', () => {
  const { request } = compileAuthn(authn({ header: 'x-api-key', query: 'api_key' }), deps);
  // A wrong key in the header is not rescued by a right one in the query.
  const o = request(contextOf({ headers: { 'x-api-key': 'isk_wrong' }, query: `?api_key=${ACME_KEY}` })) as { status?: number };
  assert.equal(o.status, 401);
  const ok = contextOf({ headers: { 'x-api-key': GLOBEX_KEY }, query: `?api_key=${ACME_KEY}` });
  request(ok);
  assert.equal((ok.attributes.get(CONSUMER_ATTRIBUTE) as { name: string }).name, 'default/globex');
});
