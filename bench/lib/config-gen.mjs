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

function service(upstreamPort, endpointsKind, podName) {
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
${podName ? `    targetRef: {kind: Pod, namespace: ${NAMESPACE}, name: ${podName}}\n` : ''}`;
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

// ---- Gateway API: GatewayClass isthmus, Gateway bench/edge (one HTTP listener, port 80, no
// hostname), HTTPRoutes to the same Service bench/origin:80.

const GATEWAY = 'edge';

function gatewayFrame(namespace) {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
  labels:
    kubernetes.io/metadata.name: ${namespace}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: isthmus
spec:
  controllerName: isthmus.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: ${GATEWAY}
  namespace: ${namespace}
  creationTimestamp: "${CREATED}"
spec:
  gatewayClassName: isthmus
  listeners:
    - name: http
      protocol: HTTP
      port: 80
`;
}

function writeGatewayBase(dir, upstreamPort, endpointsKind) {
  freshDir(dir);
  writeFileSync(join(dir, '00-cluster.yaml'), gatewayFrame(NAMESPACE));
  writeFileSync(join(dir, '01-service.yaml'), service(upstreamPort, endpointsKind));
}

/** The filters of the "with filters" route: request and response header modifiers and CORS. */
export const GATEWAY_FILTERS = {
  origin: 'https://app.bench.local',
  yaml: [
    '      filters:',
    '        - type: RequestHeaderModifier',
    '          requestHeaderModifier:',
    '            set: [{name: X-Bench-Env, value: bench}]',
    '            add: [{name: X-Via, value: isthmus}]',
    '            remove: [X-Debug]',
    '        - type: ResponseHeaderModifier',
    '          responseHeaderModifier:',
    '            set: [{name: X-Served-By, value: isthmus}]',
    '            remove: [X-Powered-By]',
    '        - type: CORS',
    '          cors:',
    '            allowOrigins: ["https://app.bench.local"]',
    '            allowMethods: [GET, POST]',
    '            allowHeaders: [X-Bench-Env]',
    '            exposeHeaders: [X-Served-By]',
    '            maxAge: 600',
  ],
};

