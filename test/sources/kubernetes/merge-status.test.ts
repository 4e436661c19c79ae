import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, mergeStatus, stampConditions } from '../../../src/sources/kubernetes/merge-status.js';
import type { ObjectStatus } from '../../../src/core/object-status.js';

const OURS = 'isthmus.dev/gateway-controller';
const NOW = '2026-12-02T18:00:00Z';
const EARLIER = '2026-12-01T09:00:00Z';

test('a condition keeps its lastTransitionTime while its status is unchanged, and takes now when it changes', () => {
  const live = [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'old text', lastTransitionTime: EARLIER },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '', lastTransitionTime: EARLIER },
  ];
  const next = stampConditions(
    [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'new text' },
      { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'no svc' },
      { type: 'Programmed', status: 'True', reason: 'Programmed', message: '' },
    ],
    live,
    NOW,
  );
  assert.deepEqual(
    next.map((c) => [c.type, c.lastTransitionTime]),
    [
      ['Accepted', EARLIER],
      ['ResolvedRefs', NOW],
      ['Programmed', NOW],
    ],
  );
});

for (const [apiVersion, kind] of [
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  ['gateway.networking.k8s.io/v1alpha2', 'TCPRoute'],
  ['gateway.networking.k8s.io/v1alpha2', 'UDPRoute'],
  ['gateway.networking.k8s.io/v1', 'TLSRoute'],
] as const) test(`${kind}: route parents of other controllers are kept; ours are replaced`, () => {
  const status: ObjectStatus = {
    apiVersion,
    kind,
    namespace: 'default',
    name: 'shop',
    status: { parents: [{ parentRef: { name: 'eg' }, controllerName: OURS, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }] }] },
  };
  const live = {
    parents: [
      { parentRef: { name: 'other-gw' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'False', reason: 'X', message: '', lastTransitionTime: EARLIER }] },
      { parentRef: { name: 'stale' }, controllerName: OURS, conditions: [] },
    ],
  };
  const merged = mergeStatus(status, live, { controllerName: OURS, published: undefined, now: NOW }) as { parents: { parentRef: { name: string }; controllerName: string }[] };
  assert.deepEqual(
    merged.parents.map((p) => [p.parentRef.name, p.controllerName]),
    [
      ['other-gw', 'example.com/other'],
      ['eg', OURS],
    ],
  );
});

test('Ingress status is written only with a published address; Gateways carry the published addresses', () => {
  const ingress: ObjectStatus = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'default', name: 'web', status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } };
  assert.equal(mergeStatus(ingress, {}, { controllerName: OURS, published: undefined, now: NOW }), undefined);
  assert.deepEqual(mergeStatus(ingress, {}, { controllerName: OURS, published: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }], now: NOW }), {
    loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }] },
  });
  const gateway: ObjectStatus = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    namespace: 'default',
    name: 'eg',
    status: { addresses: [{ type: 'IPAddress', value: '127.0.0.1' }], conditions: [], listeners: [] },
  };
  const merged = mergeStatus(gateway, {}, { controllerName: OURS, published: [{ ip: '203.0.113.7' }], now: NOW }) as { addresses: unknown };
  assert.deepEqual(merged.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
});

test('canonicalJson ignores key order, so an unchanged status compares equal', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] }), canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
  assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: 2 }));
});

test('API management policies: ancestors of other controllers are kept, ours replaced and stamped (as BackendTLSPolicy)', () => {
  const status: ObjectStatus = {
    apiVersion: 'isthmus.dev/v1alpha1',
    kind: 'AuthPolicy',
    namespace: 'default',
    name: 'partners',
    status: { ancestors: [{ ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' }, controllerName: OURS, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'applies to 2 routes' }] }] },
  };
  const theirs = { ancestorRef: { name: 'other' }, controllerName: 'example.com/other', conditions: [] };
  const live = { ancestors: [theirs, { ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' }, controllerName: OURS, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'old', lastTransitionTime: EARLIER }] }] };
  const merged = mergeStatus(status, live, { controllerName: OURS, published: undefined, now: NOW }) as { ancestors: { controllerName: string; conditions: { message: string; lastTransitionTime: string }[] }[] };
  assert.equal(merged.ancestors.length, 2);
  assert.deepEqual(merged.ancestors[0], theirs);
  assert.deepEqual([merged.ancestors[1]!.conditions[0]!.message, merged.ancestors[1]!.conditions[0]!.lastTransitionTime], ['applies to 2 routes', EARLIER]);
});
