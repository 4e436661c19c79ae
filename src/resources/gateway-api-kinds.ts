// Gateway API kinds (gateway.networking.k8s.io): GatewayClass, Gateway, HTTPRoute, GRPCRoute,
// ReferenceGrant, BackendTLSPolicy, ListenerSet, and the L4 routes TCPRoute, UDPRoute, TLSRoute.
// Each is validated against the upstream CRD schema (upstream-schema.ts); the spec types are the
// upstream ones, deeply readonly.
import type { IIoK8sSigsGatewayApiApisV1BackendTLSPolicySpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicySpec';
import type { IIoK8sSigsGatewayApiApisV1GatewayClassSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClassSpec';
import type { IIoK8sSigsGatewayApiApisV1GatewaySpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewaySpec';
import type { IIoK8sSigsGatewayApiApisV1GRPCRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1ListenerSetSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ListenerSetSpec';
import type { IIoK8sSigsGatewayApiApisV1HTTPRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1ReferenceGrantSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrantSpec';
import type { IIoK8sSigsGatewayApiApisV1alpha2TCPRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1alpha2TLSRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TLSRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1alpha2UDPRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRouteSpec';
import { validate as validateBackendTlsPolicy } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1BackendTLSPolicy';
import { validate as validateBackendTlsPolicyV1alpha3 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha3BackendTLSPolicy';
import { validate as validateGatewayClass } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GatewayClass';
import { validate as validateGateway } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1Gateway';
import { validate as validateGrpcRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GRPCRoute';
import { validate as validateHttpRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1HTTPRoute';
import { validate as validateListenerSet } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1ListenerSet';
import { validate as validateReferenceGrant } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1ReferenceGrant';
import { validate as validateReferenceGrantV1beta1 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1beta1ReferenceGrant';
import { validate as validateTcpRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha2TCPRoute';
import { validate as validateUdpRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha2UDPRoute';
import { validate as validateTlsRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1TLSRoute';
import { validate as validateTlsRouteV1alpha3 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha3TLSRoute';
import { validate as validateTlsRouteV1alpha2 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha2TLSRoute';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import type { ObjectMeta } from './object-meta.js';
import { upstreamBodySchema, type UpstreamValidator } from './upstream-schema.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const V1 = 'gateway.networking.k8s.io/v1';
const V1ALPHA2 = 'gateway.networking.k8s.io/v1alpha2';
const V1ALPHA3 = 'gateway.networking.k8s.io/v1alpha3';

export type GatewayClassSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1GatewayClassSpec>;
export type GatewaySpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1GatewaySpec>;
export type GatewayListener = GatewaySpec['listeners'][number];
export type HttpRouteSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1HTTPRouteSpec>;
export type HttpRouteRule = NonNullable<HttpRouteSpec['rules']>[number];
export type HttpRouteMatch = NonNullable<HttpRouteRule['matches']>[number];
export type HttpRouteFilter = NonNullable<HttpRouteRule['filters']>[number];
export type HttpBackendRef = NonNullable<HttpRouteRule['backendRefs']>[number];
export type GrpcRouteSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1GRPCRouteSpec>;
export type GrpcRouteRule = NonNullable<GrpcRouteSpec['rules']>[number];
export type GrpcRouteMatch = NonNullable<GrpcRouteRule['matches']>[number];
export type GrpcRouteFilter = NonNullable<GrpcRouteRule['filters']>[number];
export type ParentRef = NonNullable<HttpRouteSpec['parentRefs']>[number];
export type BackendTlsPolicySpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1BackendTLSPolicySpec>;
export type GatewayFrontendTls = NonNullable<NonNullable<GatewaySpec['tls']>['frontend']>;
export type ListenerSetSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1ListenerSetSpec>;
export type ListenerEntry = ListenerSetSpec['listeners'][number];
export type ReferenceGrantSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1ReferenceGrantSpec>;
export type TcpRouteSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1alpha2TCPRouteSpec>;
export type UdpRouteSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1alpha2UDPRouteSpec>;
/**
 * v1alpha2's shape, the widest of the three: `hostnames` is optional there (v1 and v1alpha3 require
 * one at least, which their schemas check), and the rules are the same.
 */
export type TlsRouteSpec = DeepReadonly<IIoK8sSigsGatewayApiApisV1alpha2TLSRouteSpec>;
/** A backendRef of a TCPRoute, UDPRoute or TLSRoute rule (no filters). */
export type L4BackendRef = TcpRouteSpec['rules'][number]['backendRefs'][number];

interface GatewayApiObject<K extends string, S, V extends string = typeof V1> {
  readonly apiVersion: V;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  readonly source: string;
}

export type GatewayClass = GatewayApiObject<'GatewayClass', GatewayClassSpec>;
export type Gateway = GatewayApiObject<'Gateway', GatewaySpec>;
export type HttpRoute = GatewayApiObject<'HTTPRoute', HttpRouteSpec>;
export type GrpcRoute = GatewayApiObject<'GRPCRoute', GrpcRouteSpec>;
/** GEP-1713: more listeners for a Gateway that allows them (`spec.allowedListeners`). */
export type ListenerSet = GatewayApiObject<'ListenerSet', ListenerSetSpec>;
/** The route kinds that attach to HTTP and HTTPS Gateway listeners. */
export type GatewayRoute = HttpRoute | GrpcRoute;
export type TcpRoute = GatewayApiObject<'TCPRoute', TcpRouteSpec, typeof V1ALPHA2>;
export type UdpRoute = GatewayApiObject<'UDPRoute', UdpRouteSpec, typeof V1ALPHA2>;
/** TLSRoute is v1 since Gateway API v1.5 (GEP-2643); v1alpha3 and v1alpha2 are still served by older CRDs. */
export type TlsRoute = GatewayApiObject<'TLSRoute', TlsRouteSpec, typeof V1 | typeof V1ALPHA3 | typeof V1ALPHA2>;
/** The route kinds that attach to TCP, UDP and TLS listeners (translate/gateway-api/l4-routes.ts). */
export type L4Route = TcpRoute | UdpRoute | TlsRoute;
/** v1beta1 and v1 are the same object (v1 was promoted unchanged). */
export type ReferenceGrant = GatewayApiObject<'ReferenceGrant', ReferenceGrantSpec, typeof V1 | 'gateway.networking.k8s.io/v1beta1'>;

/**
 * v1 since Gateway API v1.4; v1alpha3 (v1.1–v1.3 experimental) has the same spec as v1 in the
 * schema package, so one type serves both.
 */
export type BackendTlsPolicy = GatewayApiObject<'BackendTLSPolicy', BackendTlsPolicySpec, typeof V1 | 'gateway.networking.k8s.io/v1alpha3'>;

/** The CRDs' `spec.names.plural`, as the API server's REST paths spell them. */
const PLURALS = {
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  HTTPRoute: 'httproutes',
  GRPCRoute: 'grpcroutes',
  ListenerSet: 'listenersets',
  ReferenceGrant: 'referencegrants',
  BackendTLSPolicy: 'backendtlspolicies',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
  TLSRoute: 'tlsroutes',
} as const;

function gatewayApiKind<K extends keyof typeof PLURALS, S, V extends string>(
  apiVersion: V,
  kind: K,
  namespaced: boolean,
  validate: UpstreamValidator,
): KindDefinition<GatewayApiObject<K, S, V>> {
  return defineKind({
    apiVersion,
    kind,
    plural: PLURALS[kind],
    namespaced,
    schema: upstreamBodySchema<S>(validate),
    build: (body, metadata, source): GatewayApiObject<K, S, V> => ({ apiVersion, kind, metadata, spec: body.spec, source }),
  });
}

export const gatewayClassKind = gatewayApiKind<'GatewayClass', GatewayClassSpec, typeof V1>(V1, 'GatewayClass', false, validateGatewayClass);
export const gatewayKind = gatewayApiKind<'Gateway', GatewaySpec, typeof V1>(V1, 'Gateway', true, validateGateway);
export const httpRouteKind = gatewayApiKind<'HTTPRoute', HttpRouteSpec, typeof V1>(V1, 'HTTPRoute', true, validateHttpRoute);
export const grpcRouteKind = gatewayApiKind<'GRPCRoute', GrpcRouteSpec, typeof V1>(V1, 'GRPCRoute', true, validateGrpcRoute);
export const listenerSetKind = gatewayApiKind<'ListenerSet', ListenerSetSpec, typeof V1>(V1, 'ListenerSet', true, validateListenerSet);
export const referenceGrantKind = gatewayApiKind<'ReferenceGrant', ReferenceGrantSpec, typeof V1>(V1, 'ReferenceGrant', true, validateReferenceGrant);
export const referenceGrantV1beta1Kind = gatewayApiKind<'ReferenceGrant', ReferenceGrantSpec, 'gateway.networking.k8s.io/v1beta1'>(
  'gateway.networking.k8s.io/v1beta1',
  'ReferenceGrant',
  true,
  validateReferenceGrantV1beta1,
);
export const backendTlsPolicyKind = gatewayApiKind<'BackendTLSPolicy', BackendTlsPolicySpec, typeof V1>(V1, 'BackendTLSPolicy', true, validateBackendTlsPolicy);
export const backendTlsPolicyV1alpha3Kind = gatewayApiKind<'BackendTLSPolicy', BackendTlsPolicySpec, 'gateway.networking.k8s.io/v1alpha3'>(
  'gateway.networking.k8s.io/v1alpha3',
  'BackendTLSPolicy',
  true,
  validateBackendTlsPolicyV1alpha3,
);
export const tcpRouteKind = gatewayApiKind<'TCPRoute', TcpRouteSpec, typeof V1ALPHA2>(V1ALPHA2, 'TCPRoute', true, validateTcpRoute);
export const udpRouteKind = gatewayApiKind<'UDPRoute', UdpRouteSpec, typeof V1ALPHA2>(V1ALPHA2, 'UDPRoute', true, validateUdpRoute);
// TLSRoute is v1 since Gateway API v1.5; v1alpha3 and v1alpha2 are what older CRDs serve.
export const tlsRouteKind = gatewayApiKind<'TLSRoute', TlsRouteSpec, typeof V1>(V1, 'TLSRoute', true, validateTlsRoute);
export const tlsRouteV1alpha3Kind = gatewayApiKind<'TLSRoute', TlsRouteSpec, typeof V1ALPHA3>(V1ALPHA3, 'TLSRoute', true, validateTlsRouteV1alpha3);
export const tlsRouteV1alpha2Kind = gatewayApiKind<'TLSRoute', TlsRouteSpec, typeof V1ALPHA2>(V1ALPHA2, 'TLSRoute', true, validateTlsRouteV1alpha2);
