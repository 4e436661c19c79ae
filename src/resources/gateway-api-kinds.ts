// Gateway API kinds (gateway.networking.k8s.io): GatewayClass, Gateway, HTTPRoute, GRPCRoute,
// ReferenceGrant, BackendTLSPolicy, ListenerSet.
// Each is validated against the upstream CRD schema (upstream-schema.ts); the spec types are the
// upstream ones, deeply readonly.
import type { IIoK8sSigsGatewayApiApisV1BackendTLSPolicySpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicySpec';
import type { IIoK8sSigsGatewayApiApisV1GatewayClassSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClassSpec';
import type { IIoK8sSigsGatewayApiApisV1GatewaySpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewaySpec';
import type { IIoK8sSigsGatewayApiApisV1GRPCRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1ListenerSetSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ListenerSetSpec';
import type { IIoK8sSigsGatewayApiApisV1HTTPRouteSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteSpec';
import type { IIoK8sSigsGatewayApiApisV1ReferenceGrantSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrantSpec';
import { validate as validateBackendTlsPolicy } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1BackendTLSPolicy';
import { validate as validateBackendTlsPolicyV1alpha3 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1alpha3BackendTLSPolicy';
import { validate as validateGatewayClass } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GatewayClass';
import { validate as validateGateway } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1Gateway';
import { validate as validateGrpcRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1GRPCRoute';
import { validate as validateHttpRoute } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1HTTPRoute';
import { validate as validateListenerSet } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1ListenerSet';
import { validate as validateReferenceGrant } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1ReferenceGrant';
import { validate as validateReferenceGrantV1beta1 } from '@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1beta1ReferenceGrant';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import type { ObjectMeta } from './object-meta.js';
import { upstreamBodySchema, type UpstreamValidator } from './upstream-schema.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const V1 = 'gateway.networking.k8s.io/v1';

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
/** The route kinds that attach to Gateway listeners. */
export type GatewayRoute = HttpRoute | GrpcRoute;
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
