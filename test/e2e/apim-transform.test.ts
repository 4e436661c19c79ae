// TransformPolicy through the real gateway with node's http client and a real upstream: header
// edits with templates (consumer from an API key, request id, client address, a JWT claim), JSON
// body edits both ways with correct Content-Length, bodies passed unchanged (malformed, not JSON,
// gzip, over maxBytes and streamed), chunked requests, header injection through a claim refused,
// and a path rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { configDir, startGateway } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

const KEY = 'transform-acme-3c9d1f7b2a';
const ISSUER = 'https://idp.transform.test';
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly body: string;
}

/** The upstream: answers what it saw as JSON, or a chosen body under /api/raw/<kind>. */
function startUpstream(t: { after(fn: () => unknown): void }): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.includes('/stream')) {
      // Answers once 2000 bytes arrived, before the request ends: only a streamed body gets here.
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n >= 2000 && !res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' }).end(`received ${n}`);
      });
      req.on('end', () => seen.push({ method: req.method ?? '', url, headers: req.headers, body: `(${n} bytes)` }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url, headers: req.headers, body });
      const kind = /\/raw\/([a-z0-9]+)/.exec(url)?.[1];
      switch (kind) {
        case 'malformed':
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret": ');
        case 'gzip':
          return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"secret":"zipped"}'));
        case 'big':
          // Chunked, no Content-Length: the gateway only learns the size as it streams.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"secret":"');
          res.write('x'.repeat(3000));
          return res.end('"}');
        case 'chunked':
          res.writeHead(200, { 'content-type': 'application/problem+json', 'x-upstream-secret': 's' });
          res.write('{"upstreamField":1,');
          return res.end('"secret":"s","keep":true}');
        case 'nocontent':
          return res.writeHead(204, { 'content-type': 'application/json' }).end();
        default:
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-upstream-secret': 's' });
          return res.end(JSON.stringify({ upstreamField: 'u', secret: 's', seenPath: url }));
      }
    });
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, seen })));
}

