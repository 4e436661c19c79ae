// The data plane's refusals flow back into statuses (src/translate/apply-feedback.ts): a bind
// failure marks the Gateway or ListenerSet that declared the listener, and only that one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import type { Condition, ObjectStatus } from '../../src/core/object-status.js';
import { replaceMarked, withApplyFailures } from '../../src/translate/apply-feedback.js';

const ok = (type: string): Condition => ({ type, status: 'True', reason: type, message: 'ok', observedGeneration: 4 });
const listeners = [
  { name: 'http', supportedKinds: [], attachedRoutes: 1, conditions: [ok('Accepted'), ok('Programmed')] },
  { name: 'extra', supportedKinds: [], attachedRoutes: 0, conditions: [ok('Accepted'), ok('Programmed')] },
];
const gw = (name: string): ObjectStatus => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', namespace: 'default', name, status: { addresses: [], conditions: [ok('Accepted'), ok('Programmed')], listeners } });
const ls: ObjectStatus = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ListenerSet', namespace: 'team', name: 'extra', status: { conditions: [ok('Accepted'), ok('Programmed')], listeners } };
const bindFailure = (kind: string, namespace: string, name: string): Diagnostic => ({
  severity: 'error',
  code: 'ERR_LISTENER_BIND',
  object: { group: 'gateway.networking.k8s.io', kind, namespace, name },
  path: 'spec.listeners[1]',
  message: 'bind 0.0.0.0:8081 (http) cannot listen: listen EADDRINUSE',
});

function programmed(status: ObjectStatus, listener?: number): Condition | undefined {
  const s = status.status as { conditions: Condition[]; listeners: { conditions: Condition[] }[] };
  return (listener === undefined ? s.conditions : s.listeners[listener]!.conditions).find((c) => c.type === 'Programmed');
}

test('a bind failure marks the declaring Gateway and its listener, and leaves others as they were', () => {
  const [a, b] = withApplyFailures([gw('a'), gw('b')], [bindFailure('Gateway', 'default', 'a')]);
  assert.deepEqual(programmed(a!), { type: 'Programmed', status: 'False', reason: 'AddressNotUsable', message: 'bind 0.0.0.0:8081 (http) cannot listen: listen EADDRINUSE', observedGeneration: 4 });
  assert.equal(programmed(a!, 0)?.status, 'True', 'the listener that bound is untouched');
  assert.equal(programmed(a!, 1)?.reason, 'Pending');
  assert.equal(programmed(b!)?.status, 'True');
});

test('a ListenerSet listener that cannot bind marks the ListenerSet, not its Gateway', () => {
  const [g, l] = withApplyFailures([gw('a'), ls], [bindFailure('ListenerSet', 'team', 'extra')]);
  assert.equal(programmed(g!)?.status, 'True');
  assert.equal(programmed(l!)?.reason, 'Pending');
  assert.equal(programmed(l!, 1)?.status, 'False');
});

test('on a refused change only the marked objects replace their last-good statuses', () => {
  const lastGood = [gw('a'), gw('b')];
  const next = [gw('a'), gw('b'), gw('c')];
  const out = replaceMarked(lastGood, next, [bindFailure('Gateway', 'default', 'b')]);
  assert.equal(out.length, 2);
  assert.equal(out[0], lastGood[0]);
  assert.equal(programmed(out[1]!)?.status, 'False');
});