/** `rules`: [{ path, filters?: boolean }], each PathPrefix to bench/origin:80. */
function httpRoute(name, hostnames, rules) {
  const lines = [
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: HTTPRoute',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${NAMESPACE}`,
    `  creationTimestamp: "${CREATED}"`,
    'spec:',
    `  parentRefs: [{name: ${GATEWAY}}]`,
    `  hostnames: [${hostnames.map((h) => JSON.stringify(h)).join(', ')}]`,
    '  rules:',
  ];
  for (const rule of rules) {
    lines.push(`    - matches: [{path: {type: PathPrefix, value: ${JSON.stringify(rule.path)}}}]`);
    if (rule.filters) lines.push(...GATEWAY_FILTERS.yaml);
    lines.push(`      backendRefs: [{name: ${SERVICE}, port: 80}]`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The Gateway API throughput config: HTTPRoute bench/bench, hostname bench.local, one rule `/`;
 * with `filters`, that rule carries GATEWAY_FILTERS. Requests send an allowed Origin either way,
 * so both routes see the same request and only the filters differ.
 */
export function writeGatewaySimpleConfig(dir, { upstreamPort, endpointsKind = 'slice', filters = false }) {
  writeGatewayBase(dir, upstreamPort, endpointsKind);
  writeFileSync(join(dir, '10-httproute-bench.yaml'), httpRoute('bench', ['bench.local'], [{ path: '/', filters }]));
  return { host: 'bench.local', path: '/', headers: [`Origin: ${GATEWAY_FILTERS.origin}`], paths: 1, hosts: 1 };
}

/**
 * `routes` HTTPRoutes × `rulesPerRoute` PathPrefix rules, one hostname per route, one file per
 * route; hostnames numbered from `firstHostIndex` like writeScaleConfig, and the request target
 * is again the last hostname's last rule.
 */
export function writeGatewayScaleConfig(dir, { upstreamPort, endpointsKind = 'slice', routes, rulesPerRoute, firstHostIndex = 0 }) {
  writeGatewayBase(dir, upstreamPort, endpointsKind);
  const rules = Array.from({ length: rulesPerRoute }, (_, j) => ({ path: pathName(j) }));
  for (let i = 0; i < routes; i++) {
    const id = String(i).padStart(4, '0');
    writeFileSync(join(dir, `10-httproute-${id}.yaml`), httpRoute(`scale-${id}`, [hostName(firstHostIndex + i)], rules));
  }
  return {
    host: hostName(firstHostIndex + routes - 1),
    path: `${pathName(rulesPerRoute - 1)}/items`,
    paths: routes * rulesPerRoute,
    hosts: routes,
  };
}

/**
 * The Istio throughput config: an Istio Gateway for bench.local on port 80, a VirtualService whose
 * one route sends everything to subset v1 of bench/origin with a retry policy, and the
 * DestinationRule defining v1 by Pod label. The origin's endpoint names Pod origin-v1 (labels
 * app=origin, version=v1), so the subset holds the same one endpoint the Ingress config uses.
 */
export function writeIstioSimpleConfig(dir, { upstreamPort }) {
  freshDir(dir);
  writeFileSync(join(dir, '00-cluster.yaml'), frame(NAMESPACE));
  writeFileSync(join(dir, '01-service.yaml'), service(upstreamPort, 'slice', 'origin-v1'));
  writeFileSync(join(dir, '02-pod.yaml'), `apiVersion: v1
kind: Pod
metadata:
  name: origin-v1
  namespace: ${NAMESPACE}
  labels: {app: origin, version: v1}
spec:
  containers:
    - name: origin
      image: origin
      ports: [{name: http, containerPort: ${upstreamPort}}]
status:
  phase: Running
  podIP: 127.0.0.1
  conditions: [{type: Ready, status: "True"}]
`);
  writeFileSync(join(dir, '10-istio.yaml'), `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: ${NAMESPACE}}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: [bench.local]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bench, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  hosts: [bench.local]
  gateways: [edge]
  http:
    - route:
        - destination: {host: ${SERVICE}, subset: v1, port: {number: 80}}
      retries: {attempts: 2, perTryTimeout: 2s, retryOn: "5xx,connect-failure,reset"}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${SERVICE}, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  host: ${SERVICE}
  subsets:
    - name: v1
      labels: {version: v1}
`);
  return { host: 'bench.local', path: '/', paths: 1, hosts: 1 };
}

/**
 * The sidecar's throughput config: Service bench/origin and a VirtualService bound to `mesh`
 * (no \`gateways\`) for its in-cluster name, whose one route goes to it with a retry policy. A
 * workload calls it as \`http://origin.bench/\` through the sidecar (explicit mode).
 */
export function writeSidecarConfig(dir, { upstreamPort }) {
  freshDir(dir);
  writeFileSync(join(dir, '00-cluster.yaml'), frame(NAMESPACE));
  writeFileSync(join(dir, '01-service.yaml'), service(upstreamPort, 'slice'));
  writeFileSync(join(dir, '10-mesh.yaml'), `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: origin, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  hosts: [${SERVICE}.${NAMESPACE}.svc.cluster.local]
  http:
    - route:
        - destination: {host: ${SERVICE}, port: {number: 80}}
      retries: {attempts: 2, perTryTimeout: 2s, retryOn: "5xx,connect-failure,reset"}
`);
  return { host: `${SERVICE}.${NAMESPACE}`, path: `http://${SERVICE}.${NAMESPACE}/`, paths: 1, hosts: 1 };
}

// ---- API management: the Gateway API route above (HTTPRoute bench/bench, no filters) with an
// AuthPolicy and a RateLimitPolicy attached to it (policy attachment, route level).

/** The API key wrk sends, the Consumer it names, and the JWT issuer, audience and subject. */
export const APIM = {
  apiKey: 'bench-key-0123456789abcdef',
  consumer: 'bench-client',
  issuer: 'https://idp.bench.local',
  audience: 'bench',
  subject: 'bench-client',
  // A global limit that never refuses during a run: 100 million a minute (~1.7M req/s).
  globalLimit: { requests: 100_000_000, period: '1m' },
};

const routeRef = `{group: gateway.networking.k8s.io, kind: HTTPRoute, name: bench}`;

/**
 * `variant`: `route` (no policies), `key-redis` (AuthPolicy apiKey in header x-api-key, a Consumer
 * holding the key's SHA-256, and a RateLimitPolicy with one `scope: global` limit counted in
 * Redis) or `jwt` (AuthPolicy jwt with the inline `jwks`; the token's subject is the Consumer's
 * jwtSubject). `keySha256` and `jwks` come from the caller (the key's hash, the public keys).
 */
export function writeApimConfig(dir, { upstreamPort, endpointsKind = 'slice', variant, keySha256, jwks, onStoreFailure = 'open' }) {
  writeGatewayBase(dir, upstreamPort, endpointsKind);
  writeFileSync(join(dir, '10-httproute-bench.yaml'), httpRoute('bench', ['bench.local'], [{ path: '/' }]));
  if (variant === 'key-redis') {
    writeFileSync(join(dir, '20-apim.yaml'), `apiVersion: v1
kind: Secret
metadata: {name: bench-key, namespace: ${NAMESPACE}}
type: Opaque
stringData: {sha256: ${keySha256}}
---
apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: ${APIM.consumer}, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  apiKeys: [{secretRef: {name: bench-key}}]
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: bench-key, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  targetRefs: [${routeRef}]
  methods: {apiKey: {header: x-api-key}}
---
apiVersion: isthmus.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: bench-global, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  targetRefs: [${routeRef}]
  limits: [{requests: ${APIM.globalLimit.requests}, period: ${APIM.globalLimit.period}, by: {kind: route}, scope: global}]
  onStoreFailure: ${onStoreFailure}
`);
  } else if (variant === 'jwt') {
    writeFileSync(join(dir, '20-apim.yaml'), `apiVersion: isthmus.dev/v1alpha1
kind: Consumer
metadata: {name: ${APIM.consumer}, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  jwtSubjects: [${APIM.subject}]
---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: bench-jwt, namespace: ${NAMESPACE}, creationTimestamp: "${CREATED}"}
spec:
  targetRefs: [${routeRef}]
  methods:
    jwt:
      issuer: ${APIM.issuer}
      audiences: [${APIM.audience}]
      jwks: ${JSON.stringify(jwks)}
`);
  } else if (variant !== 'route') {
    throw new Error(`writeApimConfig: unknown variant ${variant}`);
  }
  return { host: 'bench.local', path: '/', paths: 1, hosts: 1 };
}
