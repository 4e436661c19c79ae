// A mirrored request's Host with Envoy's `-shadow` suffix: on the name, before any port, and
// only on Host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withShadowHost } from '../../src/dataplane/http/mirror.js';

test('withShadowHost appends -shadow to the host name, before the port', () => {
  assert.deepEqual(withShadowHost(['host', 'reviews', 'x-a', 'b']), ['host', 'reviews-shadow', 'x-a', 'b']);
  assert.deepEqual(withShadowHost(['host', 'reviews.ns.svc:9080']), ['host', 'reviews.ns.svc-shadow:9080']);
  assert.deepEqual(withShadowHost(['Host', '[::1]:8080']), ['Host', '[::1]-shadow:8080']);
  assert.deepEqual(withShadowHost(['host', '[::1]']), ['host', '[::1]-shadow']);
  assert.deepEqual(withShadowHost(['x-host', 'a']), ['x-host', 'a'], 'other headers are untouched');
  const original = ['host', 'a'];
  withShadowHost(original);
  assert.deepEqual(original, ['host', 'a'], 'the live request keeps its Host');
});
