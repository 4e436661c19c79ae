// OpenID Connect login (AuthPolicy `oidc`) end to end: a real gateway process, a real OpenID
// Provider (oidc-provider with its development login and consent pages, test/support), and a
// scripted browser (cookie jar, redirects, forms) that logs a user in the way a browser does:
// page → 302 to the provider → login form → consent form → 302 to the gateway's callback → 302 back
// to the page, which reaches the backend with the user's consumer and claims. Then the refusals:
// an API client gets 401 (not a redirect), a replayed code, a wrong state, a wrong nonce and a
// tampered session cookie get 401, and logout clears the session and goes to the provider's
// end_session_endpoint. Everything talks over 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { configDir, freePort, serviceYaml, startEcho, startGateway } from './cli-harness.js';
import { OidcLoginProvider } from '../support/oidc-login-provider.js';
import { formOf, ScriptedBrowser, type Page } from '../support/scripted-browser.js';
import { createCookieSealer } from '../../src/dataplane/filters/auth/oidc-session.js';

const HOST = 'portal.oidc.localhost';
const CLIENT_ID = 'portal';
const CLIENT_SECRET = 'portal-secret-Vb3kQ9xZ2m';
const COOKIE_SECRET = randomBytes(32);

interface Echo {
  path: string;
  headers: Record<string, string[]>;
}

