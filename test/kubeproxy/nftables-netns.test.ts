// The proof: `isthmus kube-proxy apply --mode nftables` programs kube-proxy's nftables rules in a
// "node" network namespace, and real TCP connections from a client namespace to the cluster IP
// and to the node port reach every pod in about equal shares. Then the EndpointSlice changes on
// disk: traffic follows, and the update was partial (the sync log counts one chain added, one
// rewritten, one removed; the rule handles of an unrelated Service's chain are unchanged).
// A second lab checks ClientIP affinity and externalTrafficPolicy Local with real connections.
//
//   client 10.99.1.2 ──veth── 10.99.1.1 node (rules, forwarding) 10.99.2.1 ──veth── 10.99.2.2 pods
//                                                                      pods on lo: 10.244.0.11-13:8080
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { configDir, repoRoot } from '../e2e/cli-harness.js';
import { assertShares, buildTrafficLab, LAB_PODS_V6, LAB_SERVICES as SERVICES, requireNft, webSlice } from './nftables-lab.js';


test('kube-proxy apply --mode nftables: real traffic to a cluster IP and a node port, then a partial sync that traffic follows', { timeout: 120_000 }, async (t) => {
  const { lab, node, connect } = await buildTrafficLab(t, 'kpnft', requireNft, { ipv6: true });
  const dir = configDir(t, { 'services.yaml': SERVICES, 'web-slice.yaml': webSlice(['10.244.0.11', '10.244.0.12']) });
  const bin = path.join(repoRoot(), 'dist', 'src', 'cli', 'kube-proxy-apply.js');
  const apply = spawn(process.execPath, [bin, 'kube-proxy', 'apply', '--mode', 'nftables', '--config', dir, '--netns', node, '--node-ip', '10.99.1.1', '--cluster-cidr', '10.244.0.0/16', '--service-cidr', '10.96.0.0/16'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  await waitLog(/nftables sync 1 \(full\)/, 'the full sync');
  assert.doesNotMatch(log, /failed|error/i);

  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'cluster IP, 2 pods');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'node port, 2 pods');
  assert.deepEqual(await connect('10.96.0.30', 80, 5), { '10.244.0.13': 5 }, 'the other Service');
  // No endpoints: kube-proxy rejects (the client hears at once) instead of letting it time out.
  assert.deepEqual(await connect('10.96.0.20', 80, 3), { 'error:ECONNREFUSED': 3 }, 'the Service without endpoints');

  const otherChain = async () => {
    const { stdout } = await lab.exec(node, ['nft', '-a', 'list', 'chains', 'ip']);
    const name = /chain (service-\S+-shop\/other\/tcp\/http) /.exec(stdout)?.[1];
    assert.ok(name !== undefined, `no chain for shop/other in:\n${stdout}`);
    return (await lab.exec(node, ['nft', '-a', 'list', 'chain', 'ip', 'kube-proxy', name])).stdout;
  };
  const otherBefore = await otherChain();
  assert.match(otherBefore, /# handle \d+/);

  // Endpoint .12 goes, .13 comes: written as a new file replacing the old one (atomic rename).
  const replace = (text: string) => {
    writeFileSync(path.join(dir, '.web-slice.tmp'), text);
    renameSync(path.join(dir, '.web-slice.tmp'), path.join(dir, 'web-slice.yaml'));
  };
  replace(webSlice(['10.244.0.11', '10.244.0.13']));
  await waitLog(/nftables sync 2 \(partial\)/, 'the partial sync');
  assert.match(log, /nftables sync 2 \(partial\): ip: 1 chain added, 1 chain rewritten, 1 chain removed\n/);
  // Each command sent is logged (without the rules of the chains it names).
  assert.match(log, /\n {2}add chain ip kube-proxy endpoint-\S+-shop\/web\/tcp\/http__10\.244\.0\.13\/8080\n/);
  assert.match(log, /\n {2}flush chain ip kube-proxy endpoint-\S+-shop\/web\/tcp\/http__10\.244\.0\.12\/8080\n/);
  assert.equal(await otherChain(), otherBefore, 'the unrelated Service\'s chain (rules and handles) was not touched');
  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'cluster IP after the change');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'node port after the change');
  // The flushed endpoint chain is deleted a second later.
  await waitLog(/nftables: deleted 1 stale chain/, 'the stale chain deletion');
  assert.doesNotMatch((await lab.exec(node, ['nft', 'list', 'chains', 'ip'])).stdout, /10\.244\.0\.12/);

  // Three pods: each gets its share.
  replace(webSlice(['10.244.0.11', '10.244.0.12', '10.244.0.13']));
  await waitLog(/nftables sync 3 \(partial\)/, 'the third sync');
  assert.match(log, /nftables sync 3 \(partial\): ip: 1 chain added, 1 chain rewritten\n/);
  assertShares(await connect('10.96.0.10', 80, 300), ['10.244.0.11', '10.244.0.12', '10.244.0.13'], 300, 0.15, 0.55, 'cluster IP, 3 pods');

  // All endpoints gone: the cluster IP and node port move from service-ips / service-nodeports to
  // the no-endpoint maps (reject), and the Service's five chains are flushed.
  replace(webSlice([]).replace('endpoints:\n', 'endpoints: []\n'));
  await waitLog(/nftables sync 4 \(partial\)/, 'the fourth sync');
  assert.match(log, /nftables sync 4 \(partial\): ip: 5 chains removed, 2 elements added, 2 elements deleted\n/);
  assert.deepEqual(await connect('10.96.0.10', 80, 3), { 'error:ECONNREFUSED': 3 }, 'web without endpoints');
  assert.deepEqual(await connect('10.96.0.30', 80, 3), { '10.244.0.13': 3 }, 'the other Service still answers');
  assert.doesNotMatch(log, /failed/);
});

