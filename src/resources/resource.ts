import { groupOfApiVersion, objectKey, type ObjectRef } from '../core/object-ref.js';
import type { AccessPolicy, Api, AuthPolicy, Consumer, Plan, RateLimitPolicy, TransformPolicy } from './apim-kinds.js';
import type { AuthorizationPolicy } from './authorization-policy.js';
import type { ConfigMap } from './config-map.js';
import type { RequestAuthentication } from './request-authentication.js';
import type { EndpointSlice } from './endpoint-slice.js';
import type { BackendTlsPolicy, Gateway, GatewayClass, GrpcRoute, HttpRoute, ListenerSet, ReferenceGrant, TcpRoute, TlsRoute, UdpRoute } from './gateway-api-kinds.js';
import type { Endpoints } from './endpoints.js';
import type { Ingress } from './ingress.js';
import type { DestinationRule, IstioGateway, ServiceEntry, VirtualService } from './istio-kinds.js';
import type { IngressClass } from './ingress-class.js';
import type { Namespace } from './namespace.js';
import type { Node } from './node.js';
import type { Pod } from './pod.js';
import type { Secret } from './secret.js';
import type { Service } from './service.js';

export type { AccessPolicy, Api, AuthPolicy, Consumer, Plan, RateLimitPolicy, TransformPolicy } from './apim-kinds.js';
export type { AuthorizationPolicy } from './authorization-policy.js';
export type { ConfigMap } from './config-map.js';
export type { RequestAuthentication } from './request-authentication.js';
export type { EndpointSlice } from './endpoint-slice.js';
export type { BackendTlsPolicy, Gateway, GatewayClass, GatewayListener, GatewayRoute, GrpcRoute, GrpcRouteFilter, GrpcRouteMatch, GrpcRouteRule, HttpBackendRef, HttpRoute, HttpRouteFilter, HttpRouteMatch, HttpRouteRule, L4BackendRef, L4Route, ListenerEntry, ListenerSet, ParentRef, ReferenceGrant, TcpRoute, TlsRoute, UdpRoute } from './gateway-api-kinds.js';
export type { Endpoints } from './endpoints.js';
export type { Ingress } from './ingress.js';
export type { DestinationRule, IstioGateway, ServiceEntry, VirtualService } from './istio-kinds.js';
export type { IngressClass } from './ingress-class.js';
export type { Namespace } from './namespace.js';
export type { Node } from './node.js';
export type { ObjectMeta } from './object-meta.js';
export type { Pod } from './pod.js';
export type { Secret } from './secret.js';
export type { Service } from './service.js';

/** Every input kind Isthmus reads, discriminated by `kind`. */
export type Resource =
  | Service
  | Pod
  | EndpointSlice
  | Endpoints
  | Secret
  | ConfigMap
  | Namespace
  | Node
  | Ingress
  | IngressClass
  | GatewayClass
  | Gateway
  | HttpRoute
  | GrpcRoute
  | TcpRoute
  | UdpRoute
  | TlsRoute
  | ListenerSet
  | ReferenceGrant
  | BackendTlsPolicy
  | IstioGateway
  | VirtualService
  | DestinationRule
  | ServiceEntry
  | RequestAuthentication
  | AuthorizationPolicy
  | Consumer
  | Plan
  | AuthPolicy
  | AccessPolicy
  | RateLimitPolicy
  | Api
  | TransformPolicy;

export type ResourceKind = Resource['kind'];

export function refOf(resource: Resource): ObjectRef {
  const { namespace, name } = resource.metadata;
  const group = groupOfApiVersion(resource.apiVersion);
  return namespace === undefined ? { group, kind: resource.kind, name } : { group, kind: resource.kind, namespace, name };
}

/**
 * `networking.k8s.io/Ingress/default/web`: identity for de-duplication. The group is part of it,
 * since two groups may define a kind of the same name; versions of one group are the same object.
 */
export function resourceKey(resource: Resource): string {
  return objectKey(refOf(resource));
}
