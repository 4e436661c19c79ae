// Istio matches and rewrites the data plane serves through the real command: scheme and method
// (prefix / regex) matches, rewrite.uri after a regex match, uriRegexRewrite (Envoy regex_rewrite
// with capture groups), CORS origins by prefix and regex, and unmatchedPreflights FORWARD / IGNORE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, httpRequest, serviceYaml, startEcho, startGateway } from './cli-harness.js';

const ISTIO = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web.test]
  gateways: [edge]
  http:
  - match: [{scheme: {exact: https}, uri: {prefix: /scheme}}]
    directResponse: {status: 200, body: {string: https}}
  - match: [{scheme: {regex: "h.*p"}, uri: {prefix: /scheme}}]
    directResponse: {status: 200, body: {string: http}}
  - match: [{method: {regex: "P(UT|OST)"}, uri: {prefix: /method}}]
    directResponse: {status: 200, body: {string: put-or-post}}
  - match: [{method: {prefix: DEL}, uri: {prefix: /method}}]
    directResponse: {status: 200, body: {string: delete}}
  - match: [{uri: {regex: "/v[0-9]+/items/.*"}}]
    rewrite: {uri: /items}
    route: [{destination: {host: echo}}]
  - match: [{uri: {prefix: /service}}]
    rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1"}}
    route: [{destination: {host: echo}}]
  - match: [{uri: {prefix: /cors}}]
    corsPolicy:
      allowOrigins: [{prefix: "https://dev-"}, {regex: "https://[a-z]+\\\\.example\\\\.org"}]
      allowMethods: [GET]
      unmatchedPreflights: IGNORE
    route: [{destination: {host: echo}}]
  - match: [{uri: {prefix: /forward}}]
    corsPolicy:
      allowOrigins: [{exact: "https://app.test"}]
      allowMethods: [GET]
    route: [{destination: {host: echo}}]
  - directResponse: {status: 200, body: {string: other}}
`;

test('Istio scheme, method, regex rewrites and CORS origin patterns are served', async (t) => {
  const echo = await startEcho(t, '127.0.0.2', 'echo');
  const dir = configDir(t, { 'services.yaml': serviceYaml(echo), 'istio.yaml': ISTIO });
  const gateway = await startGateway(t, { config: [dir] });
  const send = (method: string, path: string, headers: Record<string, string> = {}) => httpRequest({ port: gateway.httpPort, method, path, headers: { host: 'web.test', ...headers } });

  // Scheme: this listener is cleartext, so `https` does not match and the regex on `http` does.
  assert.equal((await send('GET', '/scheme')).body, 'http');
  // Method by regex and by prefix; any other method falls through.
  assert.equal((await send('PUT', '/method')).body, 'put-or-post');
  assert.equal((await send('POST', '/method')).body, 'put-or-post');
  assert.equal((await send('DELETE', '/method')).body, 'delete');
  assert.equal((await send('GET', '/method')).body, 'other');

  // rewrite.uri after a regex match replaces the whole path; the query stays.
  const items = await send('GET', '/v2/items/42?q=1');
  assert.equal(items.status, 200, items.body);
  assert.equal((JSON.parse(items.body) as { path: string }).path, '/items?q=1');
  // uriRegexRewrite: capture groups in the substitution.
  const service = await send('GET', '/service/foo/v1/api');
  assert.equal((JSON.parse(service.body) as { path: string }).path, '/v1/api/instance/foo');

  const preflight = (path: string, origin: string) => send('OPTIONS', path, { origin, 'access-control-request-method': 'GET' });
  // Origins by prefix and by regex are answered by the gateway.
  for (const origin of ['https://dev-42.test', 'https://shop.example.org']) {
    const res = await preflight('/cors', origin);
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], origin);
  }
  // IGNORE: an unmatched preflight is answered here, with no CORS header, and never reaches the upstream.
  const ignored = await preflight('/cors', 'https://evil.test');
  assert.equal(ignored.status, 200);
  assert.equal(ignored.headers['access-control-allow-origin'], undefined);
  assert.equal(ignored.body, '');
  // The regex covers the whole origin: a longer one is not allowed.
  assert.equal((await preflight('/cors', 'https://shop.example.org.evil.test')).headers['access-control-allow-origin'], undefined);
  // FORWARD (the default): an unmatched preflight reaches the upstream.
  const forwarded = await preflight('/forward', 'https://evil.test');
  assert.equal((JSON.parse(forwarded.body) as { name: string; method: string }).method, 'OPTIONS');
  assert.equal(forwarded.headers['access-control-allow-origin'], undefined);
});
