// Shared inputs of the API management translator tests: a Gateway with two listeners, two
// HTTPRoutes (one with two named rules), and helpers to translate YAML and read what a route got.
import { formatDiagnostic } from '../../../src/core/diagnostic.js';
import type { ApimPolicyObjectStatus, ObjectStatus } from '../../../src/core/object-status.js';
import type { IrApiLifecycle, IrAuthn, IrRateLimits } from '../../../src/ir/apim.js';
import type { IrRoute, IrSnapshot } from '../../../src/ir/types.js';
import { parseConfigText } from '../../../src/sources/file/parse-config-text.js';
import { buildSnapshot } from '../../../src/store/build-snapshot.js';
import { translate, type TranslateResult } from '../../../src/translate/translate.js';

export const OPTIONS = { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' } as const;

export const BASE = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners:
    - {name: public, protocol: HTTP, port: 80, hostname: public.test}
    - {name: internal, protocol: HTTP, port: 80, hostname: internal.test}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 9311}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - name: cart
      matches: [{path: {type: PathPrefix, value: /cart}}]
      backendRefs: [{name: web, port: 80}]
    - name: catalog
      matches: [{path: {type: PathPrefix, value: /catalog}}]
      backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: internal}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /admin}}]
      backendRefs: [{name: web, port: 80}]
`;

export function run(yaml: string, options: Partial<Parameters<typeof translate>[1]> = {}): TranslateResult & { readonly load: string[] } {
  const snapshot = buildSnapshot([parseConfigText(yaml, 'test.yaml', 'yaml')], 1);
  return { ...translate(snapshot, { ...OPTIONS, ...options }), load: snapshot.diagnostics.map(formatDiagnostic) };
}

/** Every (listener, route) pair, by `listener name|route name`. */
export function routes(ir: IrSnapshot): Map<string, IrRoute> {
  const out = new Map<string, IrRoute>();
  for (const l of ir.listeners) for (const vh of l.virtualHosts) for (const r of vh.routes) out.set(`${l.name}|${r.name}`, r);
  return out;
}

export function route(ir: IrSnapshot, listener: string, name: string): IrRoute {
  const r = routes(ir).get(`gateway/default/gw/${listener}|${name}`);
  if (r === undefined) throw new Error(`no route ${name} on ${listener}; have ${[...routes(ir).keys()].join(', ')}`);
  return r;
}

export function authnOf(r: IrRoute): IrAuthn | undefined {
  const f = r.filters.find((x) => x.kind === 'authn');
  return f?.kind === 'authn' ? f.authn : undefined;
}

export function rateLimitsOf(r: IrRoute): IrRateLimits | undefined {
  const f = r.filters.find((x) => x.kind === 'rate-limit');
  return f?.kind === 'rate-limit' ? f.rateLimits : undefined;
}

export function lifecycleOf(r: IrRoute): IrApiLifecycle | undefined {
  const f = r.filters.find((x) => x.kind === 'api-lifecycle');
  return f?.kind === 'api-lifecycle' ? f.lifecycle : undefined;
}

export function statusOf(statuses: readonly ObjectStatus[], kind: ApimPolicyObjectStatus['kind'], name: string): ApimPolicyObjectStatus {
  const s = statuses.find((x): x is ApimPolicyObjectStatus => x.kind === kind && x.name === name);
  if (s === undefined) throw new Error(`no status for ${kind} ${name}`);
  return s;
}

export function authPolicy(name: string, targets: string, extra = '', created = '2024-01-01T00:00:00Z'): string {
  return `---
apiVersion: isthmus.dev/v1alpha1
kind: AuthPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  targetRefs: ${targets}
  methods: {apiKey: {header: x-${name}}}
${extra}`;
}

export const GATEWAY = '{group: gateway.networking.k8s.io, kind: Gateway, name: gw}';
export const SHOP = '{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop}';
export const CART = '0';
export const CART_ROUTE = 'httproute/default/shop/rule/0/match/0';
export const CATALOG_ROUTE = 'httproute/default/shop/rule/1/match/0';
export const ADMIN_ROUTE = 'httproute/default/admin/rule/0/match/0';