function echoHeader(echo: Echo, name: string): string[] | undefined {
  return Object.entries(echo.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

function setCookies(page: Page): string[] {
  return page.headers['set-cookie'] ?? [];
}

async function setup(t: { after(fn: () => unknown): void }) {
  const idpPort = await freePort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  const backend = await startEcho(t, '127.0.0.1', 'portal');
  const dir = configDir(t, {
    'gateway.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: portal-gw, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: ${HOST}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: portal, namespace: default}
spec:
  parentRefs: [{name: portal-gw}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: portal, port: 80}]
`,
    'backend.yaml': serviceYaml(backend),
    'auth.yaml': `apiVersion: v1
kind: Secret
metadata: {name: portal-oidc, namespace: default}
type: Opaque
data:
  clientSecret: ${Buffer.from(CLIENT_SECRET).toString('base64')}
  cookieSecret: ${COOKIE_SECRET.toString('base64')}
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: portal-login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: portal-gw}]
  methods:
    oidc:
      issuer: ${issuer}
      clientId: ${CLIENT_ID}
      clientSecretRef: {name: portal-oidc}
      cookieSecretRef: {name: portal-oidc}
      scopes: [email, groups]
      postLogoutRedirectUri: http://${HOST}/goodbye
  realm: portal
  forward:
    consumerHeader: x-consumer
    groupsHeader: x-consumer-groups
    claims: {email: x-email, sub: x-sub}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: alice, namespace: default}
spec:
  groups: [staff, admins]
  jwtSubjects: [alice]
`,
  });
  const gw = await startGateway(t, { config: [dir] });
  const origin = `http://${HOST}:${gw.httpPort}`;
  const idp = await OidcLoginProvider.start(idpPort, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${origin}/oauth2/callback`, postLogoutRedirectUri: `http://${HOST}/goodbye` });
  t.after(() => idp.close());
  return { idp, gw, origin, issuer };
}

/** From the provider's authorization endpoint to the redirect back to the gateway: login, then consent. */
async function loginAtProvider(browser: ScriptedBrowser, authorizeUrl: string, user: string, origin: string): Promise<URL> {
  const atGateway = (u: URL) => u.origin === origin;
  const loginPage = await browser.navigate(authorizeUrl, { stopBefore: atGateway });
  assert.equal(loginPage.status, 200, loginPage.body);
  const login = formOf(loginPage, 'login');
  const consentPage = await browser.navigate(login.action, { form: { ...login.fields, login: user, password: 'any' }, stopBefore: atGateway });
  const consent = formOf(consentPage, 'prompt');
  assert.equal(consent.fields.prompt, 'consent');
  const back = await browser.navigate(consent.action, { form: consent.fields, stopBefore: atGateway });
  assert.equal(back.status, 303, back.body);
  return new URL(back.headers.location!, back.url);
}

test('OIDC login through a real provider: redirect, login, callback, session, forwarded claims; refusals; logout', { timeout: 60_000 }, async (t) => {
  const { idp, origin, issuer } = await setup(t);
  const browser = new ScriptedBrowser();

  // An API client without a session: 401 with a challenge, never a redirect into a login page.
  const api = await browser.fetch(`${origin}/orders`, { headers: { accept: 'application/json' } });
  assert.equal(api.status, 401, api.body);
  assert.equal(api.headers.location, undefined);
  assert.equal(api.headers['www-authenticate'], 'Cookie realm="portal", cookie-name="isthmus_session"');
  assert.equal(JSON.parse(api.body).message, 'missing credentials');
  // A form POST without a session: 401 too (a redirect would lose the body).
  assert.equal((await browser.fetch(`${origin}/orders`, { form: { a: '1' } })).status, 401);

  // A page load: 302 to the provider, with PKCE S256, state, nonce and a login cookie for the callback only.
  const start = await browser.fetch(`${origin}/app/page?tab=2`);
  assert.equal(start.status, 302, start.body);
  const authorize = new URL(start.headers.location!);
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${issuer}/auth`);
  const q = Object.fromEntries(authorize.searchParams);
  assert.equal(q.response_type, 'code');
  assert.equal(q.client_id, CLIENT_ID);
  assert.equal(q.redirect_uri, `${origin}/oauth2/callback`);
  assert.equal(q.scope, 'openid email groups');
  assert.equal(q.code_challenge_method, 'S256');
  assert.match(q.code_challenge!, /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.state!, /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.nonce!, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(start.headers['cache-control'], 'no-store');
  const [loginCookie] = setCookies(start);
  assert.match(loginCookie!, /^isthmus_session_login=[^;]+; Path=\/oauth2\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/, 'no Secure over plain HTTP');

  // At the provider: its login page, then its consent page, then back to the gateway's callback.
  const callback = await loginAtProvider(browser, authorize.href, 'alice', origin);
  assert.equal(`${callback.origin}${callback.pathname}`, `${origin}/oauth2/callback`);
  assert.equal(callback.searchParams.get('state'), q.state);
  assert.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss, which the gateway checks');
  const usedLoginCookie = browser.cookie(HOST, 'isthmus_session_login')!;

  // The callback: code exchanged, ID token verified, session set, back to the page first asked for.
  const landed = await browser.fetch(callback.href);
  assert.equal(landed.status, 302, landed.body);
  assert.equal(landed.headers.location, '/app/page?tab=2');
  assert.equal(idp.tokenRequests, 1);
  const cookies = setCookies(landed);
  assert.ok(cookies.some((c) => /^isthmus_session=[^;]{20,}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/.test(c)), cookies.join('\n'));
  assert.ok(cookies.some((c) => /^isthmus_session_login=; Path=\/oauth2\/callback; Max-Age=0/.test(c)), 'the login cookie is spent');
  const session = browser.cookie(HOST, 'isthmus_session')!;
  assert.equal(session.split('.').length, 5, 'a compact JWE');
  assert.ok(!Buffer.from(session.split('.')[3]!, 'base64url').toString('latin1').includes('alice'), 'the claims are encrypted, not just signed');

  // The page: the backend sees the consumer, its groups and the ID token's claims, and neither
  // the session cookie nor a client's own x-consumer; the application's own cookies pass.
  browser.setCookie(HOST, 'theme', 'dark');
  const page = await browser.fetch(`${origin}/app/page?tab=2`, { headers: { 'x-consumer': 'default/mallory' } });
  assert.equal(page.status, 200, page.body);
  const echo = JSON.parse(page.body) as Echo;
  assert.deepEqual(echoHeader(echo, 'x-consumer'), ['default/alice']);
  assert.deepEqual(echoHeader(echo, 'x-consumer-groups'), ['staff,admins']);
  assert.deepEqual(echoHeader(echo, 'x-email'), ['alice@example.test']);
  assert.deepEqual(echoHeader(echo, 'x-sub'), ['alice']);
  assert.deepEqual(echoHeader(echo, 'cookie'), ['theme=dark'], 'the session cookie does not go upstream');
  // The session authenticates API calls from the same browser (fetch with JSON) too.
  assert.equal((await browser.fetch(`${origin}/orders`, { headers: { accept: 'application/json' } })).status, 200);

  // The same callback again, with the login cookie it had: the provider refuses the spent code.
  const replay = new ScriptedBrowser();
  replay.setCookie(HOST, 'isthmus_session_login', usedLoginCookie, '/oauth2/callback');
  const replayed = await replay.fetch(callback.href);
  assert.equal(replayed.status, 401, replayed.body);
  assert.equal(JSON.parse(replayed.body).message, 'token endpoint refused the code (invalid_grant)');
  // Without the login cookie (another browser got hold of the URL): refused before any exchange.
  const stranger = await new ScriptedBrowser().fetch(callback.href);
  assert.equal(JSON.parse(stranger.body).message, 'no login in progress');
  assert.equal(idp.tokenRequests, 2);

  // A callback whose state is not the login's (login CSRF): 401, no code exchanged.
  const other = new ScriptedBrowser();
  assert.equal((await other.fetch(`${origin}/elsewhere`)).status, 302);
  const forged = await other.fetch(`${origin}/oauth2/callback?code=x&state=${'A'.repeat(43)}&iss=${encodeURIComponent(issuer)}`);
  assert.equal(forged.status, 401);
  assert.equal(JSON.parse(forged.body).message, 'state does not match the login');
  assert.equal(idp.tokenRequests, 2);

  // A wrong nonce: a real code for this login, but the login cookie (resealed with the gateway's
  // key, which the test knows) remembers another nonce. The ID token's nonce gives it away.
  const sealer = createCookieSealer(COOKIE_SECRET, issuer, CLIENT_ID);
  const third = new ScriptedBrowser();
  const thirdAuthorize = (await third.fetch(`${origin}/third`)).headers.location!;
  const opened = await sealer.openLogin(third.cookie(HOST, 'isthmus_session_login')!, Date.now());
  assert.equal(opened.kind, 'ok');
  if (opened.kind !== 'ok') return;
  third.setCookie(HOST, 'isthmus_session_login', await sealer.sealLogin({ ...opened.value, nonce: 'not-the-nonce' }, Date.now(), 600), '/oauth2/callback');
  const thirdCallback = await loginAtProvider(third, thirdAuthorize, 'bob', origin);
  const wrongNonce = await third.fetch(thirdCallback.href);
  assert.equal(wrongNonce.status, 401, wrongNonce.body);
  assert.equal(JSON.parse(wrongNonce.body).message, 'ID token nonce does not match the login');
  assert.equal(third.cookie(HOST, 'isthmus_session'), undefined);

  // A tampered session cookie (one character of the ciphertext changed): 401, and the cookie is cleared.
  const parts = session.split('.');
  const ct = parts[3]!;
  parts[3] = `${ct.slice(0, 10)}${ct[10] === 'A' ? 'B' : 'A'}${ct.slice(11)}`;
  const tamperer = new ScriptedBrowser();
  tamperer.setCookie(HOST, 'isthmus_session', parts.join('.'));
  const tampered = await tamperer.fetch(`${origin}/app/page`);
  assert.equal(tampered.status, 401, tampered.body);
  assert.equal(JSON.parse(tampered.body).message, 'invalid session');
  assert.ok(setCookies(tampered).some((c) => c.startsWith('isthmus_session=; Path=/; Max-Age=0')));
  // A session cookie sealed for another client (same secret, other client id) does not open either.
  const foreign = await createCookieSealer(COOKIE_SECRET, issuer, 'another-client').sealSession({ claims: { sub: 'alice' }, expiresAtSec: Math.floor(Date.now() / 1000) + 600 }, Date.now());
  tamperer.setCookie(HOST, 'isthmus_session', foreign);
  assert.equal((await tamperer.fetch(`${origin}/app/page`)).status, 401);

  // Logout: the session cookie is cleared and the browser goes to the provider's end_session_endpoint.
  const logout = await browser.fetch(`${origin}/oauth2/logout`);
  assert.equal(logout.status, 302, logout.body);
  const end = new URL(logout.headers.location!);
  assert.equal(`${end.origin}${end.pathname}`, `${issuer}/session/end`);
  assert.equal(end.searchParams.get('client_id'), CLIENT_ID);
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `http://${HOST}/goodbye`);
  assert.equal(end.searchParams.get('id_token_hint')?.split('.').length, 3, 'the ID token as hint');
  assert.ok(setCookies(logout).some((c) => c.startsWith('isthmus_session=; Path=/; Max-Age=0')));
  assert.equal(browser.cookie(HOST, 'isthmus_session'), undefined);
  // The provider asks to confirm, then sends the user to the post-logout URI it has registered.
  const confirmPage = await browser.navigate(end.href);
  const confirm = formOf(confirmPage, 'xsrf');
  const bye = await browser.fetch(confirm.action, { form: { ...confirm.fields, logout: 'yes' } });
  assert.equal(bye.status, 303, bye.body);
  assert.equal(bye.headers.location, `http://${HOST}/goodbye`);
  // Logged out at the gateway: the next page load starts a new login.
  const again = await browser.fetch(`${origin}/app/page`);
  assert.equal(again.status, 302);
  assert.ok(again.headers.location!.startsWith(`${issuer}/auth?`));
});

/** A browser step that fails says which one it was (puppeteer's own timeout message does not). */
async function step<T>(name: string, pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

test('OIDC login in headless Chromium: the provider\'s pages, the session cookie as the browser keeps it, logout', { timeout: 60_000 }, async (t) => {
  assert.ok(CHROMIUM, 'chromium is installed (apt-get install chromium; .ci/run does)');
  const { origin, issuer } = await setup(t);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The page's host is a *.localhost name; the provider's page imports a web font nobody may fetch here.
    args: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP ${HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();

  // The page redirects to the provider's login form: fill it in as a user would.
  await step('open the page (redirected to the provider)', page.goto(`${origin}/app/page?tab=2`, { waitUntil: 'domcontentloaded' }));
  assert.ok(page.url().startsWith(`${issuer}/interaction/`), `first page: ${page.url()}`);
  await step('type the login', page.type('input[name=login]', 'alice'));
  await step('type the password', page.type('input[name=password]', 'secret'));
  await step('submit the login form', Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]));
  // Consent, then back through the gateway's callback to the page asked for.
  await step('submit the consent form', Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]));
  assert.equal(page.url(), `${origin}/app/page?tab=2`);
  const echo = JSON.parse(await page.evaluate(() => document.body.innerText)) as Echo;
  assert.deepEqual(echoHeader(echo, 'x-consumer'), ['default/alice']);
  assert.deepEqual(echoHeader(echo, 'x-email'), ['alice@example.test']);
  assert.equal(echoHeader(echo, 'cookie'), undefined, 'the session cookie does not go upstream');

  // The browser keeps the session HttpOnly and SameSite=Lax: no script on the page can read it.
  const session = (await page.cookies(origin)).find((c) => c.name === 'isthmus_session');
  assert.ok(session !== undefined);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(session.secure, false, 'plain HTTP: a Secure cookie would not be stored');
  assert.equal(await page.evaluate(() => document.cookie), '');
  // A fetch from the page carries the session: the API answers, no login redirect.
  const status = await page.evaluate(async () => (await fetch('/orders', { headers: { accept: 'application/json' } })).status);
  assert.equal(status, 200);

  // Logout: the cookie is gone and the browser is at the provider's end-session page.
  await step('open the logout path', page.goto(`${origin}/oauth2/logout`, { waitUntil: 'domcontentloaded' }));
  assert.ok(page.url().startsWith(`${issuer}/session/end`), `logout: ${page.url()}`);
  assert.equal((await page.cookies(origin)).find((c) => c.name === 'isthmus_session'), undefined);
  // Confirmed at the provider, whose answer to the form sends the browser to the registered
  // post-logout URI. The answer is what is checked, not the browser's next request: nothing listens
  // at that URI, and what Chromium does with it (an HTTPS-first attempt, an error page) is its own
  // business; waiting for that request once timed out in CI with the logout itself done.
  const confirmed = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${issuer}/session/end`));
  // A DOM click, not a mouse click at the button's coordinates: the provider's page re-lays out when
  // its blocked web font gives up, and a click aimed before that can land beside the button (the
  // wait below then timed out once in CI).
  await step('confirm the logout at the provider', page.$eval('button[name=logout]', (button) => (button as HTMLButtonElement).click()));
  const answer = await step('wait for the provider to answer the confirmation', confirmed);
  assert.equal(answer.status(), 303);
  assert.equal(answer.headers().location, `http://${HOST}/goodbye`);
  // Logged out at both: the next page load ends on the provider's login form, not back on the page
  // (with the provider's session still alive it would have come straight back: single sign-on).
  // In a new tab of the same browser (same cookies): the failed navigation to /goodbye may still be
  // committing its error page in the first tab, and would replace a page loaded there now.
  const again = await browser.newPage();
  await step('open the page again', again.goto(`${origin}/app/page`, { waitUntil: 'domcontentloaded' }));
  assert.ok(again.url().startsWith(`${issuer}/interaction/`), `after logout: ${again.url()}`);
});
