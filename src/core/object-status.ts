// The status Isthmus would write back to Kubernetes for one object it owns (GET /api/status; in
// Kubernetes mode, the status subresource). Typed per kind, in the shapes the APIs define:
// Ingress keeps `loadBalancer`; Gateway API objects carry metav1.Conditions, and routes one entry
// per parentRef (gateway.networking.k8s.io/v1 RouteParentStatus).

/** metav1.Condition. */
export interface Condition {
  /** `Accepted`, `Programmed`, `ResolvedRefs`, `Conflicted`, ... (CamelCase, as the API defines). */
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  /** CamelCase reason from the API's list (`NotAllowedByListeners`, `BackendNotFound`, ...). */
  readonly reason: string;
  /** Human-readable; says what was expected and what was found. */
  readonly message: string;
  /** metadata.generation of the object the condition describes, when the object has one. */
  readonly observedGeneration?: number;
  /**
   * RFC 3339. The translator is pure and reads no clock, so it leaves this out; a writer that
   * talks to the API server stamps it from its injected clock when the status changes.
   */
  readonly lastTransitionTime?: string;
}

/** gateway.networking.k8s.io/v1 ParentReference, as a route status echoes it. */
export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** gateway.networking.k8s.io/v1 RouteParentStatus. */
export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface RouteGroupKind {
  readonly group?: string;
  readonly kind: string;
}

/** gateway.networking.k8s.io/v1 ListenerStatus. */
export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface GatewayStatusAddress {
  readonly type: string;
  readonly value: string;
}

interface StatusOf<K extends string, S> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly namespace?: string;
  readonly name: string;
  readonly status: S;
}

export type IngressObjectStatus = StatusOf<'Ingress', { readonly loadBalancer: { readonly ingress: readonly { readonly ip: string }[] } }>;
export type GatewayClassObjectStatus = StatusOf<'GatewayClass', { readonly conditions: readonly Condition[] }>;
export type GatewayObjectStatus = StatusOf<
  'Gateway',
  {
    readonly addresses: readonly GatewayStatusAddress[];
    readonly conditions: readonly Condition[];
    readonly listeners: readonly ListenerStatus[];
    /** ListenerSets attached and Accepted (GEP-1713); set when the Gateway allows any or one names it. */
    readonly attachedListenerSets?: number;
  }
>;
/** gateway.networking.k8s.io/v1 ListenerSetStatus; `listeners` are ListenerEntryStatus (same shape as ListenerStatus). */
export type ListenerSetObjectStatus = StatusOf<'ListenerSet', { readonly conditions: readonly Condition[]; readonly listeners: readonly ListenerStatus[] }>;
export type RouteObjectStatus = StatusOf<'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'UDPRoute' | 'TLSRoute', { readonly parents: readonly RouteParentStatus[] }>;

/** gateway.networking.k8s.io/v1 PolicyAncestorStatus: how a policy stands with one ancestor (a Gateway). */
export interface PolicyAncestorStatus {
  readonly ancestorRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

/** gateway.networking.k8s.io/v1 PolicyStatus (BackendTLSPolicy). */
export type PolicyObjectStatus = StatusOf<'BackendTLSPolicy', { readonly ancestors: readonly PolicyAncestorStatus[] }>;

/**
 * isthmus.dev/v1alpha1 AuthPolicy, RateLimitPolicy and API: PolicyStatus-shaped, one ancestor per
 * Gateway (or, for Ingress and VirtualService targets, the targeted object itself) it applies
 * through, or per target it could not resolve.
 */
export type ApimPolicyObjectStatus = StatusOf<'AuthPolicy' | 'AccessPolicy' | 'RateLimitPolicy' | 'API' | 'TransformPolicy', { readonly ancestors: readonly PolicyAncestorStatus[] }>;

/** v1 LoadBalancerIngress as a load balancer writes it; `ipMode` (Kubernetes 1.30+) only with `ip`. */
export interface LoadBalancerIngress {
  readonly ip: string;
  readonly ipMode?: 'VIP' | 'Proxy';
}

/**
 * v1 Service `status.loadBalancer`, written by the load balancer that serves the Service (`isthmus
 * lb`). The whole list is the load balancer's: an empty one clears what it wrote before.
 */
export type ServiceObjectStatus = StatusOf<'Service', { readonly loadBalancer: { readonly ingress: readonly LoadBalancerIngress[] } }>;

/** Discriminated by the object's `kind`. */
export type ObjectStatus = ServiceObjectStatus | IngressObjectStatus | GatewayClassObjectStatus | GatewayObjectStatus | ListenerSetObjectStatus | RouteObjectStatus | PolicyObjectStatus | ApimPolicyObjectStatus;

export function condition(
  type: string,
  status: boolean,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
): Condition {
  const base = { type, status: status ? ('True' as const) : ('False' as const), reason, message };
  return observedGeneration === undefined ? base : { ...base, observedGeneration };
}

/** `conditions` with `next` in place of the condition of its type (metav1 conditions are a map by type), or added last. */
export function withCondition(conditions: readonly Condition[], next: Condition): Condition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  return i === -1 ? [...conditions, next] : conditions.map((c, j) => (j === i ? next : c));
}