const STICKY_AND_LOCAL = `
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.40
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sticky-1, namespace: shop, labels: {kubernetes.io/service-name: sticky}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
---
apiVersion: v1
kind: Service
metadata: {name: local, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  clusterIP: 10.96.0.50
  externalTrafficPolicy: Local
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30090}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: local-1, namespace: shop, labels: {kubernetes.io/service-name: local}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11], nodeName: node-a}, {addresses: [10.244.0.12], nodeName: node-b}]
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [10.96.0.60, "fd00:96::60"]
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30100}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dual-4, namespace: shop, labels: {kubernetes.io/service-name: dual}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dual-6, namespace: shop, labels: {kubernetes.io/service-name: dual}}
addressType: IPv6
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["fd00:244::11"]}, {addresses: ["fd00:244::12"]}]
`;

test('kube-proxy apply --once: ClientIP affinity keeps a client on one pod; externalTrafficPolicy Local keeps node-port traffic on this node\'s pod; IPv6 through the ip6 table', { timeout: 120_000 }, async (t) => {
  const { lab, node, connect } = await buildTrafficLab(t, 'kpaff', requireNft, { ipv6: true });
  const dir = configDir(t, { 'services.yaml': STICKY_AND_LOCAL });
  const bin = path.join(repoRoot(), 'dist', 'src', 'cli', 'kube-proxy-apply.js');
  const { stdout } = await promisify(execFile)(process.execPath, [bin, '--mode', 'nftables', '--config', dir, '--netns', node, '--node-ip', '10.99.1.1', '--node-ip', 'fd00:99:1::1', '--cluster-cidr', '10.244.0.0/16', '--cluster-cidr', 'fd00:244::/64', '--node-name', 'node-a', '--once']);
  assert.match(stdout, /nftables sync 1 \(full\)/);

  const sticky = await connect('10.96.0.40', 80, 50);
  assert.equal(Object.keys(sticky).length, 1, `every connection on one pod: ${JSON.stringify(sticky)}`);
  const chosen = Object.keys(sticky)[0]!;
  assert.match(chosen, /^10\.244\.0\.1[12]$/);
  // The pod's affinity set holds the client's own address (recorded before masquerade).
  const sets = (await lab.exec(node, ['nft', 'list', 'sets', 'ip'])).stdout;
  const setName = new RegExp(`set (affinity-\\S+-shop/sticky/tcp/http__${chosen.replaceAll('.', '\\.')}/8080)`).exec(sets)?.[1];
  assert.ok(setName !== undefined, sets);
  assert.match((await lab.exec(node, ['nft', 'list', 'set', 'ip', 'kube-proxy', setName])).stdout, /10\.99\.1\.2 (timeout 1m|expires)/);

  // External traffic (a node port) only reaches node-a's pod; the cluster IP reaches both.
  assert.deepEqual(await connect('10.99.1.1', 30090, 100), { '10.244.0.11': 100 }, 'node port with externalTrafficPolicy Local');
  assertShares(await connect('10.96.0.50', 80, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'cluster IP of the Local Service');

  // Dual stack: the ip6 table DNATs IPv6 connections to the IPv6 pods, at the cluster IP and the node port.
  assertShares(await connect('fd00:96::60', 80, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 cluster IP');
  assertShares(await connect('fd00:99:1::1', 30100, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 node port');
  assertShares(await connect('10.96.0.60', 80, 100), ['10.244.0.11', '10.244.0.12'], 100, 0.2, 0.8, 'the dual-stack Service over IPv4');
});
