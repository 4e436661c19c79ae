// Two `isthmus lb --kubernetes` replicas against FakeKubeApi: both proxy, only the holder of the
// lb's own Lease (isthmus-lb-leader, not the gateway's) writes Service status, and when it stops
// the other takes the Lease and writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, startCli, type RunningCli } from '../e2e/cli-harness.js';
import { startFakeCluster, waitFor, type FakeCluster } from '../e2e/kubernetes-harness.js';

function service(name: string, port: number, nodePort: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: {type: LoadBalancer, ports: [{port: ${port}, nodePort: ${nodePort}}]}
---
`;
}

function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.30');
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got.trim()));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

async function startReplica(t: Parameters<typeof startCli>[0], cluster: FakeCluster, pod: string, portMap: string): Promise<RunningCli> {
  // The replica's identity comes from POD_NAME (the downward API in a Pod); spawn copies the
  // environment at the call, so it is set just for this start.
  process.env.POD_NAME = pod;
  try {
    const args = ['lb', '--kubernetes', '--kubeconfig', cluster.kubeconfig, '--lease-duration', '1000', '--leader-election-namespace', 'isthmus-system', '--advertise-address', '127.0.0.30'];
    return await startCli(t, [...args, '--node', 'node-a=127.0.0.36', '--port-map', portMap, '--health-interval', '200'], /isthmus lb: ready/);
  } finally {
    delete process.env.POD_NAME;
  }
}

test('lb --kubernetes, two replicas: both proxy, only the leader writes status, the other takes over when it stops', async (t) => {
  const nodePort = 30000 + Math.floor(Math.random() * 2600);
  // One node, answering on the node port of each of the three Services.
  for (const port of [nodePort, nodePort + 1, nodePort + 2]) {
    const node = net.createServer((s) => {
      s.on('error', () => {});
      s.end('node-a\n');
    });
    await new Promise<void>((r) => node.listen(port, '127.0.0.36', () => r()));
    t.after(() => node.close());
  }
  const cluster = await startFakeCluster(t);
  cluster.apply(service('first', 80, nodePort));
  const lease = (): string | null | undefined => (cluster.api.get('coordination.k8s.io/v1', 'Lease', 'isthmus-system', 'isthmus-lb-leader') as { spec: { holderIdentity?: string | null } } | undefined)?.spec.holderIdentity;
  const ipOf = (name: string): string | undefined =>
    (cluster.api.get('v1', 'Service', 'shop', name) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } } | undefined)?.status?.loadBalancer?.ingress?.[0]?.ip;
  const writersOf = (name: string): string[] => [...new Set(cluster.api.writes.filter((w) => w.path === `/api/v1/namespaces/shop/services/${name}/status`).map((w) => /\((.*)\)/.exec(w.userAgent ?? '')?.[1] ?? '?'))];

  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort('0.0.0.0'));
  const [pa, pa1, pa2, pb, pb1, pb2] = ports as [number, number, number, number, number, number];
  const a = await startReplica(t, cluster, 'lb-a', `80=${pa},81=${pa1},82=${pa2}`);
  await waitFor('lb-a to lead', () => (lease() === 'lb-a' ? true : undefined));
  await waitFor('status of first', () => (ipOf('first') === '127.0.0.30' ? true : undefined));
  const b = await startReplica(t, cluster, 'lb-b', `80=${pb},81=${pb1},82=${pb2}`);

  // Both replicas proxy.
  assert.equal(await ask(pa), 'node-a');
  assert.equal(await ask(pb), 'node-a');

  // A new Service: written by the leader alone.
  cluster.apply(service('second', 81, nodePort + 1));
  await waitFor('status of second', () => (ipOf('second') === '127.0.0.30' ? true : undefined)).catch((err: Error) => {
    throw new Error(`${err.message}\n${a.stderr()}\n${b.stderr()}`);
  });
  await new Promise((r) => setTimeout(r, 500)); // room for a wrong write by lb-b to show up
  assert.deepEqual([...writersOf('first'), ...writersOf('second')], ['lb-a', 'lb-a']);
  assert.equal(lease(), 'lb-a');
  assert.ok(!cluster.api.list('coordination.k8s.io/v1', 'Lease').some((l) => l.metadata.name === 'isthmus-leader'), 'the lb uses its own Lease, not the gateway\'s');

  // lb-a stops: it releases the Lease, lb-b takes it and writes the next status.
  assert.equal((await a.stop()).code, 0);
  await waitFor('lb-b to lead', () => (lease() === 'lb-b' ? true : undefined));
  cluster.apply(service('third', 82, nodePort + 2));
  await waitFor('status of third', () => (ipOf('third') === '127.0.0.30' ? true : undefined));
  assert.deepEqual(writersOf('third'), ['lb-b']);
  assert.equal(await ask(pb), 'node-a');
  assert.equal((await b.stop()).code, 0);
});
