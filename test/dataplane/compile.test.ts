import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuntime } from '../../src/dataplane/compile.js';
import { EndpointRegistry } from '../../src/dataplane/upstream/endpoint-registry.js';
import { DEFAULT_ROUTE } from '../../src/dataplane/data-plane.js';
import { ManualClock } from '../../src/core/clock.js';
import { seededRandom } from '../../src/core/random.js';
import { cluster, forwardRoute, httpListener, snapshot } from './harness.js';

const deps = () => ({ registry: new EndpointRegistry(), clock: new ManualClock(), random: seededRandom(1), routeDefaults: DEFAULT_ROUTE });

test('a route the data plane cannot compile is dropped with a diagnostic; the rest compiles', () => {
  const bad = forwardRoute('bad', 'c', { path: { kind: 'regex', value: '/(unclosed' } });
  const good = forwardRoute('good', 'c', { path: { kind: 'prefix', value: '/' } });
  const { runtime, diagnostics } = compileRuntime(snapshot([httpListener([bad, good])], [cluster('c', [{ address: '127.0.0.1', port: 1 }])]), deps());
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0]!.code, 'ERR_RESOURCE_INVALID');
  assert.match(diagnostics[0]!.message, /route bad dropped: invalid regular expression/);
  const table = runtime.listeners[0]!.virtualHosts[0]!.table;
  assert.equal(table.routes.length, 1);
  assert.equal(table.routes[0]!.name, 'good');
});

test('a regex that needs backtracking drops its route with a diagnostic that says why', () => {
  const routes = [
    forwardRoute('backref', 'c', { path: { kind: 'regex', value: '/(a)\\1' } }),
    forwardRoute('lookahead', 'c', { path: { kind: 'prefix', value: '/' }, headers: [{ name: 'x-a', kind: 'regex', value: '(?=x)x' }] }),
    forwardRoute('lookbehind', 'c', { path: { kind: 'prefix', value: '/' }, queryParams: [{ name: 'q', kind: 'regex', value: '(?<=a)b' }] }),
    forwardRoute('good', 'c', { path: { kind: 'regex', value: '/(a+)+' } }),
  ];
  const { runtime, diagnostics } = compileRuntime(snapshot([httpListener(routes)], [cluster('c', [])]), deps());
  assert.deepEqual(
    diagnostics.map((d) => d.message.match(/^route (\w+) dropped: invalid regular expression .*\((\w+): RE2 syntax refuses it/)?.slice(1)),
    [
      ['backref', 'backreference'],
      ['lookahead', 'lookahead'],
      ['lookbehind', 'lookbehind'],
    ],
  );
  assert.deepEqual(
    runtime.listeners[0]!.virtualHosts[0]!.table.routes.map((r) => r.name),
    ['good'],
  );
});

test('virtual hosts shared by two listeners are compiled once', () => {
  const listener = httpListener([forwardRoute('r', 'c')]);
  const https = { ...listener, name: 'test/https', protocol: 'https' as const, port: 443 };
  const { runtime } = compileRuntime(snapshot([listener, https], [cluster('c', [])]), deps());
  assert.equal(runtime.listeners[0]!.virtualHosts[0]!.table, runtime.listeners[1]!.virtualHosts[0]!.table);
});

test('large virtual hosts use the path index and keep precedence order', () => {
  const routes = [];
  for (let i = 0; i < 30; i++) routes.push(forwardRoute(`p${i}`, 'c', { path: { kind: 'prefix', value: `/svc${i}` } }));
  routes.unshift(forwardRoute('exact', 'c', { path: { kind: 'exact', value: '/svc3/x' } }));
  routes.push(forwardRoute('root', 'c', { path: { kind: 'prefix', value: '/' } }));
  const { runtime } = compileRuntime(snapshot([httpListener(routes)], [cluster('c', [])]), deps());
  const table = runtime.listeners[0]!.virtualHosts[0]!.table;
  const match = (path: string) => table.match({ path, query: '', method: 'GET', headers: {} })?.name;
  assert.equal(match('/svc3/x'), 'exact');
  assert.equal(match('/svc3/y'), 'p3');
  assert.equal(match('/svc3'), 'p3');
  assert.equal(match('/svc30'), 'root', 'element-wise: /svc30 is not under /svc3');
  assert.equal(match('/svc29/a/b'), 'p29');
  assert.equal(match('/other'), 'root');
});
