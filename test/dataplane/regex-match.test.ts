import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrRoute } from '../../src/ir/types.js';
import { forwardRoute, httpListener, request, snapshot, startGateway } from './harness.js';
import { startGatewayInWorker } from './gateway-in-worker.js';

// Routes answer locally with their own name, so a response says which route won, and no upstream
// (with node's 16 KiB header limit) stands between the client and the matcher under test.
function namedRoute(name: string, match: IrRoute['match'] = { path: { kind: 'prefix', value: '/' } }): IrRoute {
  return forwardRoute(name, 'none', match, { action: { kind: 'respond', status: 200, body: name } });
}

async function routedTo(port: number, path: string, headers: Record<string, string | string[]> = {}): Promise<string> {
  const res = await request(port, { path, headers });
  const shown = path.length > 80 ? `${path.slice(0, 40)}…(${path.length} characters)` : path;
  assert.equal(res.status, 200, `${shown}: ${res.body}`);
  return res.body;
}

test('path, header and query regexes route by full match', async (t) => {
  const routes = [
    namedRoute('path', { path: { kind: 'regex', value: '/users/[0-9]+' } }),
    namedRoute('header', { path: { kind: 'prefix', value: '/' }, headers: [{ name: 'x-version', kind: 'regex', value: 'v[0-9]+' }] }),
    namedRoute('query', { path: { kind: 'prefix', value: '/' }, queryParams: [{ name: 'tenant', kind: 'regex', value: '[a-z]+-(prod|dev)' }] }),
    namedRoute('fallback'),
  ];
  const gw = await startGateway(snapshot([httpListener(routes)], []));
  t.after(() => gw.close());
  const port = gw.httpPort;

  assert.equal(await routedTo(port, '/users/42'), 'path');
  assert.equal(await routedTo(port, '/users/42/orders'), 'fallback', 'the path regex must cover the whole path');
  assert.equal(await routedTo(port, '/v1/users/42'), 'fallback', 'and start at its beginning');

  assert.equal(await routedTo(port, '/x', { 'x-version': 'v12' }), 'header');
  assert.equal(await routedTo(port, '/x', { 'x-version': 'v12-beta' }), 'fallback', 'the header regex must cover the whole value');
  assert.equal(await routedTo(port, '/x', { 'x-version': 'xv1' }), 'fallback');
  assert.equal(await routedTo(port, '/x', { 'x-version': ['v1', 'v2'] }), 'fallback', 'repeated headers are matched as one joined value');
  assert.equal(await routedTo(port, '/x'), 'fallback', 'an absent header never matches a regex');

  assert.equal(await routedTo(port, '/x?tenant=shop-prod'), 'query');
  assert.equal(await routedTo(port, '/x?a=1&tenant=shop-dev'), 'query');
  assert.equal(await routedTo(port, '/x?tenant=shop-prod2'), 'fallback', 'the query regex must cover the whole value');
  assert.equal(await routedTo(port, '/x?tenant=Shop-prod'), 'fallback');
});

// These run the gateway in a worker: with a backtracking engine the request below would block the
// gateway's event loop for longer than anyone waits, and the 10 s timeout must be able to fire.
// URIs and headers are raised to 64 KiB so the 30,001-character inputs reach the matcher instead of
// being refused with 414/431 (which would make these tests pass for the wrong reason).
const BIG = { maxUriBytes: 64 * 1024, maxHeaderBytes: 64 * 1024 };
const A = 'a'.repeat(30_000);

test('a catastrophic-backtracking path regex answers a 30,001-character path promptly', { timeout: 10_000 }, async (t) => {
  const routes = [namedRoute('evil', { path: { kind: 'regex', value: '/(a+)+$' } }), namedRoute('fallback')];
  const gw = await startGatewayInWorker(snapshot([httpListener(routes)], []), BIG);
  t.after(() => gw.close());

  assert.equal(await routedTo(gw.httpPort, `/${A}b`), 'fallback', 'no match, found without backtracking');
  assert.equal(await routedTo(gw.httpPort, `/${A}`), 'evil');
  assert.equal(await routedTo(gw.httpPort, '/ordinary'), 'fallback', 'the gateway still serves');
});

test('a catastrophic-backtracking header regex answers a 30,001-character header promptly', { timeout: 10_000 }, async (t) => {
  const routes = [namedRoute('token', { path: { kind: 'prefix', value: '/' }, headers: [{ name: 'x-token', kind: 'regex', value: '^(a|aa)+$' }] }), namedRoute('fallback')];
  const gw = await startGatewayInWorker(snapshot([httpListener(routes)], []), BIG);
  t.after(() => gw.close());

  assert.equal(await routedTo(gw.httpPort, '/', { 'x-token': `${A}b` }), 'fallback');
  assert.equal(await routedTo(gw.httpPort, '/', { 'x-token': A }), 'token');
  assert.equal(await routedTo(gw.httpPort, '/', { 'x-token': 'ab' }), 'fallback');
});

test('inverted header matches (Istio withoutHeaders): a missing header reads as empty, then the result is inverted', async (t) => {
  const routes = [
    namedRoute('not-jason', { path: { kind: 'prefix', value: '/a' }, headers: [{ name: 'end-user', kind: 'exact', value: 'jason', invert: true }] }),
    namedRoute('never', { path: { kind: 'prefix', value: '/b' }, headers: [{ name: 'end-user', kind: 'regex', value: '.*', invert: true }] }),
    namedRoute('absent', { path: { kind: 'prefix', value: '/c' }, headers: [{ name: 'end-user', kind: 'absent' }] }),
    namedRoute('fallback'),
  ];
  const gw = await startGateway(snapshot([httpListener(routes)], []));
  t.after(() => gw.close());
  const port = gw.httpPort;
  assert.equal(await routedTo(port, '/a'), 'not-jason');
  assert.equal(await routedTo(port, '/a', { 'end-user': 'alice' }), 'not-jason');
  assert.equal(await routedTo(port, '/a', { 'end-user': 'jason' }), 'fallback');
  assert.equal(await routedTo(port, '/b'), 'fallback');
  assert.equal(await routedTo(port, '/b', { 'end-user': '' }), 'fallback');
  assert.equal(await routedTo(port, '/b', { 'end-user': 'jason' }), 'fallback');
  assert.equal(await routedTo(port, '/c'), 'absent');
  assert.equal(await routedTo(port, '/c', { 'end-user': '' }), 'fallback');
});
