// `isthmus kube-proxy apply --mode nftables --layout compact` with real traffic: the rules go in a
// "node" namespace, and TCP connections from a client namespace to a cluster IP and a node port
// (IPv4 and IPv6) reach every pod in about equal shares. The EndpointSlice then changes on disk:
// the partial sync sends element commands only (a new endpoint count adds its three chains), and
// traffic follows. A pod reaching itself through its Service is masqueraded (the hairpin set):
// with the set emptied, the same connection fails. A ClientIP-affinity Service, which the layout
// leaves to kube-proxy's chains in the same table, keeps a client on one pod.
//
//   client 10.99.1.2 ──veth── 10.99.1.1 node (rules, forwarding) 10.99.2.1 ──veth── 10.99.2.2 pods
//                                                                      pods on lo: 10.244.0.11-13:8080
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configDir, repoRoot } from '../e2e/cli-harness.js';
import { assertShares, buildTrafficLab, LAB_PODS_V6, LAB_SERVICES, requireNft, webSlice } from './nftables-lab.js';

const SERVICES = `${LAB_SERVICES}---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  ipFamilies: [IPv6]
  clusterIPs: ["fd00:96::60"]
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30100}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dual-6, namespace: shop, labels: {kubernetes.io/service-name: dual}}
addressType: IPv6
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["fd00:244::11"]}, {addresses: ["fd00:244::12"]}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  clusterIP: 10.96.0.50
  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 5353, nodePort: 30053}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-1, namespace: shop, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.40
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sticky-1, namespace: shop, labels: {kubernetes.io/service-name: sticky}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
`;

// One connection from a pod's own address (the pods namespace) to a Service: what answered, or the error.
const FROM_POD = `
const net = require('node:net');
const [host, port, localAddress] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), localAddress, timeout: 3000 });
let data = '';
s.setEncoding('utf8').on('data', (d) => (data += d));
s.on('end', () => console.log(data));
s.on('timeout', () => { s.destroy(); console.log('timeout'); });
s.on('error', (e) => console.log('error:' + e.code));`;

// UDP pods answering each datagram with their own address; a client sending from a new socket
// (a new conntrack entry, so a new pick) each time, counting who answered.
const UDP_PODS = `
const dgram = require('node:dgram');
for (const address of process.argv.slice(1)) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, from) => s.send(address, from.port, from.address));
  s.bind(5353, address, () => console.log('listening ' + address));
}`;
const UDP_CLIENT = `
const dgram = require('node:dgram');
const [host, port, n] = process.argv.slice(1);
const counts = {};
const one = () => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  const timer = setTimeout(() => { s.close(); resolve('timeout'); }, 2000);
  s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(String(m)); });
  s.send('q', Number(port), host);
});
(async () => {
  for (let i = 0; i < Number(n); i++) { const r = await one(); counts[r] = (counts[r] ?? 0) + 1; }
  console.log(JSON.stringify(counts));
})();`;

