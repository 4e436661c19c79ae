// End to end over real sockets, without the translator: a small node:http server runs the
// compiled authn filters per request exactly as the gateway's phases do (runRequestPhase, then the
// backend-request phase on the header list that would go upstream, and the gateway's own local-reply
// functions for a 401), and answers 200 with what an upstream would receive. Clients are node's
// http client, curl (which builds Basic credentials itself) and a `ws` WebSocket client; the JWKS
// is served by a second server on loopback, and tokens are signed with jose.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcryptjs';
import { WebSocket, WebSocketServer } from 'ws';
import { systemClock } from '../../../src/core/clock.js';
import { compileAuthn, CONSUMER_ATTRIBUTE } from '../../../src/dataplane/filters/auth/compile-authn.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import { runRequestPhase } from '../../../src/dataplane/http/request-handler.js';
import { localReplyHeaders, sendHeaderList, writeRawReply } from '../../../src/dataplane/http/local-reply.js';
import { RequestContextRecord } from '../../../src/dataplane/filters/request-context.js';
import type { IrAuthn } from '../../../src/ir/apim.js';
import { AUDIENCE, consumer, ISSUER, rsaKey, startJwksServer, type JwksServer, type SigningKey } from './auth-fixtures.js';
import { SignJWT } from 'jose';

const API_KEY = 'isk_e2e-partner-key';

function contextFor(req: http.IncomingMessage, upgrade: boolean): RequestContextRecord {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return new RequestContextRecord('e2e', performance.now(), Date.now(), req.method ?? 'GET', 'http', req.headers.host ?? '', 'localhost', q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q), req.headers, '127.0.0.1', 'HTTP/1.1', 'test', 'route/e2e', upgrade);
}

interface Bed {
  port: number;
  jwks: JwksServer;
  k1: SigningKey;
  token(key: SigningKey, claims?: Record<string, unknown>): Promise<string>;
}

async function startBed(t: TestContext): Promise<Bed> {
  const k1 = await rsaKey('k1');
  const jwks = await startJwksServer([k1.jwk]);
  const authn: IrAuthn = {
    policy: 'authpolicy/default/e2e',
    realm: 'e2e',
    missing: 'deny',
    forward: { consumerHeader: 'x-consumer', groupsHeader: 'x-consumer-groups', claims: { scope: 'x-scope' } },
    methods: [
      { kind: 'api-key', from: { header: 'x-api-key' }, keys: [{ sha256: createHash('sha256').update(API_KEY).digest('hex'), consumer: consumer('default/partner', ['partners']) }] },
      {
        kind: 'jwt',
        issuer: ISSUER,
        audiences: [AUDIENCE],
        algorithms: ['RS256'],
        jwks: { kind: 'remote', url: jwks.url, cacheMs: 300_000 },
        clockSkewSec: 5,
        from: { header: { name: 'authorization', prefix: 'Bearer ' } },
        consumerClaim: 'sub',
        consumers: { alice: consumer('default/alice', ['staff', 'eu']) },
      },
      { kind: 'basic', users: [{ user: 'carol', bcrypt: bcrypt.hashSync('p:a:ss', 4).replace(/^\$2b\$/, '$2y$'), consumer: consumer('default/carol') }] },
    ],
  };
  // The real clock here (cooldown 10 s would make a rotation test slow): the refetch cooldown is set short.
  const cache = new JwksCache({ clock: systemClock, refetchCooldownMs: 200 });
  const filters = compileAuthn(authn, { clock: systemClock, jwks: cache });

  const server = http.createServer(async (req, res) => {
    const ctx = contextFor(req, false);
    const outcome = await runRequestPhase([filters.request], ctx);
    if (outcome.kind === 'respond') {
      const body = outcome.body ?? '';
      sendHeaderList(res, outcome.status, localReplyHeaders(body, outcome.contentType ?? 'application/json', ctx.requestId, outcome.headers), body);
      return;
    }
    const draft = { headers: [...req.rawHeaders], path: req.url ?? '/', matchedPath: ctx.path };
    filters.backendRequest(ctx, draft);
    const upstream: Record<string, string[]> = {};
    for (let i = 0; i < draft.headers.length; i += 2) (upstream[draft.headers[i]!.toLowerCase()] ??= []).push(draft.headers[i + 1]!);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ consumer: ctx.attributes.get(CONSUMER_ATTRIBUTE) ?? null, upstream }));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', async (req, socket, head) => {
    const ctx = contextFor(req, true);
    const outcome = await runRequestPhase([filters.request], ctx);
    if (outcome.kind === 'respond') {
      const body = outcome.body ?? '';
      writeRawReply(socket, outcome.status, localReplyHeaders(body, 'application/json', ctx.requestId, outcome.headers), body);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify(ctx.attributes.get(CONSUMER_ATTRIBUTE))));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
    await jwks.close();
  });
  const now = (): number => Math.floor(Date.now() / 1000);
  return {
    port: (server.address() as AddressInfo).port,
    jwks,
    k1,
    token: (key, claims = {}) =>
      new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 60, ...claims }).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey),
  };
}

interface Reply {
  status: number;
  rawHeaders: string[];
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body }));
    });
    req.on('error', reject);
  });
}

function raw(reply: Reply, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) if (reply.rawHeaders[i]!.toLowerCase() === name) out.push(reply.rawHeaders[i + 1]!);
  return out;
}

