// The oidc method's parts without a provider: cookie sealing (round trip, expiry, tampering, one key
// per purpose and per client, the size fallback), the cookie edits, discovery documents, and the
// method inside compileAuthn with a ManualClock: who gets a redirect and who a 401, an expired
// session sent to log in again, a tampered one refused, logout without end_session_endpoint. The
// discovery document comes from a real HTTP server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../src/core/clock.js';
import { CLAIMS_ATTRIBUTE, compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import { stripCookies } from '../../../src/dataplane/filters/auth/oidc-cookies.js';
import { OidcDiscoveryCache, parseProviderMetadata } from '../../../src/dataplane/filters/auth/oidc-discovery.js';
import { isBrowserNavigation, returnPath } from '../../../src/dataplane/filters/auth/oidc-login.js';
import { createCookieSealer, MAX_COOKIE_VALUE_BYTES } from '../../../src/dataplane/filters/auth/oidc-session.js';
import type { FilterOutcome } from '../../../src/dataplane/filters/filter-types.js';
import type { IrAuthn, IrOidcMethod } from '../../../src/ir/apim.js';
import { requestContext } from '../../support/request-context.js';

const SECRET = randomBytes(32);
const NOW_MS = Date.UTC(2030, 4, 17, 12);

test('sealing: a session opens with the same key until it expires; a changed byte, another client or the login key do not open it', async () => {
  const sealer = createCookieSealer(SECRET, 'https://idp.test', 'portal');
  const session = { claims: { sub: 'alice', email: 'alice@example.test' }, idToken: 'a.b.c', expiresAtSec: NOW_MS / 1000 + 3600 };
  const sealed = await sealer.sealSession(session, NOW_MS);
  assert.deepEqual(await sealer.openSession(sealed, NOW_MS + 3_599_000), { kind: 'ok', value: session });
  assert.deepEqual(await sealer.openSession(sealed, NOW_MS + 3_600_000), { kind: 'expired' });

  const parts = sealed.split('.');
  for (const i of [0, 2, 3, 4]) {
    const p = [...parts];
    p[i] = `${p[i]!.slice(0, 5)}${p[i]![5] === 'A' ? 'B' : 'A'}${p[i]!.slice(6)}`;
    assert.deepEqual(await sealer.openSession(p.join('.'), NOW_MS), { kind: 'invalid' }, `part ${i} changed`);
  }
  assert.deepEqual(await sealer.openSession('not-a-jwe', NOW_MS), { kind: 'invalid' });
  assert.deepEqual(await createCookieSealer(SECRET, 'https://idp.test', 'other-client').openSession(sealed, NOW_MS), { kind: 'invalid' });
  assert.deepEqual(await createCookieSealer(randomBytes(32), 'https://idp.test', 'portal').openSession(sealed, NOW_MS), { kind: 'invalid' });

  // A login cookie is sealed with a key of its own: it never passes as a session, nor the reverse.
  const login = await sealer.sealLogin({ state: 's', nonce: 'n', verifier: 'v', returnTo: '/x?y=1' }, NOW_MS, 600);
  assert.deepEqual(await sealer.openSession(login, NOW_MS), { kind: 'invalid' });
  assert.deepEqual(await sealer.openLogin(sealed, NOW_MS), { kind: 'invalid' });
  assert.deepEqual(await sealer.openLogin(login, NOW_MS + 599_000), { kind: 'ok', value: { state: 's', nonce: 'n', verifier: 'v', returnTo: '/x?y=1' } });
  assert.deepEqual(await sealer.openLogin(login, NOW_MS + 600_000), { kind: 'expired' });
});

test('sealing: a session too large for a cookie drops the ID token, then all but the core claims', async () => {
  const sealer = createCookieSealer(SECRET, 'https://idp.test', 'portal');
  const claims = { iss: 'https://idp.test', sub: 'alice', aud: 'portal', exp: 1, iat: 1, bulky: 'x'.repeat(1000) };
  const withoutToken = await sealer.openSession(await sealer.sealSession({ claims, idToken: 'y'.repeat(3000), expiresAtSec: NOW_MS / 1000 + 60 }, NOW_MS), NOW_MS);
  assert.ok(withoutToken.kind === 'ok');
  assert.equal(withoutToken.value.idToken, undefined);
  assert.equal(withoutToken.value.claims.bulky, claims.bulky);
  const sealed = await sealer.sealSession({ claims: { ...claims, bulky: 'x'.repeat(4000) }, expiresAtSec: NOW_MS / 1000 + 60 }, NOW_MS);
  assert.ok(sealed.length <= MAX_COOKIE_VALUE_BYTES);
  const core = await sealer.openSession(sealed, NOW_MS);
  assert.ok(core.kind === 'ok');
  assert.deepEqual(core.value.claims, { iss: 'https://idp.test', sub: 'alice', aud: 'portal', exp: 1, iat: 1 });
});

test('stripCookies removes the named cookies from every Cookie field and drops a field left empty', () => {
  const headers = ['Cookie', 'theme=dark; isthmus_session=abc;  lang=en', 'x-other', 'isthmus_session=1', 'cookie', 'isthmus_session_login=z; isthmus_session=q'];
  stripCookies(headers, new Set(['isthmus_session', 'isthmus_session_login']));
  assert.deepEqual(headers, ['Cookie', 'theme=dark; lang=en', 'x-other', 'isthmus_session=1']);
});

test('discovery documents: the issuer must match exactly; endpoints https or loopback http; asymmetric ID token algorithms only', () => {
  const doc = { issuer: 'https://idp.test', authorization_endpoint: 'https://idp.test/auth', token_endpoint: 'https://idp.test/token', jwks_uri: 'https://idp.test/jwks' };
  assert.deepEqual(parseProviderMetadata(doc, 'https://idp.test'), { issuer: 'https://idp.test', authorizationEndpoint: 'https://idp.test/auth', tokenEndpoint: 'https://idp.test/token', jwksUri: 'https://idp.test/jwks', idTokenAlgorithms: ['RS256'] });
  assert.match(String(parseProviderMetadata(doc, 'https://idp.test/')), /names issuer "https:\/\/idp.test", expected "https:\/\/idp.test\/"/);
  assert.match(String(parseProviderMetadata({ ...doc, token_endpoint: 'http://idp.test/token' }, 'https://idp.test')), /token_endpoint http:\/\/idp.test\/token is neither https nor http on a loopback address/);
  assert.match(String(parseProviderMetadata({ ...doc, jwks_uri: undefined }, 'https://idp.test')), /no jwks_uri/);
  const local = parseProviderMetadata({ ...doc, issuer: 'http://127.0.0.1:9', token_endpoint: 'http://127.0.0.1:9/token', id_token_signing_alg_values_supported: ['HS256', 'none', 'ES256'] }, 'http://127.0.0.1:9');
  assert.ok(typeof local !== 'string');
  assert.deepEqual(local.idTokenAlgorithms, ['ES256']);
});

test('a browser navigation is a GET or HEAD asking for HTML (or Sec-Fetch-Mode: navigate); anything else is an API call', () => {
  const html = 'text/html,application/xhtml+xml,*/*;q=0.8';
  assert.equal(isBrowserNavigation(requestContext({ headers: { accept: html } })), true);
  assert.equal(isBrowserNavigation(requestContext({ method: 'HEAD', headers: { accept: html } })), true);
  assert.equal(isBrowserNavigation(requestContext({ headers: { 'sec-fetch-mode': 'navigate' } })), true);
  assert.equal(isBrowserNavigation(requestContext({ headers: { accept: 'application/json' } })), false);
  assert.equal(isBrowserNavigation(requestContext({ headers: { accept: '*/*' } })), false, 'curl');
  assert.equal(isBrowserNavigation(requestContext({ method: 'POST', headers: { accept: html } })), false);
});

test('the page to return to is a path on this site: never one a browser would read as another host', () => {
  assert.equal(returnPath(requestContext({ path: '/app/page' })), '/app/page');
  assert.equal(returnPath(requestContext({ path: '//evil.example/x' })), '/');
  assert.equal(returnPath(requestContext({ path: '/\\evil.example/x' })), '/');
  assert.equal(returnPath(requestContext({ path: '*' })), '/');
});

async function discoveryServer(t: { after(fn: () => unknown): void }, endSession: boolean): Promise<string> {
  let issuer = '';
  const server = http.createServer((req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, ...(endSession ? { end_session_endpoint: `${issuer}/logout` } : {}) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return issuer;
}

function oidcAuthn(issuer: string, clock: ManualClock, discovery: OidcDiscoveryCache, extra: Partial<IrOidcMethod> = {}) {
  const method: IrOidcMethod = {
    kind: 'oidc', issuer, clientId: 'portal', clientSecret: 's', tokenEndpointAuth: 'client_secret_basic', redirectPath: '/oauth2/callback', logoutPath: '/oauth2/logout',
    scopes: ['openid'], cookieName: 'sess', sessionTtlMs: 3_600_000, cookieSecret: SECRET.toString('base64'), discoveryCacheMs: 3_600_000, clockSkewSec: 60, consumerClaim: 'sub',
    consumers: { alice: { name: 'default/alice', groups: ['staff'] } }, ...extra,
  };
  const ir: IrAuthn = { policy: 'authpolicy/default/portal', realm: 'portal', missing: 'deny', methods: [method] };
  return compileAuthn(ir, { clock, jwks: new JwksCache({ clock }), oidc: discovery });
}

function headerOf(outcome: FilterOutcome, name: string): string[] {
  const h = outcome.kind === 'respond' ? outcome.headers ?? [] : [];
  return h.flatMap((v, i) => (i % 2 === 0 && v === name ? [h[i + 1]!] : []));
}

test('the method: sessions authenticate; without one a browser is redirected and an API client gets 401; expired → log in again', async (t) => {
  const issuer = await discoveryServer(t, false);
  const clock = new ManualClock(NOW_MS, 0);
  const discovery = new OidcDiscoveryCache({ clock });
  const authn = oidcAuthn(issuer, clock, discovery);
  const sealer = createCookieSealer(SECRET, issuer, 'portal');
  const cookie = await sealer.sealSession({ claims: { iss: issuer, sub: 'alice', email: 'a@x' }, expiresAtSec: NOW_MS / 1000 + 3600 }, NOW_MS);
  const html = { accept: 'text/html' };

  const ctx = requestContext({ headers: { cookie: `sess=${cookie}`, accept: 'application/json' } });
  assert.deepEqual(await authn.request(ctx), { kind: 'continue' });
  assert.deepEqual(ctx.attributes.get(CONSUMER_ATTRIBUTE), { name: 'default/alice', groups: ['staff'] });
  assert.equal((ctx.attributes.get(CLAIMS_ATTRIBUTE) as Record<string, unknown>).email, 'a@x');
  // A subject no Consumer declares: `oidc:<sub>`.
  const bob = requestContext({ headers: { cookie: `sess=${await sealer.sealSession({ claims: { sub: 'bob' }, expiresAtSec: NOW_MS / 1000 + 60 }, NOW_MS)}` } });
  await authn.request(bob);
  assert.deepEqual(bob.attributes.get(CONSUMER_ATTRIBUTE), { name: 'oidc:bob', groups: [] });

  const redirect = await authn.request(requestContext({ path: '/app', authority: 'portal.test:8080', headers: html }));
  assert.equal(redirect.kind === 'respond' && redirect.status, 302);
  const location = new URL(headerOf(redirect, 'location')[0]!);
  assert.equal(location.searchParams.get('redirect_uri'), 'http://portal.test:8080/oauth2/callback');
  assert.match(headerOf(redirect, 'set-cookie')[0]!, /^sess_login=.+; Path=\/oauth2\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/);
  const api = await authn.request(requestContext({ headers: { accept: 'application/json' } }));
  assert.equal(api.kind === 'respond' && api.status, 401);
  assert.deepEqual(headerOf(api, 'www-authenticate'), ['Cookie realm="portal", cookie-name="sess"']);
  assert.equal(discovery.fetchCount, 1, 'the document is fetched once and cached');

  clock.advance(3_600_000);
  const expiredBrowser = await authn.request(requestContext({ headers: { ...html, cookie: `sess=${cookie}` } }));
  assert.equal(expiredBrowser.kind === 'respond' && expiredBrowser.status, 302, 'an expired session starts a fresh login');
  const expiredApi = await authn.request(requestContext({ headers: { cookie: `sess=${cookie}` } }));
  assert.equal(expiredApi.kind === 'respond' && expiredApi.status, 401);
  assert.equal(expiredApi.kind === 'respond' && JSON.parse(expiredApi.body!).message, 'missing credentials');

  const tampered = await authn.request(requestContext({ headers: { ...html, cookie: `sess=${cookie.slice(0, -3)}AAA` } }));
  assert.equal(tampered.kind === 'respond' && tampered.status, 401);
  assert.deepEqual(headerOf(tampered, 'set-cookie'), ['sess=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);

  // The session and login cookies never go upstream.
  const draft = { headers: ['cookie', `a=1; sess=${cookie}; sess_login=x`], path: '/app', matchedPath: '/app' };
  authn.backendRequest(requestContext(), draft);
  assert.deepEqual(draft.headers, ['cookie', 'a=1']);
});

test('the method: logout without an end_session_endpoint goes to postLogoutRedirectUri, else /; a callback without a login is 401', async (t) => {
  const issuer = await discoveryServer(t, false);
  const clock = new ManualClock(NOW_MS, 0);
  const plain = oidcAuthn(issuer, clock, new OidcDiscoveryCache({ clock }));
  const out = await plain.request(requestContext({ path: '/oauth2/logout', headers: { cookie: 'sess=whatever' } }));
  assert.equal(out.kind === 'respond' && out.status, 302);
  assert.deepEqual(headerOf(out, 'location'), ['/']);
  assert.deepEqual(headerOf(out, 'set-cookie'), ['sess=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
  const elsewhere = oidcAuthn(issuer, clock, new OidcDiscoveryCache({ clock }), { postLogoutRedirectUri: 'https://portal.test/bye' });
  assert.deepEqual(headerOf(await elsewhere.request(requestContext({ path: '/oauth2/logout' })), 'location'), ['https://portal.test/bye']);

  const callback = await plain.request(requestContext({ path: '/oauth2/callback', headers: { accept: 'text/html' } }));
  assert.equal(callback.kind === 'respond' && callback.status, 401);
  assert.equal(callback.kind === 'respond' && JSON.parse(callback.body!).message, 'no login in progress');
});

test('the method: a provider that cannot be reached answers 503 to a browser, never a crash', async () => {
  const clock = new ManualClock(NOW_MS, 0);
  const authn = oidcAuthn('http://127.0.0.1:9', clock, new OidcDiscoveryCache({ clock, timeoutMs: 2000 }));
  const out = await authn.request(requestContext({ headers: { accept: 'text/html' } }));
  assert.equal(out.kind === 'respond' && out.status, 503);
  assert.equal(out.kind === 'respond' && out.details, 'oidc_provider_unavailable');
});
