// The proof: `isthmus kube-proxy apply --mode iptables` programs kube-proxy's iptables rules in a
// "node" network namespace (iptables-restore, nf_tables backend), and real TCP connections from a
// client namespace to the cluster IP and to the node port reach every pod in about equal shares.
// Then the EndpointSlice changes on disk: traffic follows, the sync was partial (the log names
// the Service chains written and deleted, and an unrelated Service's chains kept their packet
// counters, so they were not rewritten), and a removed Service's chains are gone. A second test
// checks ClientIP affinity (-m recent) and IPv6 (ip6tables) with real connections. Lab: nftables-lab.ts buildTrafficLab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { endpointChainName, serviceChainName } from '../../src/kubeproxy/chain-names.js';
import { configDir, repoRoot } from '../e2e/cli-harness.js';
import { assertShares, buildTrafficLab, LAB_OTHER_SERVICES, LAB_PODS_V6, LAB_WEB_SERVICE, requireIptables, webSlice } from './nftables-lab.js';

// The real command, as a user runs it.
const ISTHMUS = path.join(repoRoot(), 'bin', 'isthmus.js');
const WEB = { servicePortName: 'shop/web:http', protocol: 'TCP' } as const;
const OTHER = { servicePortName: 'shop/other:http', protocol: 'TCP' } as const;



