// HTTPRoute and GRPCRoute backendRefs → weighted IR backends. A backendRef that cannot be used keeps its weight
// and answers 500 for its share ("requests that would have been sent to that backend MUST
// receive a 500", gateway.networking.k8s.io/v1 HTTPBackendRef); ResolvedRefs says why.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrFilter, IrWeightedBackend } from '../../ir/types.js';
import { refOf, type GatewayRoute, type ReferenceGrant } from '../../resources/resource.js';
import type { ClusterSet, UnstatedProtocol } from '../services/cluster-set.js';
import { GATEWAY_GROUP } from './gateway-listeners.js';
import { isReferencePermitted } from './reference-grants.js';

/** The first unresolved reference of a route decides its ResolvedRefs condition. */
export interface RefProblem {
  readonly reason: 'BackendNotFound' | 'InvalidKind' | 'RefNotPermitted';
  readonly message: string;
}

/**
 * A cluster name that the IR deliberately leaves undefined: the data plane answers 500 for a
 * backend whose cluster does not exist, so an invalid backendRef costs exactly its share.
 */
export function invalidBackendCluster(routeName: string, fieldPath: string): string {
  return `invalid/${routeName}/${fieldPath}`;
}

export interface BackendRefLike {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface BackendContext {
  readonly route: GatewayRoute;
  readonly routeName: string;
  /** Backend protocol when the Service port does not say: h2c for GRPCRoute. */
  readonly unstatedProtocol: UnstatedProtocol;
  readonly clusters: ClusterSet;
  readonly grants: readonly ReferenceGrant[];
  readonly diagnostics: Diagnostic[];
  readonly problems: RefProblem[];
  /** Rules dropped for a value Isthmus cannot serve (an invalid regex): `field: why`. */
  readonly invalidRules: string[];
  /** Service ports the route's backendRefs reach (resolved or not past the Service): BackendTLSPolicy ancestors. */
  readonly serviceUses: ServiceUse[];
}

export interface ServiceUse {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

/** Resolves one backendRef (or mirror backendRef) to a cluster name, or records why not. */
export function resolveBackendCluster(ref: BackendRefLike, fieldPath: string, ctx: BackendContext): { cluster: string; ok: boolean } {
  const route = ctx.route;
  const ns = route.metadata.namespace ?? 'default';
  const targetNs = ref.namespace ?? ns;
  const fail = (reason: RefProblem['reason'], code: Diagnostic['code'], message: string): { cluster: string; ok: boolean } => {
    ctx.problems.push({ reason, message });
    ctx.diagnostics.push({ severity: 'error', code, object: refOf(route), source: route.source, path: fieldPath, message: `${message}; its share of requests gets 500` });
    return { cluster: invalidBackendCluster(ctx.routeName, fieldPath), ok: false };
  };
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  if (group !== '' || kind !== 'Service') return fail('InvalidKind', 'ERR_ROUTE_BACKEND_INVALID_KIND', `backendRef kind ${group === '' ? 'core' : group}/${kind} is not supported (core Service is)`);
  const permitted = isReferencePermitted(
    { fromGroup: GATEWAY_GROUP, fromKind: route.kind, fromNamespace: ns, toGroup: '', toKind: 'Service', toNamespace: targetNs, toName: ref.name },
    ctx.grants,
  );
  if (!permitted) return fail('RefNotPermitted', 'ERR_ROUTE_REF_NOT_PERMITTED', `Service ${targetNs}/${ref.name} is in another namespace and no ReferenceGrant there allows ${route.kind}s from "${ns}"`);
  if (ref.port === undefined) return fail('BackendNotFound', 'ERR_BACKEND_PORT_NOT_FOUND', `backendRef to Service "${ref.name}" needs a port`);
  ctx.serviceUses.push({ namespace: targetNs, service: ref.name, port: ref.port });
  const resolution = ctx.clusters.reference(targetNs, ref.name, { kind: 'number', number: ref.port }, ctx.unstatedProtocol);
  if (resolution.kind === 'error' && resolution.policy !== undefined) {
    // The reference resolved; the policy on the Service port is what fails, and its status says
    // so (BackendTLSPolicy Accepted/ResolvedRefs). The route keeps ResolvedRefs True and the
    // diagnostic names the policy.
    ctx.diagnostics.push({ severity: 'error', code: resolution.code, object: refOf(route), source: route.source, path: fieldPath, message: `${resolution.message}; its share of requests gets 500` });
    return { cluster: invalidBackendCluster(ctx.routeName, fieldPath), ok: false };
  }
  if (resolution.kind === 'error') return fail('BackendNotFound', resolution.code, resolution.message);
  return { cluster: resolution.cluster, ok: true };
}

export function weightedBackend(cluster: string, weight: number, filters: readonly IrFilter[]): IrWeightedBackend {
  return filters.length > 0 ? { cluster, weight, filters } : { cluster, weight };
}
