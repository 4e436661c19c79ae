import { sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import type { ObjectStatus } from '../core/object-status.js';
import type { IrSnapshot } from '../ir/types.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { resolveBackendTlsPolicies } from './gateway-api/backend-tls-policies.js';
import { DEFAULT_GATEWAY_CONTROLLER, translateGatewayApi } from './gateway-api/translate-gateway-api.js';
import { translateIngresses } from './ingress/translate-ingresses.js';
import { createClusterSet } from './services/cluster-set.js';

export interface TranslateOptions {
  /** IngressClass name this instance serves (--ingress-class, default "isthmus"). */
  readonly ingressClass: string;
  /** spec.controller value of IngressClasses that are ours, default "isthmus.dev/ingress-controller". */
  readonly ingressController: string;
  /** Address written into Ingress status.loadBalancer.ingress[].ip */
  readonly statusAddress?: string;
  /** spec.controllerName of GatewayClasses that are ours, default "isthmus.dev/gateway-controller". */
  readonly gatewayController?: string;
}

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
  const index = indexResources(snapshot.resources);
  // Before any route: a BackendTLSPolicy belongs to a Service port, so to every route reaching it.
  const backendTls = resolveBackendTlsPolicies(index, diagnostics);
  const clusters = createClusterSet(index, diagnostics, backendTls);
  const ingress = translateIngresses(index, options, clusters, diagnostics);
  const gatewayApi = translateGatewayApi(index, { gatewayController: options.gatewayController ?? DEFAULT_GATEWAY_CONTROLLER }, clusters, backendTls, diagnostics);
  const ir: IrSnapshot = {
    generation: snapshot.generation,
    // Ingress first: where a Gateway without an address shares a port with Ingress, the data plane
    // merges them and the first declaration of a hostname wins.
    listeners: [...ingress.listeners, ...gatewayApi.listeners],
    clusters: clusters.build(),
    certificates: [...ingress.certificates, ...gatewayApi.certificates],
  };
  return { ir, statuses: [...ingress.statuses, ...gatewayApi.statuses], diagnostics: sortDiagnostics(diagnostics) };
}
