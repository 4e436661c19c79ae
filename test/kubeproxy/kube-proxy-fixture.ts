// Shared by the kube-proxy render tests: YAML → the Service-port model, and the Services of
// kube-proxy's own TestOverallIPTablesRules (kubernetes/kubernetes
// pkg/proxy/iptables/proxier_test.go) written as YAML, so our output can be compared with the
// rules kube-proxy's test expects. A helper module: running it alone does nothing.
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { collectServicePorts, type ServicePortsOptions, type ServicePortsResult } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { snapshotOf } from '../translate/golden-harness.js';

export function portsOf(yaml: string, options: ServicePortsOptions = {}): ServicePortsResult {
  const snapshot = snapshotOf(yaml, 'test.yaml');
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  return collectServicePorts(indexResources(snapshot.resources), options);
}

function service(ns: string, name: string, spec: string, status = ''): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}
${status}---
`;
}

function slice(ns: string, svc: string, endpoints: string): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${svc}-1, namespace: ${ns}, labels: {kubernetes.io/service-name: ${svc}}}
addressType: IPv4
ports: [{name: p80, port: 80, protocol: TCP}]
endpoints: ${endpoints}
---
`;
}

/** TestOverallIPTablesRules' six Services (its node ports 3001-3003 need a wider node-port range). */
export const OVERALL_YAML = [
  service('ns1', 'svc1', '{clusterIP: 172.30.0.41, ports: [{name: p80, port: 80, protocol: TCP}]}'),
  service('ns2', 'svc2', '{type: LoadBalancer, externalTrafficPolicy: Local, clusterIP: 172.30.0.42, externalIPs: [192.168.99.22], healthCheckNodePort: 30000, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]}', 'status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}\n'),
  service('ns3', 'svc3', '{type: NodePort, clusterIP: 172.30.0.43, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3003}]}'),
  service('ns4', 'svc4', '{type: NodePort, clusterIP: 172.30.0.44, externalIPs: [192.168.99.33], ports: [{name: p80, port: 80, protocol: TCP, targetPort: 80}]}'),
  service('ns5', 'svc5', '{type: LoadBalancer, externalTrafficPolicy: Cluster, clusterIP: 172.30.0.45, healthCheckNodePort: 30000, loadBalancerSourceRanges: [203.0.113.0/25], sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}, ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3002}]}', 'status: {loadBalancer: {ingress: [{ip: 5.6.7.8}]}}\n'),
  service('ns6', 'svc6', '{type: ClusterIP, clusterIP: 172.30.0.46, ports: [{name: p80, port: 80, protocol: TCP, targetPort: 80}]}'),
  slice('ns1', 'svc1', '[{addresses: [10.180.0.1]}]'),
  // No nodeName: not local, so ns2's Local policy has no endpoint on this node.
  slice('ns2', 'svc2', '[{addresses: [10.180.0.2]}]'),
  slice('ns3', 'svc3', '[{addresses: [10.180.0.3]}]'),
  slice('ns4', 'svc4', '[{addresses: [10.180.0.4]}, {addresses: [10.180.0.5], nodeName: test-node}]'),
  slice('ns5', 'svc5', '[{addresses: [10.180.0.3]}]'),
].join('');
