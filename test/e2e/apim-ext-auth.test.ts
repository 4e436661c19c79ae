// External authorization through the real gateway, with a real HTTP authorization service started
// here on a free loopback port: AuthPolicy `externalAuth` (allow with headers copied upstream, a
// denial relayed with its status, body and challenge, a timeout failing closed without hanging and
// failing open, a WebSocket upgrade refused before it reaches the upstream), and an Istio CUSTOM
// AuthorizationPolicy whose provider is defined in the mesh config ConfigMap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { configDir, httpRequest, startEcho, startGateway, type Cleanup } from './cli-harness.js';
import { gatewayAndService } from './gateway-fixture.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/**
 * An ext_authz HTTP service: `/…/allow…` → 200 with x-user and x-auth-extra; `/…/deny…` → 401
 * with a challenge and a body; `/…/slow…` → never answers in time; anything else → 403.
 */
async function startAuthService(t: Cleanup): Promise<{ readonly port: number; readonly seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = req.url ?? '';
    if (url.includes('/allow')) {
      res.writeHead(200, { 'x-user': `alice via ${req.headers['x-consumer'] ?? 'nobody'}`, 'x-auth-extra': 'yes', 'x-not-copied': 'no' }).end('ok');
    } else if (url.includes('/deny')) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="ext"', 'x-reason': 'no ticket', 'x-internal': 'secret', 'content-type': 'text/plain' }).end('go away');
    } else if (url.includes('/slow')) {
      setTimeout(() => res.writeHead(200).end(), 5000).unref();
    } else if (url.includes('/broken')) {
      res.writeHead(500).end('oops');
    } else {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden by ext');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, seen };
}

const KEY = 'extauth-acme-6c1d0e9b2a';
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

function configYaml(echoPort: number, authPort: number): string {
  const route = (name: string, prefix: string): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: ${prefix}}}], backendRefs: [{name: api, port: 80}]}]
`;
  const policy = (name: string, target: string, extra: string): string => `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ${target}}]
${extra}`;
  return `${gatewayAndService(echoPort)}---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: acme, namespace: default}
