// Delegate match merging, pilot's rules: a delegate match must lie within a root match (a longer or
// equal prefix, the same exact path, a regex only against nothing; a header both name must agree),
// and the merged match takes what the delegate leaves unset from the root.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IstioHttpMatch } from '../../../src/resources/istio-kinds.js';
import { matchConflict, mergeMatch } from '../../../src/translate/istio/virtual-service-delegates.js';

const fits = (root: IstioHttpMatch, leaf: IstioHttpMatch): boolean => matchConflict(root, leaf) === undefined;

test('a delegate path match must lie within the root path match', () => {
  assert.ok(fits({ uri: { prefix: '/reviews' } }, { uri: { prefix: '/reviews/v2' } }));
  assert.ok(fits({ uri: { prefix: '/reviews' } }, { uri: { exact: '/reviews/1' } }));
  assert.ok(fits({ uri: { exact: '/a' } }, { uri: { exact: '/a' } }));
  assert.ok(fits({ uri: { prefix: '/a' } }, {}), 'no uri in the delegate: the root one applies');
  assert.ok(!fits({ uri: { prefix: '/reviews/v2' } }, { uri: { prefix: '/reviews' } }), 'wider than the root');
  assert.ok(!fits({ uri: { exact: '/a' } }, { uri: { prefix: '/a' } }));
  assert.ok(!fits({ uri: { exact: '/a' } }, { uri: { exact: '/b' } }));
  assert.ok(!fits({ uri: { regex: '/a.*' } }, { uri: { prefix: '/a' } }), 'a regex cannot be shown to contain anything');
  assert.ok(!fits({ uri: { prefix: '/a' } }, { uri: { regex: '/a.*' } }));
});

test('headers, query parameters, port and ignoreUriCase must agree', () => {
  assert.ok(fits({ headers: { 'x-tenant': { exact: 'a' } } }, { headers: { 'x-user': { exact: 'b' } } }), 'different names merge');
  assert.ok(!fits({ headers: { 'x-tenant': { exact: 'a' } } }, { headers: { 'x-tenant': { exact: 'b' } } }));
  assert.ok(!fits({ queryParams: { v: { exact: '1' } } }, { queryParams: { v: { exact: '2' } } }));
  assert.ok(!fits({ port: 80 }, { port: 8080 }));
  assert.ok(!fits({ ignoreUriCase: true }, {}));
  assert.ok(!fits({ gateways: ['a/gw'] }, { gateways: ['a/gw', 'b/gw'] }));
});

test('the merged match keeps the delegate fields and fills the rest from the root', () => {
  const merged = mergeMatch(
    { name: 'root', uri: { prefix: '/shop' }, headers: { 'x-tenant': { exact: 'a' } }, port: 80 },
    { name: 'leaf', uri: { prefix: '/shop/cart' }, headers: { 'x-beta': { exact: '1' } } },
  );
  assert.deepEqual(merged, {
    name: 'root-leaf',
    uri: { prefix: '/shop/cart' },
    headers: { 'x-tenant': { exact: 'a' }, 'x-beta': { exact: '1' } },
    port: 80,
  });
});
