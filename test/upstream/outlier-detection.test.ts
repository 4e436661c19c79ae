// Istio outlierDetection settings beyond consecutive errors, on PassiveHealth with a manual clock:
// maxEjectionPercent caps how many endpoints are out at once (one may always go), and split mode
// (splitExternalLocalOriginErrors + consecutiveLocalOriginFailures) counts failures without a
// response apart from 5xx answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { createEndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { PassiveHealth } from '../../src/dataplane/upstream/health/passive-health.js';

const BASE = { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 1000 };

test('maxEjectionPercent: at most that share is ejected at once, and one endpoint always may be', () => {
  const clock = new ManualClock();
  const eps = [1, 2, 3, 4].map((i) => createEndpointState(`10.0.0.${i}`, 80));
  const health = new PassiveHealth({ ...BASE, maxEjectionPercent: 50 }, clock, eps);
  for (const ep of eps) for (let i = 0; i < 2; i++) health.recordFailure(ep, 'response');
  assert.deepEqual(eps.map((ep) => health.isAvailable(ep)), [false, false, true, true]);
  // Once the first ejections end, room opens again.
  clock.advance(1000);
  for (let i = 0; i < 2; i++) health.recordFailure(eps[2]!, 'response');
  assert.equal(health.isAvailable(eps[2]!), false);

  const pair = [createEndpointState('10.0.1.1', 80), createEndpointState('10.0.1.2', 80)];
  const none = new PassiveHealth({ ...BASE, maxEjectionPercent: 0 }, clock, pair);
  for (const ep of pair) for (let i = 0; i < 2; i++) none.recordFailure(ep, 'response');
  assert.deepEqual(pair.map((ep) => none.isAvailable(ep)), [false, true], '0 % still ejects one (Envoy)');
});

test('split mode: local-origin failures and 5xx answers count apart, each against its threshold', () => {
  const clock = new ManualClock();
  const ep = createEndpointState('10.0.2.1', 80);
  const split = new PassiveHealth({ ...BASE, consecutiveFailures: 3, consecutiveLocalOriginFailures: 2 }, clock, [ep]);
  split.recordFailure(ep, 'response');
  split.recordFailure(ep, 'response');
  split.recordFailure(ep, 'local');
  assert.equal(split.isAvailable(ep), true, 'two 5xx and one connect failure: neither count is reached');
  split.recordFailure(ep, 'local');
  assert.equal(split.isAvailable(ep), false, 'two local-origin failures in a row');

  // Without split mode the same sequence counts together.
  const other = createEndpointState('10.0.2.2', 80);
  const together = new PassiveHealth({ ...BASE, consecutiveFailures: 3 }, clock, [other]);
  together.recordFailure(other, 'response');
  together.recordFailure(other, 'response');
  together.recordFailure(other, 'local');
  assert.equal(together.isAvailable(other), false);
});
