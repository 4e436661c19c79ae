// Writes the Kubernetes objects Isthmus is benchmarked on (file mode): what a cluster would
// have (Namespace, default IngressClass), a selector-less Service `bench/origin` whose
// endpoints point at the origin on 127.0.0.1, and Ingresses routing to it. YAML is written
// by hand: the shapes are fixed and the harness then needs no dependency.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NAMESPACE = 'bench';
export const SERVICE = 'origin';
const CREATED = '2024-01-01T00:00:00Z';

function frame(namespace) {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
  labels:
    kubernetes.io/metadata.name: ${namespace}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: isthmus
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: isthmus.dev/ingress-controller
`;
}

function service(upstreamPort, endpointsKind) {
  const svc = `apiVersion: v1
kind: Service
metadata:
  name: ${SERVICE}
  namespace: ${NAMESPACE}
  creationTimestamp: "${CREATED}"
spec:
  type: ClusterIP
  ports:
    - name: http
      port: 80
      targetPort: ${upstreamPort}
      protocol: TCP
`;
  const endpoints =
    endpointsKind === 'endpoints'
      ? `apiVersion: v1
kind: Endpoints
metadata:
  name: ${SERVICE}
  namespace: ${NAMESPACE}
subsets:
  - addresses:
      - ip: 127.0.0.1
    ports:
      - name: http
        port: ${upstreamPort}
        protocol: TCP
`
      : `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${SERVICE}-bench
  namespace: ${NAMESPACE}
  labels:
    kubernetes.io/service-name: ${SERVICE}
addressType: IPv4
ports:
  - name: http
    port: ${upstreamPort}
    protocol: TCP
endpoints:
  - addresses:
      - 127.0.0.1
    conditions:
      ready: true
      serving: true
      terminating: false
`;
  return `${svc}---\n${endpoints}`;
}

/** `rules`: [{ host, paths: [string] }], every path Prefix to bench/origin:80. */
function ingress(name, rules) {
  const lines = [
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${NAMESPACE}`,
    `  creationTimestamp: "${CREATED}"`,
    'spec:',
    '  ingressClassName: isthmus',
    '  rules:',
  ];
  for (const rule of rules) {
    lines.push(`    - host: ${rule.host}`, '      http:', '        paths:');
    for (const path of rule.paths) {
      lines.push(
        `          - path: ${path}`,
        '            pathType: Prefix',
        '            backend:',
        '              service:',
        `                name: ${SERVICE}`,
        '                port:',
        '                  number: 80',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function freshDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

function writeBase(dir, upstreamPort, endpointsKind) {
  freshDir(dir);
  writeFileSync(join(dir, '00-cluster.yaml'), frame(NAMESPACE));
  writeFileSync(join(dir, '01-service.yaml'), service(upstreamPort, endpointsKind));
}

/** The main benchmark's config: Ingress bench/bench, host bench.local, `/` Prefix. */
export function writeSimpleConfig(dir, { upstreamPort, endpointsKind = 'slice' }) {
  writeBase(dir, upstreamPort, endpointsKind);
  writeFileSync(join(dir, '10-ingress-bench.yaml'), ingress('bench', [{ host: 'bench.local', paths: ['/'] }]));
  return { host: 'bench.local', path: '/', paths: 1, hosts: 1 };
}

const hostName = (i) => `h${String(i).padStart(4, '0')}.scale.local`;
const pathName = (j) => `/svc${j}/api`;

/**
 * `ingresses` × `hostsPerIngress` hosts × `pathsPerHost` Prefix paths, one file per Ingress,
 * hosts numbered from `firstHostIndex`. The request target is the last host's last path: the
 * worst case for anything that scans. The 10-path baseline writes one host, numbered so that
 * it is that same last host, and so serves the very same request.
 */
export function writeScaleConfig(dir, { upstreamPort, endpointsKind = 'slice', ingresses, hostsPerIngress, pathsPerHost, firstHostIndex = 0 }) {
  writeBase(dir, upstreamPort, endpointsKind);
  const paths = Array.from({ length: pathsPerHost }, (_, j) => pathName(j));
  let hostIndex = firstHostIndex;
  for (let i = 0; i < ingresses; i++) {
    const rules = [];
    for (let h = 0; h < hostsPerIngress; h++) rules.push({ host: hostName(hostIndex++), paths });
    const id = String(i).padStart(3, '0');
    writeFileSync(join(dir, `10-ingress-${id}.yaml`), ingress(`scale-${id}`, rules));
  }
  return {
    host: hostName(hostIndex - 1),
    path: `${pathName(pathsPerHost - 1)}/items`,
    paths: ingresses * hostsPerIngress * pathsPerHost,
    hosts: ingresses * hostsPerIngress,
  };
}
