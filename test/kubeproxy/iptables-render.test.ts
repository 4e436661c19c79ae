// The iptables renderer on the cases kube-proxy distinguishes: the classic NodePort example as a
// golden file, endpoint splits, ClientIP affinity, traffic policies Local, no endpoints,
// loadBalancerSourceRanges, terminating endpoints, dual-stack and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { endpointChainName, externalChainName, localChainName, serviceChainName } from '../../src/kubeproxy/chain-names.js';
import { renderIptables, renderIptablesFamily } from '../../src/kubeproxy/iptables-render.js';
import { repoRoot } from '../e2e/cli-harness.js';
import { OVERALL_YAML, portsOf } from './kube-proxy-fixture.js';

const GOLDEN = path.join(repoRoot(), 'test', 'kubeproxy', 'golden');

function svc(name: string, spec: string, status = ''): string {
  return `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: default}\nspec: ${spec}\n${status}---\n`;
}

function slice(name: string, endpoints: string, family = 'IPv4', suffix = '1'): string {
  return `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}-${suffix}, namespace: default, labels: {kubernetes.io/service-name: ${name}}}\naddressType: ${family}\nports: [{port: 8080, protocol: TCP}]\nendpoints: ${endpoints}\n---\n`;
}

function natRules(text: string, chain: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}

const SEP = (name: string, address: string): string => endpointChainName({ servicePortName: `default/${name}`, protocol: 'TCP' }, { address, port: 8080 });
const SVC = (name: string): string => serviceChainName({ servicePortName: `default/${name}`, protocol: 'TCP' });

test('golden: a NodePort Service with two pods (default/web 80 → 8080, nodePort 30080)', () => {
  const { ports, diagnostics } = portsOf(readFileSync(path.join(GOLDEN, 'web-nodeport.yaml'), 'utf8'));
  assert.deepEqual(diagnostics, []);
  const text = renderIptablesFamily(ports, 'IPv4', { nodeName: 'node-a', clusterCIDRs: ['10.244.0.0/16'] });
  assert.equal(text, readFileSync(path.join(GOLDEN, 'web-nodeport.iptables.txt'), 'utf8'));
  const svcChain = SVC('web');
  assert.deepEqual(natRules(text, 'KUBE-NODEPORTS'), [`-A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30080 -j ${externalChainName({ servicePortName: 'default/web', protocol: 'TCP' })}`]);
  assert.match(natRules(text, svcChain)[1]!, /--probability 0\.5000000000 -j KUBE-SEP-/);
  assert.doesNotMatch(natRules(text, svcChain)[2]!, /statistic/);
});

test('three endpoints: 1/3 then 1/2 then the rest, in kube-proxy\'s endpoint order (sorted by ip:port)', () => {
  const { ports } = portsOf(svc('three', '{clusterIP: 10.96.0.3, ports: [{port: 80, targetPort: 8080}]}') + slice('three', '[{addresses: [10.244.0.9]}, {addresses: [10.244.0.10]}, {addresses: [10.244.0.11]}]'));
  const rules = natRules(renderIptablesFamily(ports, 'IPv4'), SVC('three'));
  // No --cluster-cidr and no --masquerade-all: no masquerade rule in KUBE-SVC.
  assert.deepEqual(rules, [
    `-A ${SVC('three')} -m comment --comment "default/three -> 10.244.0.10:8080" -m statistic --mode random --probability 0.3333333333 -j ${SEP('three', '10.244.0.10')}`,
    `-A ${SVC('three')} -m comment --comment "default/three -> 10.244.0.11:8080" -m statistic --mode random --probability 0.5000000000 -j ${SEP('three', '10.244.0.11')}`,
    `-A ${SVC('three')} -m comment --comment "default/three -> 10.244.0.9:8080" -j ${SEP('three', '10.244.0.9')}`,
  ]);
  const masqAll = natRules(renderIptablesFamily(ports, 'IPv4', { masqueradeAll: true }), SVC('three'));
  assert.equal(masqAll[0], `-A ${SVC('three')} -m comment --comment "default/three cluster IP" -m tcp -p tcp -d 10.96.0.3 --dport 80 -j KUBE-MARK-MASQ`);
});

