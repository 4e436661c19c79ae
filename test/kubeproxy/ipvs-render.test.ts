// The ipvsadm-restore text for kube-proxy's ipvs mode, as text (this machine has no IPVS kernel
// module to load it into): the golden NodePort example, persistence for ClientIP affinity, the
// scheduler option, UDP and IPv6 virtual servers, and the deprecation line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IPVS_DEPRECATION_NOTE, isIpvsScheduler, renderIpvs } from '../../src/kubeproxy/ipvs-render.js';
import { repoRoot } from '../e2e/cli-harness.js';
import { portsOf } from './kube-proxy-fixture.js';

const GOLDEN = path.join(repoRoot(), 'test', 'kubeproxy', 'golden');

test('golden: the NodePort example gives a cluster-IP and a node-IP virtual server, each with both pods', () => {
  const { ports } = portsOf(readFileSync(path.join(GOLDEN, 'web-nodeport.yaml'), 'utf8'));
  const { text, notes } = renderIpvs(ports, { nodeIPs: ['192.168.0.2'] });
  assert.equal(text, readFileSync(path.join(GOLDEN, 'web-nodeport.ipvs.txt'), 'utf8'));
  assert.equal(text.split('\n')[0], IPVS_DEPRECATION_NOTE);
  assert.match(IPVS_DEPRECATION_NOTE, /^# .*deprecated.*nftables/);
  assert.deepEqual(notes, []);
  // Without node IPs the node port has no virtual server, and a note says why.
  const bare = renderIpvs(ports, {});
  assert.ok(!bare.text.includes(':30080'));
  assert.match(bare.notes.join('\n'), /default\/web \(IPv4\): node port 30080 has no virtual server: give the node's IPv4 addresses with --node-ip/);
});

test('ClientIP affinity is persistence (-p seconds); the scheduler option; UDP, LB, external and IPv6 addresses', () => {
  const { ports } = portsOf(`apiVersion: v1
kind: Service
metadata: {name: dns, namespace: kube-system}
spec:
  type: LoadBalancer
  clusterIPs: [10.96.0.53, "fd00:96::53"]
  ipFamilies: [IPv4, IPv6]
  externalIPs: [192.0.2.53]
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 300}}
  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 5353, nodePort: 30053}]
status: {loadBalancer: {ingress: [{ip: 198.51.100.53}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-4, namespace: kube-system, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: [10.244.0.53]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-6, namespace: kube-system, labels: {kubernetes.io/service-name: dns}}
addressType: IPv6
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: ["fd00:244::53"]}]
`);
  const { text } = renderIpvs(ports, { nodeIPs: ['192.168.0.2', '2001:db8::2'], scheduler: 'sh' });
  assert.deepEqual(text.split('\n').slice(1, -1), [
    '-A -u 10.96.0.53:53 -s sh -p 300',
    '-a -u 10.96.0.53:53 -r 10.244.0.53:5353 -m -w 1',
    '-A -u 192.0.2.53:53 -s sh -p 300',
    '-a -u 192.0.2.53:53 -r 10.244.0.53:5353 -m -w 1',
    '-A -u 198.51.100.53:53 -s sh -p 300',
    '-a -u 198.51.100.53:53 -r 10.244.0.53:5353 -m -w 1',
    '-A -u 192.168.0.2:30053 -s sh -p 300',
    '-a -u 192.168.0.2:30053 -r 10.244.0.53:5353 -m -w 1',
    '-A -u [fd00:96::53]:53 -s sh -p 300',
    '-a -u [fd00:96::53]:53 -r [fd00:244::53]:5353 -m -w 1',
    '-A -u [2001:db8::2]:30053 -s sh -p 300',
    '-a -u [2001:db8::2]:30053 -r [fd00:244::53]:5353 -m -w 1',
  ]);
  assert.ok(isIpvsScheduler('wlc') && !isIpvsScheduler('maglev'));
});
