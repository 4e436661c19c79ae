// TCPRoute, UDPRoute and TLSRoute backendRefs → weighted IR L4 backends. A backendRef that cannot
// be used keeps its weight with no endpoints, so its share of connections is refused: "If
// unspecified or invalid (refers to a nonexistent resource or a Service with no endpoints), the
// underlying implementation MUST actively reject connection attempts to this backend. Connection
// rejections must respect weight" (gateway.networking.k8s.io/v1alpha2 TCPRouteRule.backendRefs).
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrL4Backend, IrL4Endpoint } from '../../ir/l4.js';
import { refOf, type L4BackendRef, type L4Route, type ReferenceGrant } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { resolveServiceEndpoints, type PodWeight } from '../services/service-endpoints.js';
import { GATEWAY_GROUP } from './gateway-listeners.js';
import type { RefProblem } from './http-route-backends.js';
import { isReferencePermitted } from './reference-grants.js';

export interface L4BackendContext {
  readonly index: ResourceIndex;
  readonly grants: readonly ReferenceGrant[];
  readonly weightOf: PodWeight;
  /** Per-backendRef diagnostics, reported when the route serves somewhere. */
  readonly diagnostics: Diagnostic[];
}

export interface L4Backends {
  readonly backends: IrL4Backend[];
  /** The first decides ResolvedRefs. */
  readonly problems: RefProblem[];
}

/** A name for a backend that resolves to nothing: the data plane refuses its share. */
function invalidBackendName(routeName: string, fieldPath: string): string {
  return `invalid/${routeName}/${fieldPath}`;
}

/** The Service port protocol a route kind carries: UDP for UDPRoute, TCP for TCPRoute and TLSRoute. */
function transportOf(route: L4Route): 'TCP' | 'UDP' {
  return route.kind === 'UDPRoute' ? 'UDP' : 'TCP';
}

export function resolveL4Backends(route: L4Route, routeName: string, refs: readonly L4BackendRef[], rulePath: string, ctx: L4BackendContext): L4Backends {
  const backends: IrL4Backend[] = [];
  const problems: RefProblem[] = [];
  const ns = route.metadata.namespace ?? 'default';
  refs.forEach((ref, b) => {
    const fieldPath = `${rulePath}.backendRefs[${b}]`;
    // Gateway API: weight defaults to 1; 0 means no connections at all, so it is left out.
    const weight = ref.weight ?? 1;
    if (weight === 0) return;
    const fail = (reason: RefProblem['reason'], code: Diagnostic['code'], message: string): void => {
      problems.push({ reason, message });
      ctx.diagnostics.push({ severity: 'error', code, object: refOf(route), source: route.source, path: fieldPath, message: `${message}; its share of connections is refused` });
      backends.push({ name: invalidBackendName(routeName, fieldPath), weight, endpoints: [] });
    };
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    if (group !== '' || kind !== 'Service') {
      fail('InvalidKind', 'ERR_ROUTE_BACKEND_INVALID_KIND', `backendRef kind ${group === '' ? 'core' : group}/${kind} is not supported (core Service is)`);
      return;
    }
    const targetNs = ref.namespace ?? ns;
    const permitted = isReferencePermitted(
      { fromGroup: GATEWAY_GROUP, fromKind: route.kind, fromNamespace: ns, toGroup: '', toKind: 'Service', toNamespace: targetNs, toName: ref.name },
      ctx.grants,
    );
    if (!permitted) {
      fail('RefNotPermitted', 'ERR_ROUTE_REF_NOT_PERMITTED', `Service ${targetNs}/${ref.name} is in another namespace and no ReferenceGrant there allows ${route.kind}s from "${ns}"`);
      return;
    }
    if (ref.port === undefined) {
      fail('BackendNotFound', 'ERR_BACKEND_PORT_NOT_FOUND', `backendRef to Service "${ref.name}" needs a port`);
      return;
    }
    const service = ctx.index.services.get(namespacedKey(targetNs, ref.name));
    if (service === undefined) {
      fail('BackendNotFound', 'ERR_BACKEND_SERVICE_NOT_FOUND', `Service "${ref.name}" not found in namespace "${targetNs}"`);
      return;
    }
    const protocol = transportOf(route);
    const name = `service/${targetNs}/${ref.name}/${ref.port}`;
    const externalName = service.spec.type === 'ExternalName' ? service.spec.externalName : undefined;
    if (externalName !== undefined) {
      // A DNS alias: connect to the name on the port the route chose, as HTTP clusters do.
      backends.push({ name, weight, endpoints: [{ address: externalName, port: ref.port }] });
      return;
    }
    const port = service.spec.ports.find((p) => p.port === ref.port && p.protocol === protocol);
    if (port === undefined) {
      const ports = service.spec.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'none';
      fail('BackendNotFound', 'ERR_BACKEND_PORT_NOT_FOUND', `Service "${ref.name}" has no ${protocol} port ${ref.port} (ports: ${ports})`);
      return;
    }
    const endpoints = resolveServiceEndpoints(service, port, ctx.index, ctx.weightOf).map(
      (e): IrL4Endpoint => ({ address: e.address, port: e.port, ...(e.weight !== undefined && e.weight !== 1 ? { weight: e.weight } : {}), ...(e.target !== undefined ? { target: e.target } : {}) }),
    );
    if (endpoints.length === 0) {
      ctx.diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_NO_ENDPOINTS', object: refOf(service), source: service.source, message: `no ready endpoints for port ${port.port}; connections routed to it are refused` });
    }
    backends.push({ name, weight, endpoints });
  });
  return { backends, problems };
}
