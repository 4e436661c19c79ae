// TCPRoute, UDPRoute and TLSRoute → what each serves on which TLS / TCP / UDP listener (claims),
// and their statuses per parentRef (Accepted, ResolvedRefs), written like HTTPRoute's.
// l4-listeners.ts turns the claims into IR L4 listeners. Pure: no I/O, no clock.
//
// Who wins where two routes want the same thing (oldest first, then namespace/name):
// - a TCP or UDP listener (and a TLS Terminate listener's plain-stream TCPRoute) serves one route:
//   a connection carries nothing to choose between routes by;
// - on a TLS listener an SNI name belongs to one TLSRoute.
// The loser is told by a diagnostic and, when it is served nowhere on that parent, by Accepted
// False on that parentRef.
import type { Diagnostic } from '../../core/diagnostic.js';
import { condition, type Condition, type RouteObjectStatus, type RouteParentStatus } from '../../core/object-status.js';
import type { IrL4Backend } from '../../ir/l4.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { refOf, type L4Route, type ParentRef } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import type { PodWeight } from '../services/service-endpoints.js';
import type { ResolvedListener } from './gateway-listeners.js';
import { ANY_HOSTNAME } from './hostnames.js';
import { resolveL4Backends } from './l4-route-backends.js';
import { keyOf } from './listener-sets.js';
import { attachToParent, isGatewayParent, isListenerSetParent } from './route-attachment.js';

/** What a parentRef of ours offers: a Gateway's own listeners or a ListenerSet's (translate-gateway-api.ts). */
export interface L4Parent {
  readonly listeners: readonly ResolvedListener[];
  /** Set when a ListenerSet of ours is not attached to its Gateway. */
  readonly refused?: string;
}

export interface L4RouteInput {
  readonly index: ResourceIndex;
  readonly controllerName: string;
  readonly parentOf: (route: L4Route, parentRef: ParentRef) => L4Parent | undefined;
  readonly weightOf: PodWeight;
}

/** One route served on one listener, for these SNI names (`[]`: any connection, TCP and UDP). */
export interface L4Claim {
  readonly listener: ResolvedListener;
  /** `tcproute/<ns>/<name>/rule/0`. */
  readonly name: string;
  readonly sniHosts: readonly string[];
  readonly backends: readonly IrL4Backend[];
}

export interface L4RouteResult {
  readonly claims: readonly L4Claim[];
  readonly statuses: readonly RouteObjectStatus[];
  /** Routes attached per listener, for `status.listeners[].attachedRoutes`. */
  readonly attached: ReadonlyMap<ResolvedListener, number>;
}

function nsOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

/** Why a route cannot be served at all, or undefined. */
function invalidRoute(route: L4Route): { path: string; message: string } | undefined {
  // GEP-2643: SNI names are what a TLSRoute matches on; v1 and v1alpha3 require them, v1alpha2
  // did not, and a TLSRoute without them would take every name on the listener.
  if (route.kind === 'TLSRoute' && (route.spec.hostnames ?? []).length === 0) {
    return { path: 'spec.hostnames', message: 'a TLSRoute needs spec.hostnames (the SNI names it serves); it is not served' };
  }
  if (route.spec.rules.length === 0) return { path: 'spec.rules', message: `a ${route.kind} needs a rule with backendRefs; it is not served` };
  return undefined;
}