test('e2e: a JWT from a remote JWKS authenticates; spoofed consumer headers never reach upstream', async (t) => {
  const bed = await startBed(t);
  const token = await bed.token(bed.k1, { scope: 'orders:read' });
  const res = await get(bed.port, '/orders?x=1', { authorization: `Bearer ${token}`, 'x-consumer': 'default/admin', 'X-Consumer-Groups': 'admins', 'x-scope': 'everything' });
  assert.equal(res.status, 200, res.body);
  const body = JSON.parse(res.body) as { consumer: { name: string }; upstream: Record<string, string[]> };
  assert.equal(body.consumer.name, 'default/alice');
  assert.deepEqual(body.upstream['x-consumer'], ['default/alice']);
  assert.deepEqual(body.upstream['x-consumer-groups'], ['staff,eu']);
  assert.deepEqual(body.upstream['x-scope'], ['orders:read']);
  assert.deepEqual(body.upstream['authorization'], [`Bearer ${token}`]);
  assert.equal(bed.jwks.fetches(), 1);
  // Keep-alive or not, the keys are not fetched again within cacheMs.
  for (let i = 0; i < 3; i++) assert.equal((await get(bed.port, '/orders', { authorization: `Bearer ${await bed.token(bed.k1)}` })).status, 200);
  assert.equal(bed.jwks.fetches(), 1);
});

test('e2e: no credentials → 401 with one WWW-Authenticate per method, JSON body in the local-reply shape', async (t) => {
  const bed = await startBed(t);
  const res = await get(bed.port, '/orders');
  assert.equal(res.status, 401);
  assert.deepEqual(raw(res, 'www-authenticate'), ['ApiKey realm="e2e"', 'Bearer realm="e2e"', 'Basic realm="e2e", charset="UTF-8"']);
  assert.deepEqual(raw(res, 'content-type'), ['application/json']);
  assert.deepEqual(JSON.parse(res.body), { status: 401, reason: 'unauthorized', message: 'missing credentials', request_id: 'e2e' });

  const expired = await get(bed.port, '/orders', { authorization: `Bearer ${await bed.token(bed.k1, { exp: Math.floor(Date.now() / 1000) - 60 })}` });
  assert.equal(expired.status, 401);
  assert.ok(raw(expired, 'www-authenticate').includes('Bearer realm="e2e", error="invalid_token", error_description="token expired"'));
});

test('e2e: API key in its header works; in the query it is no credential; a wrong key is 401', async (t) => {
  const bed = await startBed(t);
  const ok = await get(bed.port, '/orders', { 'x-api-key': API_KEY });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).consumer.name, 'default/partner');
  const misplaced = await get(bed.port, `/orders?x-api-key=${API_KEY}`);
  assert.equal(misplaced.status, 401);
  assert.equal(JSON.parse(misplaced.body).message, 'missing credentials');
  const wrong = await get(bed.port, '/orders', { 'x-api-key': 'isk_nope' });
  assert.equal(JSON.parse(wrong.body).message, 'unknown API key');
});

test('e2e: curl -u builds Basic credentials; a password with colons works, a wrong one does not', async (t) => {
  const bed = await startBed(t);
  const curl = async (user: string): Promise<string> =>
    (await promisify(execFile)('curl', ['-s', '-i', '-u', user, `http://127.0.0.1:${bed.port}/orders`], { encoding: 'utf8', timeout: 10_000 })).stdout;
  const ok = await curl('carol:p:a:ss');
  assert.match(ok, /^HTTP\/1\.1 200/);
  assert.match(ok, /"default\/carol"/);
  const bad = await curl('carol:p:a');
  assert.match(bad, /^HTTP\/1\.1 401/);
  assert.match(bad, /www-authenticate: Basic realm="e2e", charset="UTF-8"\r\n/i);
});

test('e2e: a rotated key: the unknown kid triggers one refetch, then the new key works', async (t) => {
  const bed = await startBed(t);
  assert.equal((await get(bed.port, '/', { authorization: `Bearer ${await bed.token(bed.k1)}` })).status, 200);
  assert.equal(bed.jwks.fetches(), 1);
  const k2 = await rsaKey('k2');
  bed.jwks.setKeys([bed.k1.jwk, k2.jwk]);
  await new Promise((r) => setTimeout(r, 250)); // past the test's 200 ms refetch cooldown
  const t2 = await bed.token(k2);
  const replies = await Promise.all([1, 2, 3].map(() => get(bed.port, '/', { authorization: `Bearer ${t2}` })));
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
  assert.equal(bed.jwks.fetches(), 2, 'three requests with the new kid, one refetch');
});

test('e2e: a WebSocket upgrade is authenticated before the handshake completes', async (t) => {
  const bed = await startBed(t);
  const url = `ws://127.0.0.1:${bed.port}/stream`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${await bed.token(bed.k1)}` } });
  const [message] = (await once(ws, 'message')) as [Buffer];
  assert.equal(JSON.parse(message.toString()).name, 'default/alice');
  ws.close();

  const refused = new WebSocket(url);
  const [, res] = (await once(refused, 'unexpected-response')) as [unknown, http.IncomingMessage];
  assert.equal(res.statusCode, 401);
  assert.match(String(res.headers['www-authenticate']), /Bearer realm="e2e"/);
  res.resume();
  // ws reports the refused handshake as an error when torn down; that is the expected end here.
  refused.on('error', () => {});
  refused.terminate();
});