test('ClientIP affinity: a recent check per endpoint before the split, and --set in each KUBE-SEP', () => {
  const { ports } = portsOf(svc('sticky', '{clusterIP: 10.96.0.4, sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}, ports: [{port: 80, targetPort: 8080}]}') + slice('sticky', '[{addresses: [10.244.0.1]}, {addresses: [10.244.0.2]}]'));
  const text = renderIptablesFamily(ports, 'IPv4');
  const sep1 = SEP('sticky', '10.244.0.1');
  const rules = natRules(text, SVC('sticky'));
  assert.equal(rules.length, 4);
  assert.equal(rules[0], `-A ${SVC('sticky')} -m comment --comment "default/sticky -> 10.244.0.1:8080" -m recent --name ${sep1} --rcheck --seconds 600 --reap -j ${sep1}`);
  assert.match(rules[2]!, /--probability 0\.5000000000/);
  assert.deepEqual(natRules(text, sep1)[1], `-A ${sep1} -m comment --comment default/sticky -m recent --name ${sep1} --set -m tcp -p tcp -j DNAT --to-destination 10.244.0.1:8080`);
});

test('externalTrafficPolicy Local: KUBE-SVL with only this node\'s endpoints; KUBE-EXT short-circuits pods and the node, then jumps to it', () => {
  const yaml = svc('local', '{type: NodePort, externalTrafficPolicy: Local, clusterIP: 10.96.0.5, ports: [{port: 80, targetPort: 8080, nodePort: 30005}]}') + slice('local', '[{addresses: [10.244.1.5], nodeName: node-a}, {addresses: [10.244.2.7], nodeName: node-b}]');
  const { ports } = portsOf(yaml);
  const sp = ports[0]!;
  const text = renderIptablesFamily(ports, 'IPv4', { nodeName: 'node-a', clusterCIDRs: ['10.244.0.0/16'] });
  const ext = externalChainName(sp);
  const svl = localChainName(sp);
  assert.deepEqual(natRules(text, ext), [
    `-A ${ext} -m comment --comment "pod traffic for default/local external destinations" -s 10.244.0.0/16 -j ${SVC('local')}`,
    `-A ${ext} -m comment --comment "masquerade LOCAL traffic for default/local external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    `-A ${ext} -m comment --comment "route LOCAL traffic for default/local external destinations" -m addrtype --src-type LOCAL -j ${SVC('local')}`,
    `-A ${ext} -j ${svl}`,
  ]);
  assert.deepEqual(natRules(text, svl), [`-A ${svl} -m comment --comment "default/local -> 10.244.1.5:8080" -j ${SEP('local', '10.244.1.5')}`]);
  // The cluster chain keeps both endpoints (pods and the node itself use it).
  assert.equal(natRules(text, SVC('local')).length, 3);
  // On a node without a local endpoint: no KUBE-SVL, and outside traffic to the node port is dropped.
  const other = renderIptablesFamily(ports, 'IPv4', { nodeName: 'node-c' });
  assert.equal(natRules(other, svl).length, 0);
  assert.ok(other.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/local has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30005 -j DROP'));
});

test('internalTrafficPolicy Local: the cluster IP jumps to KUBE-SVL; without a local endpoint it DROPs', () => {
  const { ports } = portsOf(svc('itp', '{clusterIP: 10.96.0.6, internalTrafficPolicy: Local, ports: [{port: 80, targetPort: 8080}]}') + slice('itp', '[{addresses: [10.244.1.5], nodeName: node-a}]'));
  const svl = localChainName(ports[0]!);
  assert.ok(renderIptablesFamily(ports, 'IPv4', { nodeName: 'node-a' }).includes(`-A KUBE-SERVICES -m comment --comment "default/itp cluster IP" -m tcp -p tcp -d 10.96.0.6 --dport 80 -j ${svl}`));
  assert.ok(renderIptablesFamily(ports, 'IPv4', { nodeName: 'node-b' }).includes('-A KUBE-SERVICES -m comment --comment "default/itp has no local endpoints" -m tcp -p tcp -d 10.96.0.6 --dport 80 -j DROP'));
});

test('no endpoints: REJECT in the filter table for the cluster IP, external IP, LB IP and node port; no nat chains', () => {
  const { ports } = portsOf(svc('empty', '{type: LoadBalancer, clusterIP: 10.96.0.7, externalIPs: [192.0.2.7], ports: [{port: 80, targetPort: 8080, nodePort: 30007}]}', 'status: {loadBalancer: {ingress: [{ip: 198.51.100.7}]}}\n'));
  const text = renderIptablesFamily(ports, 'IPv4');
  const c = '-m comment --comment "default/empty has no endpoints"';
  for (const line of [
    `-A KUBE-SERVICES ${c} -m tcp -p tcp -d 10.96.0.7 --dport 80 -j REJECT`,
    `-A KUBE-EXTERNAL-SERVICES ${c} -m tcp -p tcp -d 192.0.2.7 --dport 80 -j REJECT`,
    `-A KUBE-EXTERNAL-SERVICES ${c} -m tcp -p tcp -d 198.51.100.7 --dport 80 -j REJECT`,
    `-A KUBE-EXTERNAL-SERVICES ${c} -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30007 -j REJECT`,
  ]) assert.ok(text.includes(line), line);
  assert.doesNotMatch(text, /KUBE-(SVC|EXT|SEP)-/);
});

test('loadBalancerSourceRanges: KUBE-FW admits the ranges (and the node, when inside them), KUBE-PROXY-FIREWALL drops the rest', () => {
  const { ports } = portsOf(svc('fw', '{type: LoadBalancer, clusterIP: 10.96.0.8, loadBalancerSourceRanges: [203.0.113.0/25], ports: [{port: 443, targetPort: 8080, nodePort: 30008}]}', 'status: {loadBalancer: {ingress: [{ip: 198.51.100.8}]}}\n') + slice('fw', '[{addresses: [10.244.0.8]}]'));
  const sp = ports[0]!;
  const fw = `KUBE-FW-${SVC('fw').slice('KUBE-SVC-'.length)}`;
  const ext = externalChainName(sp);
  const text = renderIptablesFamily(ports, 'IPv4', { nodeIPs: ['203.0.113.10'] });
  assert.ok(text.includes(`-A KUBE-SERVICES -m comment --comment "default/fw loadbalancer IP" -m tcp -p tcp -d 198.51.100.8 --dport 443 -j ${fw}`));
  assert.deepEqual(natRules(text, fw), [
    `-A ${fw} -m comment --comment "default/fw loadbalancer IP" -s 203.0.113.0/25 -j ${ext}`,
    `-A ${fw} -m comment --comment "default/fw loadbalancer IP" -s 198.51.100.8 -j ${ext}`,
    `-A ${fw} -m comment --comment "other traffic to default/fw will be dropped by KUBE-PROXY-FIREWALL"`,
  ]);
  assert.ok(text.includes(`-A KUBE-PROXY-FIREWALL -m comment --comment "default/fw traffic not accepted by ${fw}" -m tcp -p tcp -d 198.51.100.8 --dport 443 -j DROP`));
  // A node outside the ranges: no rule for the VIP as source.
  assert.equal(natRules(renderIptablesFamily(ports, 'IPv4', { nodeIPs: ['192.168.0.2'] }), fw).length, 2);
});

test('terminating endpoints serve only when no endpoint is ready', () => {
  const eps = '[{addresses: [10.244.0.1], conditions: {ready: false, serving: true, terminating: true}}, {addresses: [10.244.0.2], conditions: {ready: false, serving: false, terminating: true}}';
  const only = portsOf(svc('term', '{clusterIP: 10.96.0.9, ports: [{port: 80, targetPort: 8080}]}') + slice('term', `${eps}]`));
  assert.deepEqual(natRules(renderIptablesFamily(only.ports, 'IPv4'), SVC('term')), [`-A ${SVC('term')} -m comment --comment "default/term -> 10.244.0.1:8080" -j ${SEP('term', '10.244.0.1')}`]);
  const mixed = portsOf(svc('term', '{clusterIP: 10.96.0.9, ports: [{port: 80, targetPort: 8080}]}') + slice('term', `${eps}, {addresses: [10.244.0.3]}]`));
  assert.deepEqual(natRules(renderIptablesFamily(mixed.ports, 'IPv4'), SVC('term')), [`-A ${SVC('term')} -m comment --comment "default/term -> 10.244.0.3:8080" -j ${SEP('term', '10.244.0.3')}`]);
});

test('dual-stack: an iptables-restore input for IPv4 and an ip6tables-restore one for IPv6, each with its own addresses', () => {
  const { ports } = portsOf(svc('ds', '{clusterIPs: [10.96.0.20, "fd00:96::20"], ipFamilies: [IPv4, IPv6], ports: [{port: 80, targetPort: 8080}]}') + slice('ds', '[{addresses: [10.244.0.20]}]', 'IPv4', '4') + slice('ds', '[{addresses: ["fd00:244::20"]}]', 'IPv6', '6'));
  const out = renderIptables(ports, { clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/64'] });
  assert.deepEqual(out.map((o) => [o.family, o.tool]), [['IPv4', 'iptables-restore'], ['IPv6', 'ip6tables-restore']]);
  assert.ok(out[0]!.text.includes('-d 10.96.0.20 --dport 80') && !out[0]!.text.includes('fd00'));
  const v6 = out[1]!.text;
  assert.ok(v6.includes('-A KUBE-SERVICES -m comment --comment "default/ds cluster IP" -m tcp -p tcp -d fd00:96::20 --dport 80'));
  assert.ok(v6.includes('-j DNAT --to-destination [fd00:244::20]:8080'));
  assert.ok(v6.includes('! -s fd00:244::/64 -j KUBE-MARK-MASQ'));
  assert.ok(v6.includes('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS'));
  // The localhost node-port guard is IPv4 only (IPv6 has no route_localnet).
  assert.ok(!v6.includes('KUBE-FIREWALL'));
});

test('bad input: an invalid node port, one taken twice and a slice of the wrong family are diagnostics; the rest renders', () => {
  const yaml = svc('web', '{type: NodePort, clusterIP: 10.96.0.10, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}') + slice('web', '[{addresses: [10.244.1.5]}]')
    + svc('late', '{type: NodePort, clusterIP: 10.96.0.11, ports: [{name: a, port: 81, targetPort: 8080, nodePort: 30080}, {name: b, port: 82, targetPort: 8080, nodePort: 80}]}')
    + slice('late', '[{addresses: ["fd00::1"]}]', 'IPv6');
  // creationTimestamp decides which Service keeps a contested node port; without it, file order.
  const { ports, diagnostics } = portsOf(yaml.replace('name: late, namespace: default', 'name: late, namespace: default, creationTimestamp: "2026-02-01T00:00:00Z"').replace('name: web, namespace: default}', 'name: web, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}'));
  const texts = diagnostics.map(formatDiagnostic);
  assert.equal(texts.length, 3, texts.join('\n'));
  assert.match(texts.join('\n'), /Service default\/late spec\.ports\[0\]\.nodePort: nodePort 30080\/TCP is already taken by Service default\/web/);
  assert.match(texts.join('\n'), /Service default\/late spec\.ports\[1\]\.nodePort: nodePort 80 is outside the node-port range/);
  assert.match(texts.join('\n'), /EndpointSlice default\/late-1 addressType: IPv6 endpoints for Service default\/late.*ERR_ENDPOINT_FAMILY_MISMATCH/);
  const text = renderIptablesFamily(ports, 'IPv4');
  assert.ok(text.includes('-A KUBE-NODEPORTS -m comment --comment default/web -m tcp -p tcp --dport 30080'));
  assert.ok(!text.includes('default/late:a -m tcp -p tcp --dport'), 'late keeps no node-port rule');
  assert.ok(text.includes('-A KUBE-SERVICES -m comment --comment "default/late:a has no endpoints" -m tcp -p tcp -d 10.96.0.11 --dport 81 -j REJECT'));
});

test('every chain a rule jumps to is declared in the same table (iptables-restore --test on nf_tables does not check it)', () => {
  const { ports } = portsOf(OVERALL_YAML, { nodePortRange: { min: 1, max: 65535 } });
  for (const out of renderIptables(ports, { nodeName: 'node-a', clusterCIDRs: ['10.244.0.0/16'] })) {
    for (const table of out.text.split('COMMIT\n').filter((t) => t.trim() !== '')) {
      const declared = new Set([...table.matchAll(/^:(\S+) /gm)].map((m) => m[1]));
      for (const m of table.matchAll(/ -j (KUBE-\S+)/g)) assert.ok(declared.has(m[1]), `${m[1]} is not declared in\n${table}`);
    }
  }
});
