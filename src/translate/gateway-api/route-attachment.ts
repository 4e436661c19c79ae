// Route parentRefs (HTTPRoute, GRPCRoute, TCPRoute, UDPRoute, TLSRoute) → the listeners a route attaches to, and the route's Accepted condition per
// parentRef (gateway.networking.k8s.io/v1 RouteConditionReason). A parent is a Gateway (its own
// listeners only) or a ListenerSet (its entries); both attach by the same rules (GEP-1713).
import type { Namespace } from '../../resources/resource.js';
import type { GatewayRoute, L4Route, ParentRef } from '../../resources/resource.js';
import { GATEWAY_GROUP, type ResolvedListener } from './gateway-listeners.js';
import { ANY_HOSTNAME, intersectHostnames } from './hostnames.js';

export type Attachment =
  | { readonly kind: 'attached'; readonly listeners: readonly { readonly listener: ResolvedListener; readonly hostnames: readonly string[] }[] }
  | { readonly kind: 'rejected'; readonly reason: 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname' | 'UnsupportedValue'; readonly message: string };

/** Every route kind that attaches to listeners. */
export type AttachableRoute = GatewayRoute | L4Route;

/** spec.hostnames; TCPRoute and UDPRoute have none (they match any connection on the listener). */
export function routeHostnames(route: AttachableRoute): readonly string[] {
  return 'hostnames' in route.spec ? (route.spec.hostnames ?? []) : [];
}

export type LabelSelector = { readonly matchLabels?: Readonly<Record<string, string>>; readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[] };

function labelsMatch(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const inValues = value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * Whether an object in `namespace` may attach to one in `ownerNamespace`, by a `namespaces`
 * stanza (`allowedRoutes.namespaces`, `allowedListeners.namespaces`): From Same / All / Selector;
 * None and anything else refuse. `defaultFrom` is the API's default for an absent `from`.
 */
export function isNamespaceAllowed(
  stanza: { readonly from?: string; readonly selector?: LabelSelector } | undefined,
  defaultFrom: string,
  ownerNamespace: string,
  namespace: string,
  namespaces: ReadonlyMap<string, Namespace>,
): boolean {
  const from = stanza?.from ?? defaultFrom;
  if (from === 'All') return true;
  if (from === 'Same') return namespace === ownerNamespace;
  if (from === 'Selector') {
    // A namespace without an object still has the label Kubernetes sets on every namespace.
    const labels = { 'kubernetes.io/metadata.name': namespace, ...(namespaces.get(namespace)?.metadata.labels ?? {}) };
    return labelsMatch(stanza?.selector, labels);
  }
  return false;
}

/** allowedRoutes: namespaces From Same (default; the namespace of the Gateway or ListenerSet declaring the listener) / All / Selector, and the route kind. */
function isAllowed(listener: ResolvedListener, route: AttachableRoute, namespaces: ReadonlyMap<string, Namespace>): boolean {
  if (!listener.supportedKinds.some((k) => k.kind === route.kind)) return false;
  return isNamespaceAllowed(listener.spec.allowedRoutes?.namespaces, 'Same', listener.owner.metadata.namespace ?? 'default', route.metadata.namespace ?? 'default', namespaces);
}

/** Route hostnames intersected with the listener's; `[]` means no intersection. */
export function effectiveHostnames(listenerHostname: string, routeHostnames: readonly string[]): string[] {
  if (routeHostnames.length === 0) return [listenerHostname];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersectHostnames(listenerHostname, h.toLowerCase());
    if (i !== undefined) out.add(i);
  }
  return [...out];
}

/** `listeners`: those of the parent itself (a Gateway's own, or a ListenerSet's entries). */
export function attachToParent(route: AttachableRoute, parentRef: ParentRef, listeners: readonly ResolvedListener[], namespaces: ReadonlyMap<string, Namespace>): Attachment {
  const candidates = listeners.filter(
    (l) => (parentRef.sectionName === undefined || l.spec.name === parentRef.sectionName) && (parentRef.port === undefined || l.spec.port === parentRef.port),
  );
  if (candidates.length === 0) {
    const what = [parentRef.sectionName !== undefined ? `sectionName "${parentRef.sectionName}"` : '', parentRef.port !== undefined ? `port ${parentRef.port}` : ''].filter(Boolean).join(' and ');
    return { kind: 'rejected', reason: 'NoMatchingParent', message: `the ${parentRef.kind ?? 'Gateway'} has no listener with ${what || 'any name'}` };
  }
  // GEP-2643: a TLSRoute on a listener of another protocol is Accepted False UnsupportedValue.
  if (route.kind === 'TLSRoute' && !candidates.some((l) => l.protocol === 'tls')) {
    return { kind: 'rejected', reason: 'UnsupportedValue', message: `a TLSRoute attaches to TLS listeners only; the matching listeners are ${[...new Set(candidates.map((l) => l.spec.protocol))].join(', ')}` };
  }
  const allowed = candidates.filter((l) => l.serving && isAllowed(l, route, namespaces));
  if (allowed.length === 0) {
    return { kind: 'rejected', reason: 'NotAllowedByListeners', message: `no listener that matches the parentRef allows ${route.kind}s from this namespace` };
  }
  const attached = allowed
    .map((listener) => ({ listener, hostnames: effectiveHostnames(listener.hostname, routeHostnames(route)) }))
    .filter((a) => a.hostnames.length > 0);
  if (attached.length === 0) {
    return { kind: 'rejected', reason: 'NoMatchingListenerHostname', message: `no listener hostname intersects spec.hostnames (${routeHostnames(route).join(', ') || ANY_HOSTNAME})` };
  }
  return { kind: 'attached', listeners: attached };
}

export function isGatewayParent(parentRef: ParentRef): boolean {
  return (parentRef.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && (parentRef.kind ?? 'Gateway') === 'Gateway';
}

export function isListenerSetParent(parentRef: ParentRef): boolean {
  return (parentRef.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && parentRef.kind === 'ListenerSet';
}