const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('kube-proxy apply --mode iptables: real traffic to a cluster IP and a node port, partial syncs that traffic follows, a removed Service\'s chains deleted', { timeout: 150_000 }, async (t) => {
  const { lab, node, connect } = await buildTrafficLab(t, 'kpipt', requireIptables);
  const dir = configDir(t, { 'web.yaml': LAB_WEB_SERVICE, 'other.yaml': LAB_OTHER_SERVICES, 'web-slice.yaml': webSlice(['10.244.0.11', '10.244.0.12']) });
  const apply = spawn(process.execPath, [ISTHMUS, 'kube-proxy', 'apply', '--mode', 'iptables', '--config', dir, '--netns', node, '--node-ip', '10.99.1.1', '--cluster-cidr', '10.244.0.0/16'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const nat = async () => (await lab.exec(node, ['iptables-save', '-c', '-t', 'nat'])).stdout;
  await waitLog(/iptables sync 1 \(full\)/, 'the full sync');
  assert.match(log, /iptables sync 1 \(full\): IPv4: 6 service chains written, 0 deleted, 10 fixed chains rewritten\n/);

  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'cluster IP, 2 pods');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'node port, 2 pods');
  assert.deepEqual(await connect('10.96.0.30', 80, 5), { '10.244.0.13': 5 }, 'the other Service');
  // No endpoints: the filter table REJECTs, so the client hears at once.
  assert.deepEqual(await connect('10.96.0.20', 80, 3), { 'error:ECONNREFUSED': 3 }, 'the Service without endpoints');

  // The other Service's endpoint chain counted its 5 connections; a rewrite would reset that.
  const otherSep = endpointChainName(OTHER, { address: '10.244.0.13', port: 8080 });
  const otherCounter = new RegExp(`^\\[([1-9]\\d*):\\d+\\] -A ${otherSep} .*DNAT`, 'm');
  const before = otherCounter.exec(await nat())?.[1];
  assert.ok(before !== undefined, `no counted DNAT rule in ${otherSep}:\n${await nat()}`);

  // Endpoint .12 goes, .13 comes: written as a new file replacing the old one (atomic rename).
  const replace = (name: string, text: string) => {
    writeFileSync(path.join(dir, `.${name}.tmp`), text);
    renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
  };
  replace('web-slice.yaml', webSlice(['10.244.0.11', '10.244.0.13']));
  const [sep11, sep12, sep13] = ['10.244.0.11', '10.244.0.12', '10.244.0.13'].map((address) => endpointChainName(WEB, { address, port: 8080 }));
  // The Service chain and the new endpoint's chain are written; .11's chain and the EXT chain did
  // not change. (Waited for whole: the detail lines are separate writes.)
  await waitLog(new RegExp(`iptables sync 2 \\(partial\\): IPv4: 2 service chains written, 1 deleted, 10 fixed chains rewritten\\n {2}IPv4 nat written: (${serviceChainName(WEB)} ${sep13}|${sep13} ${serviceChainName(WEB)})\\n {2}IPv4 nat deleted: ${sep12}\\n`), 'the partial sync');
  assert.doesNotMatch(log.slice(log.indexOf('iptables sync 2')), new RegExp(escape(sep11!)));
  const afterSync = await nat();
  assert.equal(otherCounter.exec(afterSync)?.[1], before, `the other Service's chain was rewritten:\n${afterSync}`);
  assert.doesNotMatch(afterSync, new RegExp(`:${sep12} `), 'the removed endpoint\'s chain is deleted');
  assertShares(await connect('10.96.0.10', 80, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'cluster IP after the change');
  assertShares(await connect('10.99.1.1', 30080, 200), ['10.244.0.11', '10.244.0.13'], 200, 0.3, 0.7, 'node port after the change');

  // The Service and its slice are deleted: all its chains go (SVC, EXT, two SEP), the others stay.
  rmSync(path.join(dir, 'web-slice.yaml'));
  rmSync(path.join(dir, 'web.yaml'));
  await lab.waitFor(`the Service's removal; log so far:\n${log}`, async () => /iptables sync \d+ \(partial\): IPv4: 0 service chains written, 4 deleted/.test(log));
  const gone = await nat();
  for (const chain of [serviceChainName(WEB), sep11!, sep13!]) assert.doesNotMatch(gone, new RegExp(`^:${chain} `, 'm'), `${chain} is still there:\n${gone}`);
  assert.doesNotMatch(gone, /shop\/web/);
  assert.match(gone, new RegExp(`^:${otherSep} `, 'm'));
  assert.deepEqual(await connect('10.96.0.30', 80, 3), { '10.244.0.13': 3 }, 'the other Service still answers');
  assert.doesNotMatch(log, /failed|ERR_/);
});

const STICKY = `apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.40
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: spread, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.41
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sticky-1, namespace: shop, labels: {kubernetes.io/service-name: sticky}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: spread-1, namespace: shop, labels: {kubernetes.io/service-name: spread}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.11]}, {addresses: [10.244.0.12]}]
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
metadata: {name: dual-6, namespace: shop, labels: {kubernetes.io/service-name: dual}}
addressType: IPv6
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["fd00:244::11"]}, {addresses: ["fd00:244::12"]}]
`;

test('kube-proxy apply --mode iptables --once: ClientIP affinity keeps a client on one pod; IPv6 through ip6tables-restore', { timeout: 120_000 }, async (t) => {
  const { lab, node, connect } = await buildTrafficLab(t, 'kpiptaff', requireIptables, { ipv6: true });
  const dir = configDir(t, { 'services.yaml': STICKY });
  const { stdout } = await promisify(execFile)(process.execPath, [ISTHMUS, 'kube-proxy', 'apply', '--mode', 'iptables', '--config', dir, '--netns', node, '--node-ip', '10.99.1.1', '--node-ip', 'fd00:99:1::1', '--cluster-cidr', '10.244.0.0/16', '--cluster-cidr', 'fd00:244::/64', '--once']);
  assert.match(stdout, /^iptables sync 1 \(full\): IPv4: 6 service chains written, .*; IPv6: 4 service chains written, /);

  const sticky = await connect('10.96.0.40', 80, 50);
  assert.equal(Object.keys(sticky).length, 1, `every connection on one pod: ${JSON.stringify(sticky)}`);
  const chosen = Object.keys(sticky)[0]!;
  assert.match(chosen, /^10\.244\.0\.1[12]$/);
  // The chosen endpoint's `recent` list holds the client's own address (recorded before masquerade).
  const list = endpointChainName({ servicePortName: 'shop/sticky:http', protocol: 'TCP' }, { address: chosen, port: 8080 });
  assert.match((await lab.exec(node, ['cat', `/proc/net/xt_recent/${list}`])).stdout, /src=10\.99\.1\.2 /);
  // The same pods without affinity: the same client is spread (so the stickiness is the rule's doing).
  assertShares(await connect('10.96.0.41', 80, 200), ['10.244.0.11', '10.244.0.12'], 200, 0.3, 0.7, 'the Service without affinity');

  // Dual stack: the ip6tables rules DNAT IPv6 connections to the IPv6 pods, at the cluster IP and the node port.
  assertShares(await connect('fd00:96::60', 80, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 cluster IP');
  assertShares(await connect('fd00:99:1::1', 30100, 200), LAB_PODS_V6, 200, 0.3, 0.7, 'IPv6 node port');
});
