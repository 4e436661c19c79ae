// JWT: real RS256 tokens signed with jose, keys served by a real JWKS server on loopback (or
// inline). Every refusal is checked for its 401, its RFC 6750 challenge and the absence of a consumer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { base64url, exportJWK, exportSPKI } from 'jose';
import { ManualClock } from '../../../src/core/clock.js';
import { CLAIMS_ATTRIBUTE, compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import type { FilterOutcome } from '../../../src/dataplane/filters/filter-types.js';
import type { IrAuthn, IrJwtMethod } from '../../../src/ir/apim.js';
import { AUDIENCE, consumer, contextOf, headerValues, ISSUER, NOW_SEC, rsaKey, signToken, startJwksServer, type SigningKey } from './auth-fixtures.js';

function jwtMethod(jwks: IrJwtMethod['jwks'], extra: Partial<IrJwtMethod> = {}): IrJwtMethod {
  return {
    kind: 'jwt',
    issuer: ISSUER,
    audiences: [AUDIENCE, 'other-api'],
    algorithms: ['RS256'],
    jwks,
    clockSkewSec: 30,
    from: { header: { name: 'authorization', prefix: 'Bearer ' }, query: 'access_token' },
    consumerClaim: 'sub',
    consumers: { alice: consumer('default/acme', ['gold', 'beta'], 'default/gold') },
    ...extra,
  };
}

function authnOf(method: IrJwtMethod): IrAuthn {
  return { policy: 'authpolicy/default/orders', realm: 'orders', missing: 'deny', methods: [method] };
}

interface Bed {
  key: SigningKey;
  clock: ManualClock;
  cache: JwksCache;
  run(token: string | undefined, method?: IrJwtMethod, where?: 'header' | 'query'): Promise<{ outcome: FilterOutcome; ctx: ReturnType<typeof contextOf> }>;
}

async function inlineBed(): Promise<Bed> {
  const key = await rsaKey('k1');
  const clock = new ManualClock(NOW_SEC * 1000, 0);
  const cache = new JwksCache({ clock });
  const base = jwtMethod({ kind: 'inline', keys: [key.jwk as Record<string, unknown>] });
  return {
    key,
    clock,
    cache,
    async run(token, method = base, where = 'header') {
      const { request } = compileAuthn(authnOf(method), { clock, jwks: cache });
      const ctx = token === undefined ? contextOf() : where === 'header' ? contextOf({ headers: { authorization: `Bearer ${token}` } }) : contextOf({ query: `?access_token=${token}` });
      return { outcome: await request(ctx), ctx };
    },
  };
}

function assertRefused(outcome: FilterOutcome, description: string): void {
  assert.equal(outcome.kind, 'respond', `expected a 401 (${description})`);
  if (outcome.kind !== 'respond') return;
  assert.equal(outcome.status, 401);
  assert.deepEqual(headerValues(outcome.headers, 'www-authenticate'), [`Bearer realm="orders", error="invalid_token", error_description="${description}"`]);
  assert.equal(JSON.parse(outcome.body!).message, description);
}

test('jwt: a valid token sets the mapped consumer and the verified claims; the header and the query both work', async () => {
  const bed = await inlineBed();
  const token = await signToken(bed.key, { scope: 'orders:read' });
  for (const where of ['header', 'query'] as const) {
    const { outcome, ctx } = await bed.run(token, undefined, where);
    assert.deepEqual(outcome, { kind: 'continue' }, where);
    assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'default/acme', groups: ['gold', 'beta'], plan: 'default/gold' });
    const claims = ctx.attributes.get(CLAIMS_ATTRIBUTE) as Record<string, unknown>;
    assert.equal(claims.scope, 'orders:read');
    assert.equal(claims.iss, ISSUER);
  }
});

test('jwt: an unknown subject is consumer `jwt:<sub>` without groups or plan; no subject, no consumer', async () => {
  const bed = await inlineBed();
  const { ctx } = await bed.run(await signToken(bed.key, { sub: 'default/acme' }));
  assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'jwt:default/acme', groups: [] }, 'a sub that reads like a Consumer name borrows nothing');
  const proto = await bed.run(await signToken(bed.key, { sub: '__proto__' }));
  assert.deepEqual(proto.ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'jwt:__proto__', groups: [] });
  const none = await bed.run(await signToken(bed.key, { sub: undefined }));
  assert.deepEqual(none.outcome, { kind: 'continue' });
  assert.equal(none.ctx.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  assert.ok(none.ctx.attributes.get(CLAIMS_ATTRIBUTE) !== undefined);
});

