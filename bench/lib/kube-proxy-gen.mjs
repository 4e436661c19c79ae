// The kube-proxy scale benchmark's input: N Services × E endpoints as YAML files (a Service and its
// EndpointSlice per object pair), in files of `perFile` Services, as a cluster's objects would be
// dumped. Every tenth Service is a NodePort, the rest ClusterIP; one TCP port each. Deterministic:
// the same shape gives byte-identical files, so runs compare.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Cluster IP of Service i: 10.96.0.0/12 (kube's default service CIDR), skipping .0. */
export function clusterIpOf(i) {
  const n = i + 1;
  return `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** Endpoint e of Service i: pod addresses in 10.244.0.0/16 and up, distinct per (i, e). */
export function endpointIpOf(i, e, perService) {
  const n = i * perService + e + 1;
  return `10.${244 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

const nameOf = (i) => `svc-${String(i).padStart(5, '0')}`;
const namespaceOf = (i) => `ns-${String(Math.floor(i / 100)).padStart(3, '0')}`;

function serviceYaml(i) {
  const nodePort = i % 10 === 0 ? `, nodePort: ${30000 + (i / 10) % 2700}` : '';
  const type = i % 10 === 0 ? 'NodePort' : 'ClusterIP';
  return `apiVersion: v1
kind: Service
metadata: {name: ${nameOf(i)}, namespace: ${namespaceOf(i)}}
spec: {type: ${type}, clusterIP: ${clusterIpOf(i)}, ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080${nodePort}}]}
---
`;
}

export function sliceYaml(i, addresses) {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${nameOf(i)}-abcde, namespace: ${namespaceOf(i)}, labels: {kubernetes.io/service-name: ${nameOf(i)}}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [${addresses.map((a) => `{addresses: [${a}], conditions: {ready: true}}`).join(', ')}]
---
`;
}

/**
 * Writes `services` Services with `endpoints` endpoints each under `dir`, `perFile` per file
 * (`services-NNN.yaml`). Returns the files and a way to change one endpoint of the last Service.
 */
export function writeKubeProxyScale(dir, { services, endpoints, perFile = 100 }) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (let first = 0; first < services; first += perFile) {
    const parts = [];
    for (let i = first; i < Math.min(services, first + perFile); i++) {
      parts.push(serviceYaml(i), sliceYaml(i, Array.from({ length: endpoints }, (_, e) => endpointIpOf(i, e, endpoints))));
    }
    const file = join(dir, `services-${String(first / perFile).padStart(3, '0')}.yaml`);
    writeFileSync(file, parts.join(''));
    files.push(file);
  }
  const last = services - 1;
  let current = endpointIpOf(last, endpoints - 1, endpoints);
  let changes = 0;
  return {
    files,
    service: `${namespaceOf(last)}/${nameOf(last)}`,
    /**
     * Rewrites the last file with the last Service's last endpoint moved to a new address (one no
     * other endpoint has: 10.250.0.0/16 is past the generated range), so exactly one endpoint changes.
     */
    changeOneEndpoint() {
      const file = files.at(-1);
      const text = readFileSync(file, 'utf8');
      const needle = `{addresses: [${current}]`;
      if (text.split(needle).length !== 2) throw new Error(`${file}: expected ${current} exactly once`);
      const oldAddress = current;
      changes++;
      current = `10.250.${changes & 255}.${(changes >> 8) & 255}`;
      writeFileSync(file, text.replace(needle, `{addresses: [${current}]`));
      return { file, oldAddress, newAddress: current };
    },
  };
}
