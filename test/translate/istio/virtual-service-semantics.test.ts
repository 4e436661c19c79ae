// Istio VirtualService fields whose meaning is pilot's, not the obvious one: `:authority` and
// `Host` in header operations are the upstream authority (a Host rewrite, route level first),
// redirect `prefixRewrite` replaces the matched prefix, and `withoutHeaders` is an inverted match
// that treats a missing header as empty, except `regex: "*"` and `{}` (present, inverted: absent).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IrFilter, IrRoute } from '../../../src/ir/types.js';
import { translate } from '../../../src/translate/translate.js';
import { buildRedirectLocation } from '../../../src/dataplane/http/redirect.js';
import { GOLDEN_OPTIONS, snapshotOf } from '../golden-harness.js';

const GATEWAY = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
  selector: {app: b}
`;

function routesOf(vsHttp: string): { routes: IrRoute[]; diagnostics: string[] } {
  const yaml = `${GATEWAY}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: ["b.example.com"]
  gateways: [edge]
  http:
${vsHttp}`;
  const result = translate(snapshotOf(yaml, 'vs.yaml'), GOLDEN_OPTIONS);
  const routes = result.ir.listeners.flatMap((l) => l.virtualHosts.flatMap((v) => v.routes)).filter((r) => r.name.startsWith('virtualservice/default/vs/'));
  return { routes, diagnostics: result.diagnostics.map((d) => `${d.path ?? ''}: ${d.message}`) };
}

const hostRewrites = (filters: readonly IrFilter[] | undefined): (string | undefined)[] =>
  (filters ?? []).flatMap((f) => (f.kind === 'url-rewrite' ? [f.hostname] : []));
const headerSets = (filters: readonly IrFilter[] | undefined): string[] =>
  (filters ?? []).flatMap((f) => (f.kind === 'request-header-modifier' ? [...(f.modifier.set ?? []), ...(f.modifier.add ?? [])].map((h) => h.name) : []));

test('headers.request.set :authority is a Host rewrite, never a header written upstream', () => {
  const { routes } = routesOf(`
  - route:
    - destination: {host: b}
    headers:
      request:
        set: {":authority": my-custom-authority, x-keep: "1"}
        remove: [host, x-drop]`);
  const route = routes[0]!;
  assert.deepEqual(hostRewrites(route.filters), ['my-custom-authority']);
  assert.deepEqual(headerSets(route.filters), ['x-keep']);
  const mod = route.filters.find((f) => f.kind === 'request-header-modifier');
  assert.deepEqual(mod?.kind === 'request-header-modifier' ? mod.modifier.remove : undefined, ['x-drop']);
});

test('route-level :authority wins over a destination-level Host; a destination Host applies alone', () => {
  const both = routesOf(`
  - route:
    - destination: {host: b}
      headers: {request: {set: {Host: dest-authority}}}
    headers: {request: {set: {":authority": route-authority}}}`).routes[0]!;
  assert.deepEqual(hostRewrites(both.filters), ['route-authority']);
  assert.equal(both.action.kind, 'forward');
  if (both.action.kind === 'forward') assert.deepEqual(hostRewrites(both.action.backends[0]!.filters), []);

  const destOnly = routesOf(`
  - route:
    - destination: {host: b}
      weight: 50
      headers: {request: {set: {Host: dest-a}}}
    - destination: {host: b}
      weight: 50
      headers: {request: {add: {host: dest-b}}}`).routes[0]!;
  assert.deepEqual(hostRewrites(destOnly.filters), []);
  if (destOnly.action.kind === 'forward') assert.deepEqual(destOnly.action.backends.map((b) => hostRewrites(b.filters)), [['dest-a'], ['dest-b']]);
  assert.equal(headerSets(destOnly.action.kind === 'forward' ? destOnly.action.backends[0]!.filters : []).length, 0);
});

test('rewrite.authority wins over a header-set authority; set wins over add', () => {
  const r = routesOf(`
  - route:
    - destination: {host: b}
    rewrite: {authority: from-rewrite}
    headers: {request: {set: {":authority": from-header}}}`).routes[0]!;
  assert.deepEqual(hostRewrites(r.filters), ['from-rewrite']);
  const s = routesOf(`
  - route:
    - destination: {host: b}
    headers: {request: {add: {host: from-add}, set: {host: from-set}}}`).routes[0]!;
  assert.deepEqual(hostRewrites(s.filters), ['from-set']);
});

test('redirect.prefixRewrite replaces the matched prefix; redirect.uri replaces the whole path (Istio HTTPRedirect)', () => {
  const { routes } = routesOf(`
  - match:
    - uri: {prefix: /foo/}
    - uri: {exact: /exact}
    redirect: {prefixRewrite: /new/}
  - match:
    - uri: {prefix: /old/}
    redirect: {uri: /whole}`);
  const location = (route: IrRoute | undefined, path: string): string => {
    assert.equal(route?.action.kind, 'redirect');
    if (route?.action.kind !== 'redirect') return '';
    return buildRedirectLocation(route.action.redirect, { scheme: 'http', host: 'b', port: undefined, path, query: '?q=1' });
  };
  assert.equal(location(routes[0], '/foo/bar'), 'http://b/new/bar?q=1');
  assert.equal(location(routes[1], '/exact'), 'http://b/new/?q=1');
  assert.equal(location(routes[2], '/old/x/y'), 'http://b/whole?q=1');
});

test('withoutHeaders: {} and regex "*" mean "absent"; other matches are inverted with a missing header read as empty', () => {
  const { routes, diagnostics } = routesOf(`
  - match:
    - withoutHeaders: {end-user: {regex: "*"}, x-a: {}}
    - withoutHeaders: {end-user: {regex: ".*"}}
    - withoutHeaders: {end-user: {exact: jason}}
    - headers: {x-any: {regex: "*"}}
    route:
    - destination: {host: b}`);
  assert.deepEqual(diagnostics.filter((d) => d.includes('withoutHeaders') || d.includes('x-any')), []);
  const headers = routes.map((r) => r.match.headers);
  assert.deepEqual(headers[0], [{ name: 'end-user', kind: 'absent' }, { name: 'x-a', kind: 'absent' }]);
  assert.deepEqual(headers[1], [{ name: 'end-user', kind: 'regex', value: '.*', invert: true }]);
  assert.deepEqual(headers[2], [{ name: 'end-user', kind: 'exact', value: 'jason', invert: true }]);
  assert.deepEqual(headers[3], [{ name: 'x-any', kind: 'present' }]);
});