/** One request with node's http client; `body` as a string or chunks (chunked transfer coding). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | readonly string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { host: 'api.test', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: raw.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const c of body) req.write(c);
    else if (typeof body === 'string') req.write(body);
    req.end();
  });
}

test('TransformPolicy: headers with templates, JSON bodies both ways, unchanged bodies, header injection refused, path rewrite', async (t) => {
  const upstream = await startUpstream(t);
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = JSON.stringify({ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' });
  const token = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(privateKey);

  const dir = configDir(t, {
    'transform.yaml': `${gatewayAndService(upstream.port)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /api}}], backendRefs: [{name: api, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: staff, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /staff}}], backendRefs: [{name: api, port: 80}]}]
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec: {groups: [partners, gold], apiKeys: [{secretRef: {name: acme-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-key, namespace: default}
stringData: {sha256: ${sha(KEY)}}
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
  methods: {apiKey: {header: x-api-key}}
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: tokens, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: staff}]
  methods: {jwt: {issuer: "${ISSUER}", jwks: {keys: [${jwk}]}}}
---
apiVersion: isthmus.dev/v1alpha1
kind: TransformPolicy
metadata: {name: api, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
  request:
    headers:
      remove: [x-secret]
      set:
        - {name: x-consumer-name, value: "\${consumer}"}
        - {name: x-groups, value: "\${consumer.groups}"}
        - {name: x-req, value: "\${requestId}"}
        - {name: x-client, value: "\${clientAddress}"}
        - {name: x-who, value: "\${consumer} via \${method} \${path} for \${header.x-tenant}, $$5"}
      add: [{name: x-added, value: one}]
    body:
      maxBytes: 1024
      json:
        remove: [password]
        rename: [{from: user, to: account.user}]
        set:
          - {path: meta.consumer, value: "\${consumer}"}
          - {path: meta.groups, value: "\${consumer.groups}"}
          - {path: meta.fixed, value: {a: [1, 2]}}
    path: {replacePrefix: /v2}
  response:
    headers:
      remove: [x-upstream-secret]
      set: [{name: x-served-request, value: "\${requestId}"}]
    body:
      maxBytes: 1024
      json:
        remove: [secret]
        rename: [{from: upstreamField, to: renamed.field}]
        set: [{path: servedTo, value: "\${consumer}"}]
---
apiVersion: isthmus.dev/v1alpha1
kind: TransformPolicy
metadata: {name: staff, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: staff}]
  request:
    headers:
      set:
        - {name: x-email, value: "\${claims.email}"}
        - {name: x-org, value: "\${claims.org.name}"}
        - {name: x-sub, value: "user=\${claims.sub}"}
    body:
      json:
        set: [{path: roles, value: "\${claims.roles}"}]
`,
  });
  const gw = await startGateway(t, { config: [dir] });
  const port = gw.httpPort;
  const last = (): Seen => upstream.seen[upstream.seen.length - 1]!;
  const auth = { 'x-api-key': KEY };
  const asJson = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

  // Headers and templates, request and response, a JSON body edited both ways, the path rewritten.
  const body = JSON.stringify({ user: 'bob', password: 'hunter2', keep: 1 });
  const r = await send(port, 'POST', '/api/orders?x=1', { ...auth, 'content-type': 'application/json', 'x-secret': 'no', 'x-consumer-name': 'forged', 'x-tenant': 't1' }, body);
  assert.equal(r.status, 200, r.body);
  const up = last();
  assert.equal(up.url, '/v2/orders?x=1');
  assert.equal(up.headers['x-secret'], undefined);
  assert.equal(up.headers['x-consumer-name'], 'default/acme', "the client's own copy is replaced");
  assert.equal(up.headers['x-groups'], 'partners,gold');
  assert.match(String(up.headers['x-req']), /^[0-9a-f-]{36}$/);
  assert.equal(up.headers['x-req'], up.headers['x-request-id'], 'the id the gateway sends upstream');
  assert.equal(up.headers['x-client'], '127.0.0.1');
  assert.equal(up.headers['x-who'], 'default/acme via POST /api/orders for t1, $5');
  assert.equal(up.headers['x-added'], 'one');
  assert.deepEqual(JSON.parse(up.body), { keep: 1, account: { user: 'bob' }, meta: { consumer: 'default/acme', groups: ['partners', 'gold'], fixed: { a: [1, 2] } } });
  assert.equal(up.headers['content-length'], String(Buffer.byteLength(up.body)));
  assert.equal(r.headers['x-upstream-secret'], undefined);
  assert.equal(r.headers['x-served-request'], up.headers['x-request-id'], 'the same id in the response phase');
  assert.deepEqual(asJson(r.body), { seenPath: '/v2/orders?x=1', renamed: { field: 'u' }, servedTo: 'default/acme' });
  assert.equal(r.headers['content-length'], String(r.raw.length));

  // A chunked request body: edited, and sent upstream with a Content-Length, not chunked.
  const chunked = await send(port, 'PUT', '/api/chunked', { ...auth, 'content-type': 'application/merge-patch+json' }, ['{"user":', '"carol",', '"password":"x"}']);
  assert.equal(chunked.status, 200);
  assert.deepEqual(JSON.parse(last().body), { account: { user: 'carol' }, meta: { consumer: 'default/acme', groups: ['partners', 'gold'], fixed: { a: [1, 2] } } });
  assert.equal(last().headers['transfer-encoding'], undefined);
  assert.equal(last().headers['content-length'], String(Buffer.byteLength(last().body)));

  // Malformed JSON and a body that is not JSON pass unchanged; said once per route, not per request.
  for (let i = 0; i < 2; i++) {
    await send(port, 'POST', '/api/bad', { ...auth, 'content-type': 'application/json' }, '{"user": "bob", ');
    assert.equal(last().body, '{"user": "bob", ');
  }
  await send(port, 'POST', '/api/text', { ...auth, 'content-type': 'text/plain' }, '{"user":"bob"}');
  assert.equal(last().body, '{"user":"bob"}');

  // Over maxBytes (1024): unchanged, with its own length, both with a declared length and chunked.
  const big = JSON.stringify({ user: 'bob', pad: 'p'.repeat(3000) });
  await send(port, 'POST', '/api/big', { ...auth, 'content-type': 'application/json' }, big);
  assert.equal(last().body, big);
  assert.equal(last().headers['content-length'], String(big.length));
  await send(port, 'POST', '/api/big', { ...auth, 'content-type': 'application/json' }, [big.slice(0, 600), big.slice(600, 1500), big.slice(1500)]);
  assert.equal(last().body, big);

  // ...and streamed: the upstream answers after 2000 bytes, and the client ends its body only then.
  const streamed = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/stream', agent: false, headers: { host: 'api.test', ...auth, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
      req.end('"}');
    });
    req.on('error', reject);
    req.write('{"pad":"' + 'p'.repeat(2500));
  });
  assert.match(streamed, /^received \d+$/);

  // Responses: malformed and gzip pass unchanged; a big chunked one streams unchanged; a chunked
  // +json one is edited with a Content-Length; 204 and HEAD are not touched.
  const malformed = await send(port, 'GET', '/api/raw/malformed', auth);
  assert.equal(malformed.body, '{"secret": ');
  const zipped = await send(port, 'GET', '/api/raw/gzip', auth);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(zipped.raw).toString(), '{"secret":"zipped"}');
  const bigResponse = await send(port, 'GET', '/api/raw/big', auth);
  assert.equal(bigResponse.body.length, 3000 + '{"secret":""}'.length);
  assert.match(bigResponse.body, /^\{"secret":"x{3000}"\}$/);
  const problem = await send(port, 'GET', '/api/raw/chunked', auth);
  assert.deepEqual(asJson(problem.body), { keep: true, renamed: { field: 1 }, servedTo: 'default/acme' });
  assert.equal(problem.headers['content-length'], String(problem.raw.length));
  assert.equal(problem.headers['transfer-encoding'], undefined);
  assert.equal((await send(port, 'GET', '/api/raw/nocontent', auth)).status, 204);
  const head = await send(port, 'HEAD', '/api/orders', auth);
  assert.equal(head.status, 200);
  assert.equal(head.raw.length, 0);

  // Header injection through a claim: CR LF in a claim is refused, the header is not sent at all.
  const injected = await send(port, 'POST', '/staff/report', { authorization: `Bearer ${await token({ email: 'eve@example.com\r\nx-admin: true', org: { name: 'Acmé' }, roles: ['a', 'b'] })}`, 'content-type': 'application/json', 'x-email': 'forged' }, '{}');
  assert.equal(injected.status, 200, injected.body);
  assert.equal(last().headers['x-email'], undefined, 'neither the claim nor the client copy');
  assert.equal(last().headers['x-admin'], undefined);
  assert.equal(last().headers['x-org'], 'Acm%C3%A9', 'non-ASCII is percent-encoded UTF-8');
  assert.equal(last().headers['x-sub'], 'user=alice');
  assert.deepEqual(JSON.parse(last().body), { roles: ['a', 'b'] });
  const clean = await send(port, 'GET', '/staff/report', { authorization: `Bearer ${await token({ email: 'eve@example.com' })}` });
  assert.equal(clean.status, 200);
  assert.equal(last().headers['x-email'], 'eve@example.com');

  // One log line per route and reason.
  const log = gw.stderr();
  const count = (s: string): number => log.split(s).length - 1;
  assert.equal(count('request body passed unchanged: it does not parse as JSON'), 1, log);
  assert.equal(count('response body passed unchanged: it does not parse as JSON'), 1, log);
  assert.equal(count('request body passed unchanged: Content-Type "text/plain" is not JSON'), 1, log);
  assert.equal(count('request body passed unchanged: it is larger than maxBytes (1024)'), 1, log);
  assert.equal(count('response body passed unchanged: it is larger than maxBytes (1024)'), 1, log);
  assert.equal(count('content-encoded'), 1, log);
  assert.equal(count('header x-email not sent'), 1, log);
});
