// The one registry of input kinds. Parsing (every source) and Kubernetes mode's list/watch both read
// it, so a kind added here is parsed from files and watched in a cluster without touching either.
// Where a kind has several versions, the preferred (newest) comes first: Kubernetes mode watches
// one served version per kind, and the API server converts between them.
import { apimKindDefinitions } from './apim-kinds.js';
import { configMapKind } from './config-map.js';
import { endpointSliceKind } from './endpoint-slice.js';
import { endpointsKind } from './endpoints.js';
import { backendTlsPolicyKind, backendTlsPolicyV1alpha3Kind, gatewayClassKind, gatewayKind, grpcRouteKind, httpRouteKind, listenerSetKind, referenceGrantKind, referenceGrantV1beta1Kind, tcpRouteKind, tlsRouteKind, tlsRouteV1alpha2Kind, tlsRouteV1alpha3Kind, udpRouteKind } from './gateway-api-kinds.js';
import { ingressKind } from './ingress.js';
import { istioKindDefinitions } from './istio-kinds.js';
import { ingressClassKind } from './ingress-class.js';
import { namespaceKind } from './namespace.js';
import { nodeKind } from './node.js';
import { podKind } from './pod.js';
import { requestAuthenticationKinds } from './request-authentication.js';
import { authorizationPolicyKinds } from './authorization-policy.js';
import { secretKind } from './secret.js';
import { serviceKind } from './service.js';
import type { KindDefinition } from './kind-definition.js';
import type { Resource } from './resource.js';

export const KINDS: readonly KindDefinition<Resource>[] = [
  serviceKind,
  podKind,
  endpointSliceKind,
  endpointsKind,
  secretKind,
  configMapKind,
  namespaceKind,
  nodeKind,
  ingressKind,
  ingressClassKind,
  gatewayClassKind,
  gatewayKind,
  httpRouteKind,
  grpcRouteKind,
  listenerSetKind,
  referenceGrantKind,
  referenceGrantV1beta1Kind,
  backendTlsPolicyKind,
  backendTlsPolicyV1alpha3Kind,
  tcpRouteKind,
  udpRouteKind,
  tlsRouteKind,
  tlsRouteV1alpha3Kind,
  tlsRouteV1alpha2Kind,
  ...istioKindDefinitions,
  ...requestAuthenticationKinds,
  ...authorizationPolicyKinds,
  ...apimKindDefinitions,
];
