// compileRetryPolicy: which statuses and failures each IR condition retries, and the backoff range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, compileRetryPolicy } from '../../src/dataplane/http/retry-policy.js';
import { seededRandom } from '../../src/core/random.js';

test('conditions: gateway-error and 5xx include the failures that never produced a response', () => {
  const gw = compileRetryPolicy({ attempts: 1, retryOn: [{ kind: 'gateway-error' }] });
  assert.deepEqual([500, 502, 503, 504, 409].map((s) => gw.retriesStatus(s)), [false, true, true, true, false]);
  assert.deepEqual((['connect-failure', 'reset', 'per-try-timeout'] as const).map((f) => gw.retriesFailure(f)), [true, true, true]);
  const connect = compileRetryPolicy({ attempts: 1, retryOn: [{ kind: 'connect-failure' }] });
  assert.deepEqual((['connect-failure', 'reset', 'per-try-timeout'] as const).map((f) => connect.retriesFailure(f)), [true, false, false]);
  assert.equal(connect.retriesStatus(503), false);
  const none = compileRetryPolicy({ attempts: 0, retryOn: [{ kind: '5xx' }] });
  assert.equal(none.retriesAnything, false, 'attempts 0 retries nothing, so no body is kept for it');
  assert.equal(compileRetryPolicy({ attempts: 2, retryOn: [] }).retriesAnything, false);
});

test('backoff: never below base, exponential ceiling, capped; default 25 ms', () => {
  const random = seededRandom(7);
  for (let i = 0; i < 200; i++) {
    assert.equal(backoffMs(100, 1000, 1, random), 100);
    const third = backoffMs(100, 1000, 3, random);
    assert.ok(third >= 100 && third <= 400, `retry 3: ${third}`);
    const tenth = backoffMs(100, 1000, 10, random);
    assert.ok(tenth >= 100 && tenth <= 1000, `retry 10: ${tenth}`);
  }
  assert.equal(backoffMs(0, 0, 5, random), 0);
  const defaults = compileRetryPolicy({ attempts: 1, retryOn: [{ kind: 'reset' }] });
  assert.equal(defaults.backoffMs(1, random), 25);
  for (let i = 0; i < 50; i++) assert.ok(defaults.backoffMs(20, random) <= 250, 'capped at 10 × base');
});
