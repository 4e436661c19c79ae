// The pure parts of `isthmus lb --kubernetes`: which Services the lb serves (spec.loadBalancerClass),
// where it listens when the status is its own output, what it writes to each Service's
// status.loadBalancer.ingress, and how that merges with the live status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import { mergeStatus } from '../../src/sources/kubernetes/merge-status.js';
import { indexResources } from '../../src/store/resource-index.js';
import { planLoadBalancer } from '../../src/translate/services/load-balancer-listeners.js';
import { loadBalancerStatuses } from '../../src/translate/services/load-balancer-status.js';
import { snapshotOf } from '../translate/golden-harness.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: shop}
spec: {type: LoadBalancer, ports: [{port: 80, nodePort: 30080}]}
status: {loadBalancer: {ingress: [{ip: 192.0.2.99}]}}
---
apiVersion: v1
kind: Service
metadata: {name: ours, namespace: shop}
spec: {type: LoadBalancer, loadBalancerClass: isthmus.dev/lb, loadBalancerIP: 127.0.0.40, ports: [{port: 81, nodePort: 30081}]}
---
apiVersion: v1
kind: Service
metadata: {name: theirs, namespace: shop}
spec: {type: LoadBalancer, loadBalancerClass: example.com/other, ports: [{port: 82, nodePort: 30082}]}
status: {loadBalancer: {ingress: [{ip: 198.51.100.7}]}}
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: shop}
spec: {type: LoadBalancer, ipFamilies: [IPv4, IPv6], ports: [{port: 83, nodePort: 30083}]}
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: shop}
spec: {type: ClusterIP, ports: [{port: 84}]}
`;

function plan(options: { addressFromStatus?: boolean; loadBalancerClass?: string } = {}) {
  const snapshot = snapshotOf(CONFIG, 'lb.yaml');
  assert.deepEqual(snapshot.diagnostics, []);
  const index = indexResources(snapshot.resources);
  const diagnostics: Diagnostic[] = [];
  const result = planLoadBalancer(index, { nodes: [{ name: 'n', address: '127.0.0.11' }], listenAddress: '0.0.0.0', healthy: () => undefined, ...options }, diagnostics);
  return { index, listeners: result.listeners };
}

test('class: Services with no class or ours are served, another class is left alone; --load-balancer-class changes ours', () => {
  assert.deepEqual(plan().listeners.map((l) => l.name), ['lb/shop/dual/83', 'lb/shop/ours/81', 'lb/shop/plain/80']);
  assert.deepEqual(plan({ loadBalancerClass: 'example.com/other' }).listeners.map((l) => l.name), ['lb/shop/dual/83', 'lb/shop/plain/80', 'lb/shop/theirs/82']);
});

test('address: folder mode reads the status; Kubernetes mode (addressFromStatus false) only spec.loadBalancerIP, else the listen address', () => {
  const at = (o: Parameters<typeof plan>[0]) => plan(o).listeners.map((l) => `${l.name}@${l.address}`);
  assert.deepEqual(at({}), ['lb/shop/dual/83@0.0.0.0', 'lb/shop/ours/81@127.0.0.40', 'lb/shop/plain/80@192.0.2.99']);
  assert.deepEqual(at({ addressFromStatus: false }), ['lb/shop/dual/83@0.0.0.0', 'lb/shop/ours/81@127.0.0.40', 'lb/shop/plain/80@0.0.0.0']);
});

test('statuses: the listener address, the advertised one for the wildcard, nothing without one, an empty list for ours not served, nothing for another class', () => {
  const { index, listeners } = plan({ addressFromStatus: false });
  const advertised = loadBalancerStatuses(index, listeners, { advertise: { IPv4: '203.0.113.5' }, ipMode: 'VIP' });
  assert.deepEqual(
    advertised.statuses.map((s) => [s.name, s.status.loadBalancer.ingress]),
    [
      ['dual', [{ ip: '203.0.113.5', ipMode: 'VIP' }]],
      ['internal', []],
      ['ours', [{ ip: '127.0.0.40', ipMode: 'VIP' }]],
      ['plain', [{ ip: '203.0.113.5', ipMode: 'VIP' }]],
    ],
  );
  assert.deepEqual(advertised.unadvertised, []);

  const none = loadBalancerStatuses(index, listeners, { advertise: {} });
  assert.deepEqual(
    none.statuses.map((s) => [s.name, s.status.loadBalancer.ingress]),
    [
      ['internal', []],
      ['ours', [{ ip: '127.0.0.40' }]],
    ],
  );
  assert.deepEqual(none.unadvertised, [
    { service: 'shop/dual', family: 'IPv4', withoutStatus: true },
    { service: 'shop/plain', family: 'IPv4', withoutStatus: true },
  ]);

  // A listener that could not bind is not serving: its Service's entry is cleared.
  const bound = listeners.filter((l) => l.name !== 'lb/shop/ours/81');
  assert.deepEqual(loadBalancerStatuses(index, bound, { advertise: {} }).statuses.find((s) => s.name === 'ours')?.status.loadBalancer.ingress, []);
});

test('merge: the list is replaced whole, other status fields kept; clearing an empty list is no write', () => {
  const ctx = { controllerName: 'isthmus.dev/lb', published: undefined, now: '2026-01-01T00:00:00Z' };
  const status = (ingress: { ip: string; ipMode?: 'VIP' }[]) => ({ apiVersion: 'v1', kind: 'Service' as const, namespace: 'shop', name: 'web', status: { loadBalancer: { ingress } } });
  const live = { conditions: [{ type: 'X' }], loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'old.example' }] } };
  assert.deepEqual(mergeStatus(status([{ ip: '203.0.113.5', ipMode: 'VIP' }]), live, ctx), { conditions: [{ type: 'X' }], loadBalancer: { ingress: [{ ip: '203.0.113.5', ipMode: 'VIP' }] } });
  assert.deepEqual(mergeStatus(status([]), live, ctx), { conditions: [{ type: 'X' }], loadBalancer: {} });
  assert.equal(mergeStatus(status([]), {}, ctx), undefined);
  assert.equal(mergeStatus(status([]), { loadBalancer: {} }, ctx), undefined);
});