test('jwt: expired, not yet valid, issued in the future: refused beyond the clock skew, accepted within it', async () => {
  const bed = await inlineBed();
  assertRefused((await bed.run(await signToken(bed.key, { exp: NOW_SEC - 31 }))).outcome, 'token expired');
  assert.equal((await bed.run(await signToken(bed.key, { exp: NOW_SEC - 29 }))).outcome.kind, 'continue', 'within the 30 s skew');
  assertRefused((await bed.run(await signToken(bed.key, { nbf: NOW_SEC + 31 }))).outcome, 'token not yet valid');
  assert.equal((await bed.run(await signToken(bed.key, { nbf: NOW_SEC + 29 }))).outcome.kind, 'continue');
  assertRefused((await bed.run(await signToken(bed.key, { iat: NOW_SEC + 31 }))).outcome, 'token issued in the future');
  // The injected clock, not Date.now(): the same token expires when the clock moves.
  const token = await signToken(bed.key, { exp: NOW_SEC + 60 });
  assert.equal((await bed.run(token)).outcome.kind, 'continue');
  bed.clock.advance(91_000);
  assertRefused((await bed.run(token)).outcome, 'token expired');
});

test('jwt: wrong audience, wrong issuer, tampered payload or signature are refused', async () => {
  const bed = await inlineBed();
  assertRefused((await bed.run(await signToken(bed.key, { aud: 'billing-api' }))).outcome, 'unexpected audience');
  assert.equal((await bed.run(await signToken(bed.key, { aud: ['billing-api', 'other-api'] }))).outcome.kind, 'continue', 'any one audience suffices');
  assertRefused((await bed.run(await signToken(bed.key, { iss: 'https://evil.example' }))).outcome, 'unexpected issuer');

  const token = await signToken(bed.key);
  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(p))), sub: 'mallory' }));
  assertRefused((await bed.run(`${h}.${forged}.${s}`)).outcome, 'invalid signature');
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
  assertRefused((await bed.run(`${h}.${p}.${flipped}`)).outcome, 'invalid signature');
  // Signed by another key under the same kid.
  const other = await rsaKey('k1');
  assertRefused((await bed.run(await signToken(other))).outcome, 'invalid signature');
  // Empty audiences: aud not checked.
  const anyAud = jwtMethod({ kind: 'inline', keys: [bed.key.jwk as Record<string, unknown>] }, { audiences: [] });
  assert.equal((await bed.run(await signToken(bed.key, { aud: 'whatever' }), anyAud)).outcome.kind, 'continue');
});

