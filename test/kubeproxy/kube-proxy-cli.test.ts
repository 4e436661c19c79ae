// `isthmus kube-proxy render` as a user runs it: the real binary (bin/isthmus.js) on a folder of
// YAML, rules on stdout, diagnostics on stderr, and its exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDir, repoRoot, runCli } from '../e2e/cli-harness.js';

const GOLDEN = path.join(repoRoot(), 'test', 'kubeproxy', 'golden');

test('render --mode iptables prints the golden rules for a folder of YAML; --mode ipvs the ipvsadm input', async () => {
  const r = await runCli(['kube-proxy', 'render', '--mode', 'iptables', '--config', GOLDEN, '--node-name', 'node-a', '--cluster-cidr', '10.244.0.0/16']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(path.join(GOLDEN, 'web-nodeport.iptables.txt'), 'utf8'));
  assert.equal(r.stderr, '');
  const ipvs = await runCli(['kube-proxy', 'render', '--mode', 'ipvs', '--config', GOLDEN, '--node-ip', '192.168.0.2']);
  assert.equal(ipvs.code, 0, ipvs.stderr);
  assert.equal(ipvs.stdout, readFileSync(path.join(GOLDEN, 'web-nodeport.ipvs.txt'), 'utf8'));
});

test('diagnostics go to stderr and the rest still renders (exit 0); dual-stack prints the IPv6 input after a marker line', async (t) => {
  const dir = configDir(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: bad, namespace: default}
spec: {type: NodePort, clusterIPs: [10.96.0.30, "fd00:96::30"], ipFamilies: [IPv4, IPv6], ports: [{port: 80, nodePort: 99}]}
`,
  });
  const r = await runCli(['kube-proxy', 'render', '--mode', 'iptables', '--config', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^error: Service default\/bad spec\.ports\[0\]\.nodePort: nodePort 99 is outside the node-port range 30000-32767.*\[ERR_SERVICE_NODE_PORT_INVALID\]/m);
  assert.match(r.stdout, /"default\/bad has no endpoints" -m tcp -p tcp -d 10\.96\.0\.30 --dport 80 -j REJECT/);
  const [v4, v6] = r.stdout.split('# ip6tables-restore input (IPv6)\n');
  assert.ok(v4 !== undefined && v6 !== undefined && v4.endsWith('COMMIT\n') && v6.startsWith('*filter\n'));
  assert.match(v6, /-d fd00:96::30 --dport 80 -j REJECT/);
  const only6 = await runCli(['kube-proxy', 'render', '--mode', 'iptables', '--config', dir, '--family', 'IPv6']);
  assert.ok(only6.stdout.startsWith('# ip6tables-restore input (IPv6)\n*filter\n') && !only6.stdout.includes('10.96.0.30'));
});

test('render --mode nftables prints the nftables script (both families in one nft -f input)', async () => {
  const r = await runCli(['kube-proxy', 'render', '--mode', 'nftables', '--config', GOLDEN, '--node-ip', '192.168.0.2', '--cluster-cidr', '10.244.0.0/16', '--node-name', 'node-a']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^add table ip kube-proxy/m);
  assert.match(r.stdout, /numgen random mod 2 vmap \{ 0 : goto endpoint-\w+-default\/web\/tcp\/__10\.244\.1\.5\/8080 , 1 : goto endpoint-\w+-default\/web\/tcp\/__10\.244\.2\.7\/8080 \}/);
});

test('exit 1 when the folder cannot be read; exit 2 with the list of modes for an unknown or unavailable mode', async () => {
  const missing = await runCli(['kube-proxy', 'render', '--mode', 'iptables', '--config', path.join(GOLDEN, 'no-such-folder')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /ERR_CONFIG_READ/);
  const unknown = await runCli(['kube-proxy', 'render', '--mode', 'userspace', '--config', GOLDEN]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown mode "userspace"; modes: iptables, nftables.*, ipvs/);
  const badScheduler = await runCli(['kube-proxy', 'render', '--mode', 'ipvs', '--config', GOLDEN, '--scheduler', 'fastest']);
  assert.equal(badScheduler.code, 2);
  assert.match(badScheduler.stderr, /--scheduler expects one of rr, wrr, lc, wlc, sh, dh, sed, nq/);
});

test('help: kube-proxy --help lists the flags; the top-level help names the command', async () => {
  const help = await runCli(['kube-proxy', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--mode', '--config', '--node-name', '--node-ip', '--cluster-cidr', '--masquerade-all', '--scheduler', '--family']) assert.ok(help.stdout.includes(flag), flag);
  const top = await runCli(['--help']);
  assert.match(top.stdout, /isthmus kube-proxy render --mode iptables\|nftables\|ipvs --config DIR/);
});
