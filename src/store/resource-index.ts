import { assertNever } from '../core/assert-never.js';
import type { EndpointSlice } from '../resources/endpoint-slice.js';
import type { Node } from '../resources/node.js';
import { SERVICE_NAME_LABEL } from '../resources/well-known.js';
import type {
  AccessPolicy,
  Api,
  AuthorizationPolicy,
  AuthPolicy,
  Consumer,
  Plan,
  RateLimitPolicy,
  TransformPolicy,
  RequestAuthentication,
  BackendTlsPolicy,
  ConfigMap,
  Endpoints,
  Gateway,
  GatewayClass,
  GrpcRoute,
  TcpRoute,
  TlsRoute,
  UdpRoute,
  ListenerSet,
  HttpRoute,
  Namespace,
  ReferenceGrant,
  DestinationRule,
  Ingress,
  IngressClass,
  IstioGateway,
  Pod,
  Resource,
  Secret,
  Service,
  ServiceEntry,
  VirtualService,
} from '../resources/resource.js';
import { isIstioApiVersion } from '../resources/well-known.js';

/** Lookups a translator needs, built once per snapshot. Keys are `namespace/name`. */
export interface ResourceIndex {
  readonly services: ReadonlyMap<string, Service>;
  readonly pods: ReadonlyMap<string, Pod>;
  /** Pods per namespace (sorted by name), for selector matching. */
  readonly podsByNamespace: ReadonlyMap<string, readonly Pod[]>;
  /** EndpointSlices (sorted by name) per owning Service (`kubernetes.io/service-name` label), `namespace/service`. */
  readonly endpointSlicesByService: ReadonlyMap<string, readonly EndpointSlice[]>;
  readonly endpoints: ReadonlyMap<string, Endpoints>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly configMaps: ReadonlyMap<string, ConfigMap>;
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  /** By name: Gateway API `allowedRoutes.namespaces.selector` matches their labels. */
  readonly namespaces: ReadonlyMap<string, Namespace>;
  /** By name (`isthmus lb` sends to their node ports). */
  readonly nodes: ReadonlyMap<string, Node>;
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HttpRoute[];
  readonly grpcRoutes: readonly GrpcRoute[];
  readonly listenerSets: readonly ListenerSet[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly backendTlsPolicies: readonly BackendTlsPolicy[];
  readonly tcpRoutes: readonly TcpRoute[];
  readonly udpRoutes: readonly UdpRoute[];
  readonly tlsRoutes: readonly TlsRoute[];
  /** networking.istio.io Gateways (kind `Gateway` as Gateway API's; the group tells them apart). */
  readonly istioGateways: readonly IstioGateway[];
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly serviceEntries: readonly ServiceEntry[];
  /** security.istio.io RequestAuthentications. */
  readonly requestAuthentications: readonly RequestAuthentication[];
  /** security.istio.io AuthorizationPolicies. */
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  /** isthmus.dev API management, by `namespace/name`. */
  readonly consumers: ReadonlyMap<string, Consumer>;
  readonly plans: ReadonlyMap<string, Plan>;
  readonly authPolicies: readonly AuthPolicy[];
  readonly accessPolicies: readonly AccessPolicy[];
  readonly rateLimitPolicies: readonly RateLimitPolicy[];
  readonly apis: readonly Api[];
  readonly transformPolicies: readonly TransformPolicy[];
}

export function namespacedKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function byName(a: Resource, b: Resource): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export function indexResources(resources: readonly Resource[]): ResourceIndex {
  const services = new Map<string, Service>();
  const pods = new Map<string, Pod>();
  const podsByNamespace = new Map<string, Pod[]>();
  const endpointSlicesByService = new Map<string, EndpointSlice[]>();
  const endpoints = new Map<string, Endpoints>();
  const secrets = new Map<string, Secret>();
  const configMaps = new Map<string, ConfigMap>();
  const ingresses: Ingress[] = [];
  const ingressClasses: IngressClass[] = [];
  const namespaces = new Map<string, Namespace>();
  const nodes = new Map<string, Node>();
  const gatewayClasses: GatewayClass[] = [];
  const gateways: Gateway[] = [];
  const httpRoutes: HttpRoute[] = [];
  const grpcRoutes: GrpcRoute[] = [];
  const tcpRoutes: TcpRoute[] = [];
  const udpRoutes: UdpRoute[] = [];
  const tlsRoutes: TlsRoute[] = [];
  const listenerSets: ListenerSet[] = [];
  const referenceGrants: ReferenceGrant[] = [];
  const backendTlsPolicies: BackendTlsPolicy[] = [];
  const istioGateways: IstioGateway[] = [];
  const virtualServices: VirtualService[] = [];
  const destinationRules: DestinationRule[] = [];
  const serviceEntries: ServiceEntry[] = [];
  const requestAuthentications: RequestAuthentication[] = [];
  const authorizationPolicies: AuthorizationPolicy[] = [];
  const consumers = new Map<string, Consumer>();
  const plans = new Map<string, Plan>();
  const authPolicies: AuthPolicy[] = [];
  const accessPolicies: AccessPolicy[] = [];
  const rateLimitPolicies: RateLimitPolicy[] = [];
  const apis: Api[] = [];
  const transformPolicies: TransformPolicy[] = [];
  for (const resource of resources) {
    const key = namespacedKey(resource.metadata.namespace, resource.metadata.name);
    switch (resource.kind) {
      case 'Service':
        services.set(key, resource);
        break;
      case 'Pod':
        pods.set(key, resource);
        push(podsByNamespace, resource.metadata.namespace ?? '', resource);
        break;
      case 'EndpointSlice': {
        const service = resource.metadata.labels[SERVICE_NAME_LABEL];
        if (service !== undefined) push(endpointSlicesByService, namespacedKey(resource.metadata.namespace, service), resource);
        break;
      }
      case 'Endpoints':
        endpoints.set(key, resource);
        break;
      case 'Secret':
        secrets.set(key, resource);
        break;
      case 'ConfigMap':
        configMaps.set(key, resource);
        break;
      case 'Ingress':
        ingresses.push(resource);
        break;
      case 'IngressClass':
        ingressClasses.push(resource);
        break;
      case 'Namespace':
        namespaces.set(resource.metadata.name, resource);
        break;
      case 'Node':
        nodes.set(resource.metadata.name, resource);
        break;
      case 'GatewayClass':
        gatewayClasses.push(resource);
        break;
      case 'Gateway':
        if (isIstioApiVersion(resource.apiVersion)) istioGateways.push(resource as IstioGateway);
        else gateways.push(resource as Gateway);
        break;
      case 'VirtualService':
        virtualServices.push(resource);
        break;
      case 'DestinationRule':
        destinationRules.push(resource);
        break;
      case 'ServiceEntry':
        serviceEntries.push(resource);
        break;
      case 'HTTPRoute':
        httpRoutes.push(resource);
        break;
      case 'GRPCRoute':
        grpcRoutes.push(resource);
        break;
      case 'TCPRoute':
        tcpRoutes.push(resource);
        break;
      case 'UDPRoute':
        udpRoutes.push(resource);
        break;
      case 'TLSRoute':
        tlsRoutes.push(resource);
        break;
      case 'ListenerSet':
        listenerSets.push(resource);
        break;
      case 'ReferenceGrant':
        referenceGrants.push(resource);
        break;
      case 'BackendTLSPolicy':
        backendTlsPolicies.push(resource);
        break;
      case 'RequestAuthentication':
        requestAuthentications.push(resource);
        break;
      case 'AuthorizationPolicy':
        authorizationPolicies.push(resource);
        break;
      case 'AccessPolicy':
        accessPolicies.push(resource);
        break;
      case 'Consumer':
        consumers.set(key, resource);
        break;
      case 'Plan':
        plans.set(key, resource);
        break;
      case 'AuthPolicy':
        authPolicies.push(resource);
        break;
      case 'RateLimitPolicy':
        rateLimitPolicies.push(resource);
        break;
      case 'TransformPolicy':
        transformPolicies.push(resource);
        break;
      case 'API':
        apis.push(resource);
        break;
      default:
        assertNever(resource, 'resource kind');
    }
  }
  // Lists in name order, so that which of two endpoints with the same address wins (and anything
  // else order-sensitive downstream) never depends on the order resources arrived in.
  for (const list of podsByNamespace.values()) list.sort(byName);
  for (const list of endpointSlicesByService.values()) list.sort(byName);
  return {
    services,
    pods,
    podsByNamespace,
    endpointSlicesByService,
    endpoints,
    secrets,
    configMaps,
    ingresses,
    ingressClasses,
    namespaces,
    nodes,
    gatewayClasses,
    gateways,
    httpRoutes,
    grpcRoutes,
    tcpRoutes,
    udpRoutes,
    tlsRoutes,
    listenerSets,
    referenceGrants,
    backendTlsPolicies,
    istioGateways,
    virtualServices,
    destinationRules,
    serviceEntries,
    requestAuthentications,
    authorizationPolicies,
    consumers,
    plans,
    authPolicies,
    accessPolicies,
    rateLimitPolicies,
    apis,
    transformPolicies,
  };
}