export function translateL4Routes(input: L4RouteInput, diagnostics: Diagnostic[]): L4RouteResult {
  const { index, controllerName } = input;
  const routes: L4Route[] = [...index.tcpRoutes, ...index.udpRoutes, ...index.tlsRoutes].sort(compareByCreation);
  const claims: L4Claim[] = [];
  const statuses: RouteObjectStatus[] = [];
  const attached = new Map<ResolvedListener, number>();
  // The route (`kind ns/name`) holding a listener's one plain route, or each of its SNI names.
  const streamHolder = new Map<ResolvedListener, string>();
  const sniHolder = new Map<ResolvedListener, Map<string, string>>();
  for (const route of routes) {
    const refs = (route.spec.parentRefs ?? []).filter((p) => isGatewayParent(p) || isListenerSetParent(p));
    const ours = refs.filter((p) => input.parentOf(route, p) !== undefined);
    if (ours.length === 0) continue; // routes of other controllers get no status from us
    const routeKey = `${route.kind} ${keyOf(route)}`;
    const routeName = `${route.kind.toLowerCase()}/${nsOf(route)}/${route.metadata.name}`;
    const generation = route.metadata.generation;
    const routeDiagnostics: Diagnostic[] = [];
    const invalid = invalidRoute(route);
    if (invalid !== undefined) diagnostics.push({ severity: 'error', code: 'ERR_L4_ROUTE_INVALID', object: refOf(route), source: route.source, path: invalid.path, message: invalid.message });
    if (route.spec.rules.length > 1) {
      routeDiagnostics.push({ severity: 'warning', code: 'ERR_L4_ROUTE_INVALID', object: refOf(route), source: route.source, path: 'spec.rules[1]', message: `only spec.rules[0] is served: an L4 route has no matches to choose between ${route.spec.rules.length} rules` });
    }
    const rule = route.spec.rules[0];
    const resolution = rule === undefined || invalid !== undefined
      ? { backends: [], problems: [] }
      : resolveL4Backends(route, routeName, rule.backendRefs, 'spec.rules[0]', { index, grants: index.referenceGrants, weightOf: input.weightOf, diagnostics: routeDiagnostics });
    const firstProblem = resolution.problems[0];
    const resolved = firstProblem !== undefined
      ? condition('ResolvedRefs', false, firstProblem.reason, firstProblem.message, generation)
      : condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', generation);
    const parentStatus = (parentRef: ParentRef, conditions: readonly Condition[]): RouteParentStatus => ({ parentRef: { ...parentRef }, controllerName, conditions });
    let served = false;
    const parents = ours.map((parentRef): RouteParentStatus => {
      const path = `spec.parentRefs[${(route.spec.parentRefs ?? []).indexOf(parentRef)}]`;
      if (invalid !== undefined) return parentStatus(parentRef, [condition('Accepted', false, 'UnsupportedValue', invalid.message, generation), resolved]);
      const parent = input.parentOf(route, parentRef)!;
      const attachment = parent.refused !== undefined ? ({ kind: 'rejected', reason: 'NoMatchingParent', message: parent.refused } as const) : attachToParent(route, parentRef, parent.listeners, index.namespaces);
      if (attachment.kind === 'rejected') {
        diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(route), source: route.source, path, message: `${attachment.reason}: ${attachment.message}` });
        return parentStatus(parentRef, [condition('Accepted', false, attachment.reason, attachment.message, generation), resolved]);
      }
      const lost: string[] = [];
      let won = 0;
      for (const { listener, hostnames } of attachment.listeners) {
        const name = `${routeName}/rule/0`;
        if (route.kind === 'TLSRoute') {
          const held = sniHolder.get(listener) ?? new Map<string, string>();
          sniHolder.set(listener, held);
          const mine = hostnames.filter((h) => {
            const holder = held.get(h);
            if (holder !== undefined && holder !== routeKey) lost.push(`SNI name "${h}" on listener "${listener.spec.name}" belongs to the older ${holder}`);
            return holder === undefined || holder === routeKey;
          });
          if (mine.length === 0) continue;
          for (const h of mine) held.set(h, routeKey);
          claims.push({ listener, name, sniHosts: mine, backends: resolution.backends });
        } else {
          const holder = streamHolder.get(listener);
          if (holder !== undefined && holder !== routeKey) {
            lost.push(`listener "${listener.spec.name}" already serves the older ${holder} (one ${route.kind} per listener)`);
            continue;
          }
          streamHolder.set(listener, routeKey);
          // A TCPRoute on a TLS Terminate listener takes the names of the listener's hostname
          // that no TLSRoute claims (the data plane's fallback route when that is `*`).
          const sniHosts = listener.protocol === 'tls' && listener.hostname !== ANY_HOSTNAME ? [listener.hostname] : [];
          claims.push({ listener, name, sniHosts, backends: resolution.backends });
        }
        won += 1;
        attached.set(listener, (attached.get(listener) ?? 0) + 1);
      }
      if (lost.length > 0) {
        diagnostics.push({ severity: 'warning', code: 'ERR_L4_ROUTE_CONFLICT', object: refOf(route), source: route.source, path, message: `${lost.join('; ')}; ${won > 0 ? 'the rest is served' : 'not served on this parent'}` });
      }
      if (won === 0) return parentStatus(parentRef, [condition('Accepted', false, 'NotAllowedByListeners', `every listener it attaches to is taken: ${lost.join('; ')}`, generation), resolved]);
      served = true;
      return parentStatus(parentRef, [condition('Accepted', true, 'Accepted', 'attached', generation), resolved]);
    });
    // A parentRef to a Gateway (or ListenerSet) that does not exist: reported by the controller of
    // the route's other parents, as for HTTPRoute (NoMatchingParent).
    for (const parentRef of refs) {
      const key = `${parentRef.namespace ?? nsOf(route)}/${parentRef.name}`;
      const existing: readonly { readonly metadata: { readonly namespace?: string; readonly name: string } }[] = isListenerSetParent(parentRef) ? index.listenerSets : index.gateways;
      if (input.parentOf(route, parentRef) !== undefined || existing.some((o) => keyOf(o) === key)) continue;
      const message = `${isListenerSetParent(parentRef) ? 'ListenerSet' : 'Gateway'} ${key} does not exist`;
      diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(route), source: route.source, path: `spec.parentRefs[${(route.spec.parentRefs ?? []).indexOf(parentRef)}]`, message: `NoMatchingParent: ${message}` });
      parents.push(parentStatus(parentRef, [condition('Accepted', false, 'NoMatchingParent', message, generation)]));
    }
    // Backend diagnostics only for routes that serve somewhere: others are reported by status.
    if (served) diagnostics.push(...routeDiagnostics);
    statuses.push({ apiVersion: route.apiVersion, kind: route.kind, namespace: nsOf(route), name: route.metadata.name, status: { parents } });
  }
  return { claims, statuses, attached };
}