test('kube-proxy apply --layout compact: real traffic to cluster IPs and node ports, TCP and UDP, one-endpoint changes sent as elements only, hairpin masquerade, an affinity Service in kube-proxy\'s chains', { timeout: 180_000 }, async (t) => {
  const { lab, node, connect } = await buildTrafficLab(t, 'kpcmp', requireNft, { ipv6: true });
  const dir = configDir(t, { 'services.yaml': SERVICES, 'web-slice.yaml': webSlice(['10.244.0.11', '10.244.0.12']) });
  const bin = path.join(repoRoot(), 'dist', 'src', 'cli', 'kube-proxy-apply.js');
  const apply = spawn(process.execPath, [bin, 'kube-proxy', 'apply', '--mode', 'nftables', '--layout', 'compact', '--config', dir, '--netns', node, '--node-ip', '10.99.1.1', '--node-ip', 'fd00:99:1::1', '--cluster-cidr', '10.244.0.0/16', '--cluster-cidr', 'fd00:244::/64', '--service-cidr', '10.96.0.0/16'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  apply.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  apply.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  t.after(async () => {
    if (apply.exitCode !== null) return;
    const exited = new Promise((r) => apply.once('exit', r));
    apply.kill('SIGTERM');
    await exited;
  });
  const waitLog = (re: RegExp, what: string) => lab.waitFor(`${what}; log so far:\n${log}`, async () => re.test(log));
  await waitLog(/nftables sync 1 \(full\): 2 tables \(compact layout\)/, 'the full sync');
  assert.doesNotMatch(log, /failed|error:/i);
  // The affinity Service is the one in kube-proxy's chains (a service chain, two endpoint chains).
  assert.match(log, /; 1 Service port in kube-proxy's chains \(3 chains\)\n/);
  const sticky = await connect('10.96.0.40', 80, 50);
  assert.equal(Object.keys(sticky).length, 1, `ClientIP affinity: every connection on one pod: ${JSON.stringify(sticky)}`);
  assert.match(Object.keys(sticky)[0]!, /^10\.244\.0\.1[12]$/);

  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'cluster IP, 2 pods');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'node port, 2 pods');
  assert.deepEqual(await connect('10.96.0.30', 80, 5), { '10.244.0.13': 5 }, 'the other Service');
  assert.deepEqual(await connect('10.96.0.20', 80, 3), { 'error:ECONNREFUSED': 3 }, 'the Service without endpoints is rejected');
  assertShares(await connect('fd00:96::60', 80, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 cluster IP');
  assertShares(await connect('fd00:99:1::1', 30100, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 node port');
  // UDP goes through its own map (service-endpoints-udp, nodeport-endpoints-udp).
  const udp = lab.spawn(`${lab.prefix}-pods`, ['node', '-e', UDP_PODS, '10.244.0.11', '10.244.0.12']);
  await lab.waitFor('the UDP pods', async () => udp.stdout().split('\n').filter((l) => l.startsWith('listening')).length === 2);
  const udpCounts = async (host: string, port: number, n: number) => JSON.parse((await lab.exec(`${lab.prefix}-client`, ['node', '-e', UDP_CLIENT, host, String(port), String(n)], 60_000)).stdout) as Record<string, number>;
  assertShares(await udpCounts('10.96.0.50', 53, 100), ['10.244.0.11', '10.244.0.12'], 100, 0.25, 0.75, 'UDP cluster IP');
  assertShares(await udpCounts('10.99.1.1', 30053, 100), ['10.244.0.11', '10.244.0.12'], 100, 0.25, 0.75, 'UDP node port');

  const replace = (text: string) => {
    writeFileSync(path.join(dir, '.web-slice.tmp'), text);
    renameSync(path.join(dir, '.web-slice.tmp'), path.join(dir, 'web-slice.yaml'));
  };
  const sentBy = (n: number) => {
    const block = log.split(/\n(?=nftables sync )/).find((b) => b.startsWith(`nftables sync ${n} `)) ?? '';
    return block.split('\n').filter((l) => /^ {2}(add|delete|flush) /.test(l)).map((l) => l.trim());
  };
  // .12 goes, .13 comes: same count, so index 1 of the cluster IP and of the node port changes;
  // the hairpin pairs stay (.12 is the dns Service's pod, .13 the other Service's).
  replace(webSlice(['10.244.0.11', '10.244.0.13']));
  await waitLog(/nftables sync 2 \(partial\)/, 'the partial sync');
  assert.match(log, /nftables sync 2 \(partial\): ip: 2 elements added, 2 elements deleted; ip6: no change\n/);
  assert.deepEqual(sentBy(2).sort(), [
    'add element ip kube-proxy nodeport-endpoints-tcp { 30080 . 1 : 10.244.0.13 . 8080 }',
    'add element ip kube-proxy service-endpoints-tcp { 10.96.0.10 . 80 . 1 : 10.244.0.13 . 8080 }',
    'delete element ip kube-proxy nodeport-endpoints-tcp { 30080 . 1 }',
    'delete element ip kube-proxy service-endpoints-tcp { 10.96.0.10 . 80 . 1 }',
  ]);
  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'cluster IP after the change');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'node port after the change');

  // Three pods: a count no Service had, so its chains come with the elements.
  replace(webSlice(['10.244.0.11', '10.244.0.12', '10.244.0.13']));
  await waitLog(/nftables sync 3 \(partial\)/, 'the third sync');
  assert.ok(sentBy(3).every((l) => /^(add|delete) element |^add chain ip kube-proxy (cluster|external|nodeport)-3$/.test(l)), sentBy(3).join('\n'));
  assert.match(log, /nftables sync 3 \(partial\): ip: 3 chains added, /);
  assertShares(await connect('10.96.0.10', 80, 300), ['10.244.0.11', '10.244.0.12', '10.244.0.13'], 300, 0.15, 0.55, 'cluster IP, 3 pods');
  assertShares(await connect('10.99.1.1', 30080, 300), ['10.244.0.11', '10.244.0.12', '10.244.0.13'], 300, 0.15, 0.55, 'node port, 3 pods');

  // No endpoints: the addresses move to the no-endpoint maps (reject), still elements only.
  replace(webSlice([]));
  await waitLog(/nftables sync 4 \(partial\)/, 'the fourth sync');
  assert.ok(sentBy(4).every((l) => /^(add|delete) element /.test(l)), sentBy(4).join('\n'));
  assert.deepEqual(await connect('10.96.0.10', 80, 3), { 'error:ECONNREFUSED': 3 }, 'web without endpoints');
  assert.deepEqual(await connect('10.96.0.30', 80, 3), { '10.244.0.13': 3 }, 'the other Service still answers');
  assert.doesNotMatch(log, /failed/);

  // Hairpin: the pod 10.244.0.13 reaches itself through its Service. Without the masquerade its
  // own address would come back to it from outside (a martian, dropped): empty the set to see it.
  const pods = `${lab.prefix}-pods`;
  const fromPod = async () => (await lab.exec(pods, ['node', '-e', FROM_POD, '10.96.0.30', '80', '10.244.0.13'])).stdout.trim();
  assert.equal(await fromPod(), '10.244.0.13', 'the pod reaches itself through the cluster IP');
  await lab.exec(node, ['nft', 'flush', 'set', 'ip', 'kube-proxy', 'hairpin']);
  assert.notEqual(await fromPod(), '10.244.0.13', 'without the hairpin set the connection does not complete');
});