test('jwt: `alg: none` is refused, even when the policy lists `none`', async () => {
  const bed = await inlineBed();
  const enc = (o: object): string => base64url.encode(JSON.stringify(o));
  const unsecured = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: NOW_SEC + 60 })}.`;
  assertRefused((await bed.run(unsecured)).outcome, 'algorithm none not allowed');
  const listsNone = jwtMethod({ kind: 'inline', keys: [bed.key.jwk as Record<string, unknown>] }, { algorithms: ['RS256', 'none'] });
  const { outcome, ctx } = await bed.run(unsecured, listsNone);
  assertRefused(outcome, 'algorithm none not allowed');
  assert.equal(ctx.attributes.get(CONSUMER_ATTRIBUTE), undefined);
});

test('jwt: HS256 "signed" with the RSA public key (PEM or JWK as the HMAC secret) is refused, even when HS256 is allowed', async () => {
  const bed = await inlineBed();
  const enc = (o: object): string => base64url.encode(JSON.stringify(o));
  const payload = enc({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW_SEC, exp: NOW_SEC + 60 });
  const pem = await exportSPKI(bed.key.publicKey);
  const jwkText = JSON.stringify(await exportJWK(bed.key.publicKey));
  for (const secret of [pem, jwkText, JSON.stringify(bed.key.jwk)]) {
    const header = enc({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    const token = `${header}.${payload}.${mac}`;
    assertRefused((await bed.run(token)).outcome, 'algorithm HS256 not allowed');
    // A policy that wrongly lists HS256 still never uses a public key as an HMAC secret.
    const careless = jwtMethod({ kind: 'inline', keys: [bed.key.jwk as Record<string, unknown>] }, { algorithms: ['RS256', 'HS256'] });
    const { outcome, ctx } = await bed.run(token, careless);
    assert.equal(outcome.kind, 'respond');
    assert.equal((outcome as { status: number }).status, 401);
    assert.equal(ctx.attributes.get(CONSUMER_ATTRIBUTE), undefined);
  }
});

test('jwt: malformed Authorization headers are 401; other schemes are not this method\'s', async () => {
  const bed = await inlineBed();
  const { request } = compileAuthn(authnOf(jwtMethod({ kind: 'inline', keys: [bed.key.jwk as Record<string, unknown>] })), { clock: bed.clock, jwks: bed.cache });
  const valid = await signToken(bed.key);
  for (const value of ['Bearer', 'Bearer ', 'Bearer not.a.jwt', 'Bearer a.b', 'Bearer %%%', `Bearer ${valid} extra`, `Bearer ${valid.slice(0, -3)}`]) {
    const outcome = await request(contextOf({ headers: { authorization: value } }));
    assert.equal(outcome.kind, 'respond', value);
    const challenge = headerValues((outcome as { headers?: string[] }).headers, 'www-authenticate')[0]!;
    assert.match(challenge, /^Bearer realm="orders", error="invalid_token", error_description="[^"]+"$/, value);
  }
  // The scheme is case-insensitive (RFC 9110 §11.1).
  assert.equal((await request(contextOf({ headers: { authorization: `bEaReR ${valid}` } }))).kind, 'continue');
  // `Basic ...` or `Bearerxyz` is no bearer token: missing credentials, and no error code (RFC 6750 §3.1).
  for (const value of ['Basic YWxpY2U6cHc=', `Bearer${valid}`]) {
    const outcome = await request(contextOf({ headers: { authorization: value } }));
    assert.deepEqual(headerValues((outcome as { headers?: string[] }).headers, 'www-authenticate'), ['Bearer realm="orders"'], value);
  }
});

test('jwt: remote JWKS: an unknown kid refetches once (rate-limited), then the rotated key works', async (t) => {
  const k1 = await rsaKey('k1');
  const k2 = await rsaKey('k2');
  const server = await startJwksServer([k1.jwk]);
  t.after(() => server.close());
  const clock = new ManualClock(NOW_SEC * 1000, 0);
  const cache = new JwksCache({ clock });
  const method = jwtMethod({ kind: 'remote', url: server.url, cacheMs: 600_000 });
  const { request } = compileAuthn(authnOf(method), { clock, jwks: cache });
  const run = async (token: string): Promise<FilterOutcome> => request(contextOf({ headers: { authorization: `Bearer ${token}` } }));

  assert.equal((await run(await signToken(k1))).kind, 'continue');
  assert.equal(server.fetches(), 1);
  assert.equal((await run(await signToken(k1))).kind, 'continue');
  assert.equal(server.fetches(), 1, 'cached');

  // The issuer rotates: k2 published. Within the 10 s cooldown of the first fetch, no refetch.
  server.setKeys([k2.jwk]);
  assertRefused(await run(await signToken(k2)), 'no signing key matches the token');
  assert.equal(server.fetches(), 1, 'an unknown kid right after a fetch waits for the cooldown');

  clock.advance(10_000);
  // Many concurrent requests with the new kid: one refetch between them.
  const outcomes = await Promise.all([1, 2, 3, 4, 5].map(async () => run(await signToken(k2))));
  assert.deepEqual(outcomes.map((o) => o.kind), ['continue', 'continue', 'continue', 'continue', 'continue']);
  assert.equal(server.fetches(), 2);

  // A kid that does not exist even after the refetch: at most one fetch per cooldown, however many tries.
  const ghost = await rsaKey('ghost');
  clock.advance(10_000);
  for (let i = 0; i < 5; i++) assertRefused(await run(await signToken(ghost)), 'no signing key matches the token');
  assert.equal(server.fetches(), 3);
  // k1 was rotated out: its tokens fail now.
  assertRefused(await run(await signToken(k1)), 'no signing key matches the token');
  assert.equal(server.fetches(), 3);
});

test('jwt: a token without kid is tried against each key of the right type', async () => {
  const bed = await inlineBed();
  const other = await rsaKey('k0');
  const method = jwtMethod({ kind: 'inline', keys: [other.jwk as Record<string, unknown>, bed.key.jwk as Record<string, unknown>] });
  const { outcome } = await bed.run(await signToken(bed.key, {}, { kid: null }), method);
  assert.deepEqual(outcome, { kind: 'continue' });
  const stranger = await rsaKey('k9');
  assertRefused((await bed.run(await signToken(stranger, {}, { kid: null }), method)).outcome, 'invalid signature');
});

test('jwt: JWKS unreachable with no keys held → 401 "signing keys unavailable"', async () => {
  const clock = new ManualClock(NOW_SEC * 1000, 0);
  const cache = new JwksCache({ clock });
  const key = await rsaKey('k1');
  const { request } = compileAuthn(authnOf(jwtMethod({ kind: 'remote', url: 'http://127.0.0.1:1/jwks', cacheMs: 60_000 })), { clock, jwks: cache });
  assertRefused(await request(contextOf({ headers: { authorization: `Bearer ${await signToken(key)}` } })), 'signing keys unavailable');
});

test('jwt: a verified token is cached: the next request is answered without waiting, the time claims are checked again, and changed keys verify it again', async (t) => {
  const k1 = await rsaKey('k1');
  const k2 = await rsaKey('k2');
  const server = await startJwksServer([k1.jwk]);
  t.after(() => server.close());
  const clock = new ManualClock(NOW_SEC * 1000, 0);
  const cache = new JwksCache({ clock });
  const { request } = compileAuthn(authnOf(jwtMethod({ kind: 'remote', url: server.url, cacheMs: 300_000 })), { clock, jwks: cache });
  const ctxOf = (token: string): ReturnType<typeof contextOf> => contextOf({ headers: { authorization: `Bearer ${token}` } });

  const token = await signToken(k1, { exp: NOW_SEC + 120 });
  const first = request(ctxOf(token));
  assert.ok(first instanceof Promise, 'the first sight of a token verifies its signature (asynchronous)');
  assert.deepEqual(await first, { kind: 'continue' });
  const ctx = ctxOf(token);
  const second = request(ctx);
  assert.deepEqual(second, { kind: 'continue' }, 'a cached token is answered synchronously');
  assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'default/acme', groups: ['gold', 'beta'], plan: 'default/gold' });
  assert.equal((ctx.attributes.get(CLAIMS_ATTRIBUTE) as Record<string, unknown>).iss, ISSUER);

  // A tampered copy is another string: not a hit, and refused.
  const [h, p, s] = token.split('.') as [string, string, string];
  assertRefused(await request(ctxOf(`${h}.${p}.${s.slice(0, -2)}AA`)), 'invalid signature');

  // Past exp (plus the 30 s skew), the cached token is refused like any expired one.
  clock.advance(149_000);
  assert.deepEqual(request(ctxOf(token)), { kind: 'continue' }, 'still within exp + skew');
  clock.advance(2_000);
  assertRefused(await request(ctxOf(token)), 'token expired');

  // Keys change: the issuer drops k1. When the held keys go stale and are fetched again, a token
  // cached under the old set is verified again, and now refused.
  const fresh = await signToken(k1, { exp: NOW_SEC + 3600 });
  assert.equal((await request(ctxOf(fresh))).kind, 'continue');
  assert.deepEqual(request(ctxOf(fresh)), { kind: 'continue' }, 'cached');
  server.setKeys([k2.jwk]);
  clock.advance(300_000);
  assertRefused(await request(ctxOf(fresh)), 'no signing key matches the token');
  assert.equal((await request(ctxOf(await signToken(k2, { exp: NOW_SEC + 3600 })))).kind, 'continue');
});
