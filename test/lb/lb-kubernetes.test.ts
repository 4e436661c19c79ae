// `isthmus lb --kubernetes` as a user runs it: the real process against FakeKubeApi (no real API
// server runs on these machines; test/support/fake-kube-api.ts says what it models), two "nodes"
// (servers on loopback addresses answering their name on the node port) as Node objects, and
// LoadBalancer Services written through the fake as kubectl would write them. Every request the lb
// made is then checked against the RBAC in deploy/lb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { freePort, startCli, type RunningCli } from '../e2e/cli-harness.js';
import { startFakeCluster, waitFor, type FakeCluster } from '../e2e/kubernetes-harness.js';
import { kubectlBinaries, render, repoRoot } from '../deploy/render.js';
import { deniedRequests } from './rbac-requests.js';

const LB_SA = { name: 'isthmus-lb', namespace: 'isthmus-system' };

function nameServer(host: string, port: number, name: string): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // health probes connect and reset
    s.end(`${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** What a client reads from host:port, or the error code (ECONNREFUSED) when nothing listens. */
function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, host);
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got.trim()));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

async function askMany(host: string, port: number, times: number): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < times; i++) out.add(await ask(host, port));
  return [...out].sort();
}

function serviceYaml(name: string, port: number, nodePort: number, extra = ''): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.${port % 200}
  ports: [{name: tcp, port: ${port}, nodePort: ${nodePort}}]${extra}
`;
}

const NODES = `apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 127.0.0.31}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: 127.0.0.32}]}
`;

type Ingress = { ip?: string; ipMode?: string }[] | undefined;

function ingressOf(cluster: FakeCluster, name: string): Ingress {
  const svc = cluster.api.get('v1', 'Service', 'shop', name) as { status?: { loadBalancer?: { ingress?: Ingress } } } | undefined;
  return svc?.status?.loadBalancer?.ingress;
}

function statusWrites(cluster: FakeCluster, name: string): number {
  return cluster.api.writes.filter((w) => w.method === 'PUT' && w.path === `/api/v1/namespaces/shop/services/${name}/status`).length;
}

async function startLb(t: Parameters<typeof startCli>[0], cluster: FakeCluster, args: readonly string[]): Promise<RunningCli> {
  const base = ['lb', '--kubernetes', '--kubeconfig', cluster.kubeconfig, '--lease-duration', '1000', '--leader-election-namespace', 'isthmus-system', '--health-interval', '200', '--health-timeout', '200'];
  return await startCli(t, [...base, ...args], /isthmus lb: ready/);
}