spec: {groups: [partners], apiKeys: [{secretRef: {name: acme-key}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-key, namespace: default}
stringData: {sha256: ${sha(KEY)}}
${route('checked', '/checked')}${route('closed', '/closed')}${route('open', '/open')}${route('mesh', '/mesh')}${policy('checked', 'checked', `  methods: {apiKey: {header: x-api-key}}
  allowAnonymous: true
  forward: {consumerHeader: x-consumer}
  externalAuth:
    url: http://127.0.0.1:${authPort}/ext
    timeout: 2s
    requestHeaders: [x-ticket]
    upstreamHeaders: [x-user, "x-auth-*"]
    clientHeaders: [x-reason]
`)}${policy('closed', 'closed', `  externalAuth: {url: "http://127.0.0.1:${authPort}", timeout: 300ms}
`)}${policy('open', 'open', `  externalAuth: {url: "http://127.0.0.1:${authPort}", timeout: 300ms, failureMode: open}
`)}---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
      - name: ext-authz
        envoyExtAuthzHttp:
          service: 127.0.0.1
          port: "${authPort}"
          pathPrefix: /istio
          timeout: 1s
          includeRequestHeadersInCheck: [x-ticket]
          headersToUpstreamOnAllow: [x-user]
          headersToDownstreamOnDeny: [x-reason]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: ext-authz}
  rules: [{to: [{operation: {paths: ["/mesh/*"]}}]}]
`;
}

test('external authorization: allow copies headers upstream, a denial is relayed, timeouts fail closed or open, WebSockets are refused, Istio CUSTOM through the mesh config', async (t) => {
  const echo = await startEcho(t, '127.0.0.1', 'api');
  const auth = await startAuthService(t);
  const dir = configDir(t, { 'ext.yaml': configYaml(echo.port, auth.port) });
  const gw = await startGateway(t, { config: [dir], extraArgs: ['--istio-gateway-labels', 'istio=ingressgateway'] });
  const get = (path: string, headers: Record<string, string> = {}) => httpRequest({ port: gw.httpPort, path, headers: { host: 'api.test', ...headers } });
  const upstreamHeaders = (body: string): Record<string, string[]> => (JSON.parse(body) as { headers: Record<string, string[]> }).headers;

  // Allowed: the service saw method, Host, the path appended to its prefix, the allowed header and
  // the consumer authentication named (not the client's forged copy); the upstream got its headers.
  const ok = await get('/checked/allow?x=1', { 'x-api-key': KEY, 'x-ticket': 't1', 'x-other': 'not sent', 'x-consumer': 'forged', 'x-user': 'forged' });
  assert.equal(ok.status, 200, ok.body);
  const check = auth.seen.at(-1)!;
  assert.equal(check.method, 'GET');
  assert.equal(check.url, '/ext/checked/allow?x=1');
  assert.equal(check.headers.host, 'api.test');
  assert.equal(check.headers['x-ticket'], 't1');
  assert.equal(check.headers['x-other'], undefined);
  assert.equal(check.headers['x-api-key'], undefined, 'credentials are not sent unless listed');
  assert.equal(check.headers['x-consumer'], 'default/acme');
  const up = upstreamHeaders(ok.body);
  assert.deepEqual(up['X-User'], ['alice via default/acme'], 'set from the answer, replacing the client\'s copy');
  assert.deepEqual(up['X-Auth-Extra'], ['yes'], 'a prefix pattern');
  assert.equal(up['X-Not-Copied'], undefined);
  assert.deepEqual(up['X-Consumer'], ['default/acme']);
  // An anonymous request: the service is not told a consumer, and a forged x-user never goes upstream.
  const anon = await get('/checked/allow', { 'x-consumer': 'forged' });
  assert.equal(anon.status, 200);
  assert.equal(auth.seen.at(-1)!.headers['x-consumer'], undefined);

  // Denied: the service's status, body, challenge and listed header; not its other headers.
  const denied = await get('/checked/deny');
  assert.equal(denied.status, 401);
  assert.equal(denied.body, 'go away');
  assert.equal(denied.headers['www-authenticate'], 'Bearer realm="ext"');
  assert.equal(denied.headers['x-reason'], 'no ticket');
  assert.equal(denied.headers['x-internal'], undefined);
  assert.equal(denied.headers['content-type'], 'text/plain');
  // A denial without a list of client headers (closed policy) still says what the service said.
  const forbidden = await get('/closed/other');
  assert.deepEqual([forbidden.status, forbidden.body], [403, 'forbidden by ext']);

  // Timeout, fail closed: 503 in about the timeout (300 ms), not the service's 5 s.
  const started = performance.now();
  const slow = await get('/closed/slow');
  const took = performance.now() - started;
  assert.equal(slow.status, 503, slow.body);
  assert.equal(JSON.parse(slow.body).reason, 'ext_auth_error');
  assert.ok(took >= 250 && took < 2000, `answered after ${Math.round(took)} ms`);
  // A 5xx is a failure too.
  assert.equal((await get('/closed/broken')).status, 503);
  // Fail open: the request goes on (the upstream answers), and the failure is counted.
  const open = await get('/open/slow');
  assert.equal(open.status, 200, open.body);
  assert.equal(JSON.parse(open.body).name, 'api');
  const metrics = (await httpRequest({ port: gw.adminPort, path: '/metrics' })).body;
  assert.match(metrics, /isthmus_ext_auth_failures_total\{mode="closed"\} 2/);
  assert.match(metrics, /isthmus_ext_auth_failures_total\{mode="open"\} 1/);

  // A WebSocket upgrade the service refuses never reaches the upstream.
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/checked/deny-ws`, { headers: { host: 'api.test' } });
  ws.on('error', () => undefined);
  const [request, response] = (await once(ws, 'unexpected-response')) as [http.ClientRequest, http.IncomingMessage];
  assert.equal(response.statusCode, 401);
  assert.equal(response.headers['www-authenticate'], 'Bearer realm="ext"');
  request.destroy();
  assert.equal(auth.seen.at(-1)!.url, '/ext/checked/deny-ws');
  // …and one it allows is opened and echoes.
  const allowed = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/checked/allow-ws`, { headers: { host: 'api.test' } });
  await once(allowed, 'open');
  allowed.send('ping');
  const [message] = (await once(allowed, 'message')) as [Buffer];
  assert.equal(message.toString(), 'ping');
  allowed.close();

  // Istio CUSTOM: only the paths its rule matches are checked, at the provider's prefix.
  const before = auth.seen.length;
  assert.equal((await get('/checked-not')).status, 404);
  const meshOk = await get('/mesh/allow', { 'x-ticket': 't2' });
  assert.equal(meshOk.status, 200, meshOk.body);
  assert.equal(auth.seen.at(-1)!.url, '/istio/mesh/allow');
  assert.equal(auth.seen.at(-1)!.headers['x-ticket'], 't2');
  assert.deepEqual(upstreamHeaders(meshOk.body)['X-User'], ['alice via nobody']);
  const meshDenied = await get('/mesh/deny');
  assert.deepEqual([meshDenied.status, meshDenied.body, meshDenied.headers['x-reason'], meshDenied.headers['www-authenticate']], [401, 'go away', 'no ticket', 'Bearer realm="ext"']);
  assert.equal(meshDenied.headers['x-internal'], undefined);
  assert.equal(auth.seen.length, before + 2, 'the 404 path asked nobody');
});
