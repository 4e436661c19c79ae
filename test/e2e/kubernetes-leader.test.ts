import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingressYaml, serviceYaml, startEcho } from './cli-harness.js';
import { startFakeCluster, startKubeGateway, waitFor } from './kubernetes-harness.js';

const INGRESS_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: isthmus}
spec: {controller: isthmus.dev/ingress-controller}
`;

interface Lease {
  spec: { holderIdentity?: string | null; leaseTransitions?: number };
}

test('two replicas: both serve, only the leader writes status, and leadership moves when the leader stops', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  const ingress = (name: string, host: string): string => ingressYaml(name, host, [{ path: '/', service: 'shop' }]).replace('spec:\n', 'spec:\n  ingressClassName: isthmus\n');
  cluster.apply(INGRESS_CLASS + '---\n' + serviceYaml(shop) + '---\n' + ingress('web', 'shop.example'));
  const args = ['--publish-address', '203.0.113.9', '--leader-election-namespace', 'isthmus-system'];
  const a = await startKubeGateway(t, cluster, args, { env: { POD_NAME: 'isthmus-a' } });
  const lease = (): Lease | undefined => cluster.api.get('coordination.k8s.io/v1', 'Lease', 'isthmus-system', 'isthmus-leader') as Lease | undefined;
  await waitFor('replica a to lead', () => (lease()?.spec.holderIdentity === 'isthmus-a' ? true : undefined));
  const b = await startKubeGateway(t, cluster, args, { env: { POD_NAME: 'isthmus-b' } });

  // Both replicas serve traffic.
  for (const gw of [a, b]) {
    const { httpRequest } = await import('./cli-harness.js');
    assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'shop.example' } })).status, 200);
  }
  // A new Ingress: its status is written by the leader alone.
  cluster.apply(ingress('second', 'second.example'));
  await waitFor('status of the second Ingress', () => {
    const ing = cluster.api.get('networking.k8s.io/v1', 'Ingress', 'default', 'second') as { status?: { loadBalancer?: { ingress?: unknown[] } } } | undefined;
    return (ing?.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 500)); // room for a wrong write by b to show up
  const statusWriters = (): Set<string> => new Set(cluster.api.writes.filter((w) => w.path.endsWith('/status')).map((w) => /\((.*)\)/.exec(w.userAgent ?? '')?.[1] ?? '?'));
  assert.deepEqual([...statusWriters()], ['isthmus-a']);
  assert.equal(lease()?.spec.holderIdentity, 'isthmus-a', 'b did not take the lease while a renews it');

  // a stops (SIGTERM): it releases the lease, b takes it and writes the next status.
  a.child.kill('SIGTERM');
  await a.exited;
  await waitFor('replica b to lead', () => (lease()?.spec.holderIdentity === 'isthmus-b' ? true : undefined));
  assert.ok((lease()?.spec.leaseTransitions ?? 0) >= 1);
  cluster.apply(ingress('third', 'third.example'));
  await waitFor('status of the third Ingress, by b', () => {
    const ing = cluster.api.get('networking.k8s.io/v1', 'Ingress', 'default', 'third') as { status?: { loadBalancer?: { ingress?: unknown[] } } } | undefined;
    return (ing?.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? true : undefined;
  });
  const third = cluster.api.writes.filter((w) => w.path.endsWith('/ingresses/third/status'));
  assert.ok(third.length >= 1 && third.every((w) => w.userAgent?.includes('(isthmus-b)')), JSON.stringify(third.map((w) => w.userAgent)));
});

test('a leader that is killed (no release) is replaced once its lease expires', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const args = ['--leader-election-namespace', 'isthmus-system'];
  const a = await startKubeGateway(t, cluster, args, { env: { POD_NAME: 'isthmus-a' } });
  const lease = (): Lease | undefined => cluster.api.get('coordination.k8s.io/v1', 'Lease', 'isthmus-system', 'isthmus-leader') as Lease | undefined;
  await waitFor('replica a to lead', () => (lease()?.spec.holderIdentity === 'isthmus-a' ? true : undefined));
  await startKubeGateway(t, cluster, args, { env: { POD_NAME: 'isthmus-b' } });
  a.child.kill('SIGKILL');
  await a.exited;
  const killedAt = performance.now();
  await waitFor('replica b to lead', () => (lease()?.spec.holderIdentity === 'isthmus-b' ? true : undefined));
  // b must wait out the 1 s lease it saw last renewed, not grab it early.
  assert.ok(performance.now() - killedAt >= 700, `took over after ${Math.round(performance.now() - killedAt)} ms`);
});
