import { sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import type { ObjectStatus } from '../core/object-status.js';
import type { IrSnapshot } from '../ir/types.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { resolveBackendTlsPolicies } from './gateway-api/backend-tls-policies.js';
import { DEFAULT_GATEWAY_CONTROLLER, translateGatewayApi } from './gateway-api/translate-gateway-api.js';
import { translateIngresses } from './ingress/translate-ingresses.js';
import { createClusterSet } from './services/cluster-set.js';
import { bindListeners, type BindOptions } from './binds/bind-listeners.js';
import { createIstioClusters } from './istio/destination-rules.js';
import { DEFAULT_ISTIO_GATEWAY_LABELS } from './istio/istio-gateways.js';
import { createServiceEntryHosts } from './istio/service-entries.js';
import { translateIstio } from './istio/translate-istio.js';
import type { IrListener } from '../ir/types.js';
import { applyListenerConflicts, refusalsOf } from './gateway-api/listener-conflict-status.js';
import { l4BindRefusals } from './gateway-api/l4-listeners.js';
import { translateApiManagement } from './apim/translate-apim.js';
import { resolveOpenApi } from './apim/openapi-routes.js';
import { translateServiceListeners, type ServiceListenerOptions } from './services/service-l4-listeners.js';
import { bindL4Listeners } from './binds/bind-l4-listeners.js';
import { translateIstioL4 } from './istio/istio-l4.js';
import type { IrL4Listener } from '../ir/l4.js';
import type { IrCluster } from '../ir/types.js';

export interface TranslateOptions {
  /** IngressClass name this instance serves (--ingress-class, default "isthmus"). */
  readonly ingressClass: string;
  /** spec.controller value of IngressClasses that are ours, default "isthmus.dev/ingress-controller". */
  readonly ingressController: string;
  /** Address written into Ingress status.loadBalancer.ingress[].ip */
  readonly statusAddress?: string;
  /** spec.controllerName of GatewayClasses that are ours, default "isthmus.dev/gateway-controller". */
  readonly gatewayController?: string;
  /**
   * `--listen-address` and `--port-map`, for the bind step; default: 0.0.0.0 and ports as
   * declared. The only flags that reach the IR (in `binds`).
   */
  readonly binds?: BindOptions;
  /** `--istio-gateway-labels`: this instance's labels, matched by Istio Gateway selectors (default istio=ingressgateway). */
  readonly istioGatewayLabels?: ReadonlyMap<string, string>;
  /** `--serve-services`: NodePort and LoadBalancer Services become L4 listeners (service-l4-listeners.ts). */
  readonly services?: ServiceListenerOptions;
}

export const DEFAULT_BIND_OPTIONS: BindOptions = { listenAddress: '0.0.0.0', portMap: new Map() };

export const DEFAULT_INGRESS_CLASS = 'isthmus';
export const DEFAULT_INGRESS_CONTROLLER = 'isthmus.dev/ingress-controller';

export interface TranslateResult {
  readonly ir: IrSnapshot;
  readonly statuses: readonly ObjectStatus[];
  /**
   * Problems found while translating (missing Services, conflicts, bad TLS Secrets, ...), sorted.
   * The snapshot's own load diagnostics are not repeated here. The IR is always usable: an error
   * means a unit (a path, a TLS entry, a rule) was dropped or answers 503, not that the rest is wrong.
   */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Resources → IR, statuses and diagnostics. Pure: no I/O, no clock, and the same snapshot gives
 * byte-identical output (everything is sorted).
 */
export function translate(snapshot: ResourceSnapshot, options: TranslateOptions): TranslateResult {
  const diagnostics: Diagnostic[] = [];
  // API versions' OpenAPI documents first: their generated HTTPRoutes join the snapshot's, so the
  // Gateway API translator routes them like any other (openapi-routes.ts says why).
  const openApi = resolveOpenApi(snapshot.resources, diagnostics, snapshot.openApiFiles);
  const index = indexResources(openApi.routes.length === 0 ? snapshot.resources : [...snapshot.resources, ...openApi.routes]);
  // Before any route: a BackendTLSPolicy belongs to a Service port, so to every route reaching it.
  const backendTls = resolveBackendTlsPolicies(index, diagnostics);
  const clusters = createClusterSet(index, diagnostics, backendTls);
  const ingress = translateIngresses(index, options, clusters, diagnostics);
  const gatewayApi = translateGatewayApi(
    index,
    { gatewayController: options.gatewayController ?? DEFAULT_GATEWAY_CONTROLLER, l4ListenAddress: (options.binds ?? DEFAULT_BIND_OPTIONS).listenAddress },
    clusters,
    backendTls,
    diagnostics,
  );
  // Ingress first: on a shared bind it decides the protocol and serves its hosts before any
  // Gateway listener does (the precedence main had before binds; bind-listeners.ts).
  const istioClusters = createIstioClusters(index, clusters, diagnostics, createServiceEntryHosts(index, diagnostics));
  const istio = translateIstio(index, { gatewayLabels: options.istioGatewayLabels ?? DEFAULT_ISTIO_GATEWAY_LABELS }, istioClusters, diagnostics);
  // Then Istio Gateways: on a shared bind, Ingress and Gateway API declarations come first.
  const declared = [...ingress.listeners, ...gatewayApi.listeners, ...istio.listeners];
  // API management last: its policies attach to the routes the translators above produced.
  const apim = translateApiManagement(
    index,
    declared,
    { controllerName: options.gatewayController ?? DEFAULT_GATEWAY_CONTROLLER, istioGatewayLabels: options.istioGatewayLabels ?? DEFAULT_ISTIO_GATEWAY_LABELS, listenerSetParents: gatewayApi.listenerSetParents, openApi: openApi.versions },
    diagnostics,
  );
  const logical = apim.listeners;
  const bound = bindListeners(logical, options.binds ?? DEFAULT_BIND_OPTIONS);
  diagnostics.push(...bound.diagnostics);
  const bindOptions = options.binds ?? DEFAULT_BIND_OPTIONS;
  // L4: Gateway API TLS/TCP/UDP listeners, then Istio's TCP and PASSTHROUGH servers, then
  // (--serve-services) NodePort and LoadBalancer Services; the bind step gives a contested port
  // to the first and to HTTP before any (the order HTTP declarations have).
  const istioL4 = translateIstioL4(index, { gatewayLabels: options.istioGatewayLabels ?? DEFAULT_ISTIO_GATEWAY_LABELS, listenAddress: bindOptions.listenAddress }, istioClusters, diagnostics);
  const declaredL4 = [...gatewayApi.l4Listeners, ...istioL4, ...(options.services !== undefined ? translateServiceListeners(index, options.services, diagnostics) : [])];
  const boundL4 = declaredL4.length === 0 ? [] : bindL4Listeners(declaredL4, bound.binds, bindOptions, diagnostics);
  const used = usedClusters(logical);
  for (const l of istioL4) for (const r of l.routes) for (const b of r.backends) used.add(b.name);
  const irClusters = istioClusters.finish(clusters.build(), used);
  const l4Listeners = withClusterEndpoints(boundL4, irClusters);
  const refusals = [...refusalsOf(bound.conflicts), ...l4BindRefusals(gatewayApi.l4Listeners, gatewayApi.l4Sections, boundL4, bound.binds, bindOptions)];
  const ir: IrSnapshot = {
    generation: snapshot.generation,
    listeners: bound.listeners,
    binds: bound.binds,
    clusters: irClusters,
    // After `clusters`: finish() collects the client certificates of DestinationRule MUTUAL clusters.
    certificates: [...ingress.certificates, ...gatewayApi.certificates, ...istio.certificates, ...istioClusters.certificates()],
    ...(l4Listeners.length > 0 ? { l4Listeners } : {}),
  };
  // Generated HTTPRoutes exist in no source: their statuses have nowhere to go (the API's says enough).
  const generated = new Set(openApi.routes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`));
  const routeStatuses = generated.size === 0 ? gatewayApi.statuses : gatewayApi.statuses.filter((st) => !(st.kind === 'HTTPRoute' && generated.has(`${st.namespace}/${st.name}`)));
  const statuses = [...applyListenerConflicts([...ingress.statuses, ...routeStatuses], refusals, gatewayApi.listenerSetParents), ...apim.statuses];
  return { ir, statuses, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * Istio L4 backends name the cluster their destination resolved to (subsets and ServiceEntries
 * included); once the clusters are built, each backend gets that cluster's endpoints.
 */
function withClusterEndpoints(listeners: readonly IrL4Listener[], clusters: readonly IrCluster[]): IrL4Listener[] {
  const byName = new Map(clusters.map((c) => [c.name, c]));
  return listeners.map((l) =>
    l.routes.every((r) => r.backends.every((b) => b.endpoints.length > 0 || !byName.has(b.name)))
      ? l
      : { ...l, routes: l.routes.map((r) => ({ ...r, backends: r.backends.map((b) => (b.endpoints.length > 0 || !byName.has(b.name) ? b : { ...b, endpoints: byName.get(b.name)!.endpoints })) })) },
  );
}

/** Cluster names that routes forward or mirror to. */
export function usedClusters(listeners: readonly IrListener[]): Set<string> {
  const used = new Set<string>();
  for (const l of listeners) {
    for (const vh of l.virtualHosts) {
      for (const r of vh.routes) {
        if (r.action.kind === 'forward') for (const b of r.action.backends) used.add(b.cluster);
        for (const m of r.mirrors ?? []) used.add(m.cluster);
      }
    }
  }
  return used;
}
