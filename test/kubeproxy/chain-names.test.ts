// Chain names against names kube-proxy itself produced: its own test table
// (kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go) and the well-known chains of every
// kubeadm cluster's `default/kubernetes` and `kube-system/kube-dns` Services as iptables-save
// shows them on real nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointChainName, externalChainName, firewallChainName, kubeProxyChainNames, localChainName, portProtoHash, serviceChainName } from '../../src/kubeproxy/chain-names.js';
import { formatProbability } from '../../src/kubeproxy/iptables-tables.js';
import type { ChainNames } from '../../src/explain/explain-kube-proxy.js';
import { portsOf } from './kube-proxy-fixture.js';

test("names from kube-proxy's own tests: KUBE-SVC/SVL/EXT/FW share the port hash, KUBE-SEP adds the endpoint", () => {
  const p80 = { servicePortName: 'ns1/svc1:p80', protocol: 'TCP' as const };
  assert.equal(serviceChainName(p80), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(localChainName(p80), 'KUBE-SVL-XPGD46QRK7WJZT7O');
  assert.equal(externalChainName(p80), 'KUBE-EXT-XPGD46QRK7WJZT7O');
  assert.equal(firewallChainName({ servicePortName: 'ns5/svc5:p80', protocol: 'TCP' }), 'KUBE-FW-NUKIZ6OKUXPJNT4C');
  assert.equal(endpointChainName(p80, { address: '10.180.0.1', port: 80 }), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.equal(endpointChainName({ servicePortName: 'ns4/svc4:p80', protocol: 'TCP' }, { address: '10.180.0.5', port: 80 }), 'KUBE-SEP-C6EBXVWJJZMIWKLZ');
});

test('the chains every kubeadm cluster has: the protocol is hashed in lower case, so TCP and UDP differ', () => {
  assert.equal(serviceChainName({ servicePortName: 'default/kubernetes:https', protocol: 'TCP' }), 'KUBE-SVC-NPX46M4PTMTKRN6Y');
  assert.equal(serviceChainName({ servicePortName: 'kube-system/kube-dns:dns', protocol: 'UDP' }), 'KUBE-SVC-TCOU7JCQXEZGVUNU');
  assert.equal(serviceChainName({ servicePortName: 'kube-system/kube-dns:dns-tcp', protocol: 'TCP' }), 'KUBE-SVC-ERIFXISQEP7F7OF4');
  assert.equal(serviceChainName({ servicePortName: 'kube-system/kube-dns:metrics', protocol: 'TCP' }), 'KUBE-SVC-JD5MR3NA4I4DYORP');
  assert.equal(portProtoHash('default/kubernetes:https', 'tcp'), portProtoHash('default/kubernetes:https', 'TCP'));
  // Every name fits iptables' 28-character limit.
  assert.ok(endpointChainName({ servicePortName: 'a-very-long-namespace/a-very-long-service:port', protocol: 'SCTP' }, { address: 'fd00:1234::1', port: 65535 }).length <= 28);
});

test('explain names: kubeProxyChainNames gives the renderer\'s names for a model port and endpoint', () => {
  const { ports } = portsOf(`
apiVersion: v1
kind: Service
metadata: {name: svc1, namespace: ns1}
spec: {clusterIP: 172.30.0.41, ports: [{name: p80, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
addressType: IPv4
ports: [{name: p80, port: 80, protocol: TCP}]
endpoints: [{addresses: [10.180.0.1]}]
`);
  const sp = ports[0]!;
  // Compiles only while the object fits explain's interface (kubeproxy/ may not import explain/).
  const names: ChainNames = kubeProxyChainNames;
  assert.equal(names.service(sp), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.deepEqual(
    [kubeProxyChainNames.service(sp), kubeProxyChainNames.local(sp), kubeProxyChainNames.external(sp), kubeProxyChainNames.endpoint(sp, sp.endpoints[0]!)],
    ['KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SVL-XPGD46QRK7WJZT7O', 'KUBE-EXT-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
  );
});

test("probabilities as Go's %0.10f writes them, including its round-half-to-even on the one exact tie (1/2048)", () => {
  assert.deepEqual([2, 3, 4, 7, 1024].map(formatProbability), ['0.5000000000', '0.3333333333', '0.2500000000', '0.1428571429', '0.0009765625']);
  // 1/2048 = 0.00048828125 exactly: Go keeps the even digit; toFixed would give ...813.
  assert.equal(formatProbability(2048), '0.0004882812');
});