test('lb --kubernetes: serves the Service through both nodes, writes its status once, leaves another class alone, drops a dead node, clears the status when the Service stops being ours or a LoadBalancer', async (t) => {
  const nodePort = 30000 + Math.floor(Math.random() * 2600);
  const [webPort, otherPort] = [await freePort('0.0.0.0'), await freePort('0.0.0.0')];
  let b = await nameServer('127.0.0.32', nodePort, 'node-b');
  const a = await nameServer('127.0.0.31', nodePort, 'node-a');
  const other = await nameServer('127.0.0.31', nodePort + 1, 'other-node-port');
  t.after(() => {
    a.close();
    b.close();
    other.close();
  });
  const cluster = await startFakeCluster(t);
  const otherClass = '\n  loadBalancerClass: example.com/other';
  cluster.apply(NODES + '---\n' + serviceYaml('web', 80, nodePort) + '---\n' + serviceYaml('other', 81, nodePort + 1, otherClass));
  const lb = await startLb(t, cluster, ['--advertise-address', '127.0.0.30', '--port-map', `80=${webPort},81=${otherPort}`]);

  // The status names the advertised address (the listener is on 0.0.0.0), with ipMode VIP.
  await waitFor('web status', () => (ingressOf(cluster, 'web')?.[0]?.ip === '127.0.0.30' ? true : undefined), 10_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${lb.stderr()}`);
  });
  assert.deepEqual(ingressOf(cluster, 'web'), [{ ip: '127.0.0.30', ipMode: 'VIP' }]);
  assert.match(lb.stderr(), new RegExp(`listening TCP 0\\.0\\.0\\.0:${webPort} for lb/shop/web/tcp → 127\\.0\\.0\\.31:${nodePort}, 127\\.0\\.0\\.32:${nodePort}`));

  // A real client through the advertised address reaches both nodes.
  assert.deepEqual(await askMany('127.0.0.30', webPort, 10), ['node-a', 'node-b']);

  // The Service of another class: no listener, no status, no write.
  assert.equal(await ask('127.0.0.30', otherPort), 'ECONNREFUSED');
  assert.equal(ingressOf(cluster, 'other'), undefined);
  assert.equal(statusWrites(cluster, 'other'), 0);

  // A node whose node port stops accepting leaves the rotation; the status does not change, so no write.
  await new Promise<void>((r) => b.close(() => r()));
  await waitFor('node-b out of rotation', () => (/node node-b out of rotation \(tcp check of port \d+: .*ECONNREFUSED/.test(lb.stderr()) ? true : undefined));
  assert.deepEqual(await askMany('127.0.0.30', webPort, 10), ['node-a']);
  b = await nameServer('127.0.0.32', nodePort, 'node-b');
  await waitFor('node-b back in rotation', () => (/node node-b back in rotation/.test(lb.stderr()) ? true : undefined));
  assert.equal(statusWrites(cluster, 'web'), 1, 'one write for one change of status');

  // No longer ours: another class (immutable in a real cluster, but a user may recreate the
  // Service; the fake lets the field change in place). The listener goes and our entry is cleared.
  cluster.apply(serviceYaml('web', 80, nodePort, otherClass));
  await waitFor('web status cleared (other class)', () => (ingressOf(cluster, 'web') === undefined ? true : undefined));
  await waitFor('web listener closed', async () => ((await ask('127.0.0.30', webPort)) === 'ECONNREFUSED' ? true : undefined));

  // Ours again, then ClusterIP: the status comes back, then is cleared (a real API server wipes it
  // on the type change too; the fake does not, so this is the lb's write).
  cluster.apply(serviceYaml('web', 80, nodePort));
  await waitFor('web status again', () => (ingressOf(cluster, 'web')?.[0]?.ip === '127.0.0.30' ? true : undefined));
  assert.deepEqual(await askMany('127.0.0.30', webPort, 10), ['node-a', 'node-b']);
  cluster.apply(serviceYaml('web', 80, nodePort).replace('type: LoadBalancer', 'type: ClusterIP'));
  await waitFor('web status cleared (ClusterIP)', () => (ingressOf(cluster, 'web') === undefined ? true : undefined));
  await waitFor('web listener closed', async () => ((await ask('127.0.0.30', webPort)) === 'ECONNREFUSED' ? true : undefined));
  const cleared = cluster.api.get('v1', 'Service', 'shop', 'web') as { status?: unknown };
  assert.deepEqual(cleared.status, { loadBalancer: {} });
  assert.equal(statusWrites(cluster, 'other'), 0, 'the other class was never written');

  assert.equal((await lb.stop()).code, 0);

  // Every request the lb made is one its RBAC in deploy/lb allows; and the check can fail.
  const rbac = render(kubectlBinaries()[0]!, path.join(repoRoot(), 'deploy', 'lb'));
  const verbs = new Set(cluster.api.requests.map((r) => `${r.verb ?? ''} ${r.path.replace(/\/namespaces\/[^/]+/, '').replace(/\/(web|other|isthmus-lb-leader)\b/, '/NAME')}`));
  t.diagnostic(`requests: ${[...verbs].sort().join('; ')}`);
  assert.deepEqual(deniedRequests(rbac, LB_SA, cluster.api.requests), []);
  const withoutStatus = structuredClone(rbac);
  for (const role of withoutStatus) if (role.kind === 'ClusterRole') role.rules = (role.rules as { resources: string[] }[]).filter((r) => !r.resources.includes('services/status'));
  assert.ok(deniedRequests(withoutStatus, LB_SA, cluster.api.requests).some((d) => d.startsWith('update services/status.core shop/web')));
});

test('lb --kubernetes: a Service on its spec.loadBalancerIP gets that address; one on the wildcard without --advertise-address gets no status, said once; --watch-namespace limits what is seen', async (t) => {
  const nodePort = 30000 + Math.floor(Math.random() * 2600);
  const a = await nameServer('127.0.0.31', nodePort, 'node-a');
  t.after(() => a.close());
  const [pinnedPort, wildPort] = [await freePort('127.0.0.33'), await freePort('0.0.0.0')];
  const cluster = await startFakeCluster(t);
  const elsewhere = serviceYaml('elsewhere', 82, nodePort + 2, '\n  loadBalancerIP: 127.0.0.33').replace('namespace: shop', 'namespace: other');
  cluster.apply(NODES + '---\n' + serviceYaml('pinned', 80, nodePort, '\n  loadBalancerIP: 127.0.0.33') + '---\n' + serviceYaml('wild', 81, nodePort + 1) + '---\n' + elsewhere);
  const lb = await startLb(t, cluster, ['--watch-namespace', 'shop', '--port-map', `80=${pinnedPort},81=${wildPort}`]);
  await waitFor('pinned status', () => (ingressOf(cluster, 'pinned')?.[0]?.ip === '127.0.0.33' ? true : undefined));
  assert.deepEqual(ingressOf(cluster, 'pinned'), [{ ip: '127.0.0.33', ipMode: 'VIP' }]);
  assert.match(lb.stderr(), new RegExp(`listening TCP 127\\.0\\.0\\.33:${pinnedPort} for lb/shop/pinned/tcp`));
  assert.equal(await ask('127.0.0.33', pinnedPort), 'node-a');
  // The wildcard Service is served, but names no address: nothing written, one log line.
  assert.match(lb.stderr(), new RegExp(`listening TCP 0\\.0\\.0\\.0:${wildPort} for lb/shop/wild/tcp`));
  cluster.apply(serviceYaml('wild', 81, nodePort + 1, '\n  sessionAffinity: None')); // a change: another plan
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(ingressOf(cluster, 'wild'), undefined);
  assert.equal(statusWrites(cluster, 'wild'), 0);
  const warnings = lb.stderr().match(/Service shop\/wild: its IPv4 listener is on the wildcard address.*its status is not written \(give --advertise-address\)/g) ?? [];
  assert.equal(warnings.length, 1, lb.stderr());
  // --watch-namespace shop: a Service in another namespace is not seen, so neither served nor written.
  assert.doesNotMatch(lb.stderr(), /lb\/other\/elsewhere/);
  assert.equal((cluster.api.get('v1', 'Service', 'other', 'elsewhere') as { status?: unknown }).status, undefined);
  assert.ok(cluster.api.requests.some((r) => r.verb === 'watch' && r.path === '/api/v1/namespaces/shop/services'), 'Services are watched in shop only');
});
