// The rendered rules through the real iptables-restore / ip6tables-restore (nf_tables backend)
// inside a network namespace this test creates and removes: `--test` must accept every input, a
// broken line must be refused (so the check can fail), and the IPv4 rules, once loaded, read back
// through iptables-save with kube-proxy's chain names. Needs root and iproute2 + iptables; without
// them the test fails saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { renderIptables } from '../../src/kubeproxy/iptables-render.js';
import { NetnsLab } from '../e2e/netns-harness.js';
import { OVERALL_YAML, portsOf } from './kube-proxy-fixture.js';

function requireTools(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (ip netns add, iptables-restore)');
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  for (const tool of ['ip', 'iptables-restore', 'ip6tables-restore', 'iptables-save']) {
    const found = dirs.some((d) => {
      try {
        accessSync(`${d}/${tool}`, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw new Error(`this test needs ${tool} (Debian packages iproute2 and iptables)`);
  }
}

/** Runs `argv` inside `ns` with `input` on stdin; resolves with the exit code and output. */
function execWithInput(ns: string, argv: readonly string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const DUAL_STACK = `apiVersion: v1
kind: Service
metadata: {name: ds, namespace: default}
spec:
  type: LoadBalancer
  clusterIPs: [10.96.0.20, "fd00:96::20"]
  ipFamilies: [IPv4, IPv6]
  sessionAffinity: ClientIP
  externalTrafficPolicy: Local
  loadBalancerSourceRanges: [203.0.113.0/24, "2001:db8:1::/48"]
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30020}, {name: dns, port: 53, protocol: UDP, targetPort: 5353, nodePort: 30053}]
status: {loadBalancer: {ingress: [{ip: 198.51.100.20}, {ip: "2001:db8:2::20"}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ds-4, namespace: default, labels: {kubernetes.io/service-name: ds}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}, {name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: [10.244.1.5], nodeName: node-a}, {addresses: [10.244.2.7], nodeName: node-b}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ds-6, namespace: default, labels: {kubernetes.io/service-name: ds}}
addressType: IPv6
ports: [{name: http, port: 8080, protocol: TCP}, {name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: ["fd00:244::5"], nodeName: node-a}]
`;

test('iptables-restore --test and ip6tables-restore --test accept the rendered rules in a fresh network namespace', async (t) => {
  requireTools();
  const lab = new NetnsLab(t, 'kprender');
  const ns = await lab.namespace('node');
  const inputs = [
    ...renderIptables(portsOf(OVERALL_YAML, { nodePortRange: { min: 1, max: 65535 } }).ports, { nodeName: 'test-node', nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.0.0.0/8'] }),
    ...renderIptables(portsOf(DUAL_STACK).ports, { nodeName: 'node-a', nodeIPs: ['203.0.113.9', '2001:db8:1::9'], clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/64'] }),
    ...renderIptables(portsOf(DUAL_STACK).ports, { nodeName: 'node-c', masqueradeAll: true }),
  ];
  assert.deepEqual(inputs.map((i) => i.tool), ['iptables-restore', 'iptables-restore', 'ip6tables-restore', 'iptables-restore', 'ip6tables-restore']);
  for (const input of inputs) {
    const r = await execWithInput(ns, [input.tool, '--test'], input.text);
    assert.equal(r.code, 0, `${input.tool} --test refused:\n${r.stderr}\n${input.text}`);
  }
  // The check can fail: an unknown match is refused (a jump to an undeclared chain is not
  // caught by --test on the nf_tables backend, so the renderer's tests check declarations).
  const broken = inputs[0]!.text.replace('-m statistic --mode random', '-m no-such-match --mode random');
  assert.notEqual(broken, inputs[0]!.text);
  assert.notEqual((await execWithInput(ns, ['iptables-restore', '--test'], broken)).code, 0);

  // Loaded for real (as kube-proxy does, --noflush), the nat table reads back with our chains.
  const load = await execWithInput(ns, ['iptables-restore', '--noflush'], inputs[0]!.text);
  assert.equal(load.code, 0, load.stderr);
  const saved = (await lab.exec(ns, ['iptables-save', '-t', 'nat'])).stdout;
  assert.match(saved, /^-A KUBE-SVC-4SW47YFZTEDKD3PK .*--probability 0\.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC$/m);
  assert.match(saved, /^-A KUBE-SVC-NUKIZ6OKUXPJNT4C .*-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-I77PXRDZVX7PMWMN --mask 255\.255\.255\.255 --rsource -j KUBE-SEP-I77PXRDZVX7PMWMN$/m);
  assert.match(saved, /^-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp .*-j DNAT --to-destination 10\.180\.0\.1:80$/m);
});
