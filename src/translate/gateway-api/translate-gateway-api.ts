// Gateway API (gateway.networking.k8s.io/v1) → IR listeners, certificates and statuses.
// HTTPRoutes and GRPCRoutes attach, resolve and report alike; only their rules differ. TLS, TCP
// and UDP listeners with TLSRoutes, TCPRoutes and UDPRoutes become IR L4 listeners (l4-routes.ts,
// l4-listeners.ts), attached by the same parent and listener rules.
// Phases: classes → gateways, the ListenerSets they admit, and their listeners → route attachment
// → rules → virtual hosts (listener isolation) → statuses. Pure: no I/O, no clock.
import type { Diagnostic } from '../../core/diagnostic.js';
import { condition, type GatewayObjectStatus, type ListenerSetObjectStatus, type ListenerStatus, type ObjectStatus, type RouteParentStatus } from '../../core/object-status.js';
import type { IrCertificate, IrClientValidation, IrListener, IrListenerTls, IrRoute, IrVirtualHost } from '../../ir/types.js';
import type { IrL4Listener } from '../../ir/l4.js';
import { createPodWeights } from '../services/endpoint-weight.js';
import { buildL4Listeners, limitTlsTerminateListeners } from './l4-listeners.js';
import { translateL4Routes } from './l4-routes.js';
import { refOf, type Gateway, type GatewayRoute, type ParentRef } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { ClusterSet } from '../services/cluster-set.js';
import type { BackendTlsPolicies } from './backend-tls-policies.js';
import { backendTlsPolicyStatuses, type GatewayServiceUses } from './backend-tls-policy-status.js';
import { selectOurGatewayClasses } from './gateway-classes.js';
import { applyFrontendValidation } from './frontend-tls-validation.js';
import { listenerName, resolveListeners, type ResolvedListener } from './gateway-listeners.js';
import { attachedListenerSetStatus, isListenerSetAccepted, keyOf, notAllowedListenerSetStatus, selectListenerSets } from './listener-sets.js';
import { compareHostnamesBySpecificity, covers, hostnameSpecificity } from './hostnames.js';
import { translateGrpcRule } from './grpc-route-rules.js';
import type { BackendContext, RefProblem, ServiceUse } from './http-route-backends.js';
import { rankHttpMatch } from './http-route-match.js';
import { translateRule } from './http-route-rules.js';
import { attachToParent, isGatewayParent, isListenerSetParent, type AttachableRoute } from './route-attachment.js';
import { compareRanks, type RankedRoute } from './route-precedence.js';

export const DEFAULT_GATEWAY_CONTROLLER = 'isthmus.dev/gateway-controller';

export interface GatewayApiOptions {
  /** `spec.controllerName` of GatewayClasses that are ours. */
  readonly gatewayController: string;
  /** Where L4 listeners of a Gateway without `spec.addresses` bind (`--listen-address`; default 0.0.0.0). */
  readonly l4ListenAddress?: string;
}

export interface GatewayApiTranslation {
  readonly listeners: readonly IrListener[];
  readonly certificates: readonly IrCertificate[];
  /** TLS, TCP and UDP listeners, before the bind step. */
  readonly l4Listeners: readonly IrL4Listener[];
  /** IR L4 listener name → the Gateway (or ListenerSet) listeners it serves, for bind conflicts. */
  readonly l4Sections: ReadonlyMap<string, readonly string[]>;
  readonly statuses: readonly ObjectStatus[];
  /** ListenerSet (`ns/name`) → its Gateway (`ns/name`), for ListenerSets whose Gateway is ours. */
  readonly listenerSetParents: ReadonlyMap<string, string>;
}

/** What a route parentRef (a Gateway or a ListenerSet) offers to attach to. */
interface Parent {
  readonly gatewayKey: string;
  /** The parent's own listeners: a Gateway's, not its ListenerSets' (GEP-1713). */
  readonly listeners: readonly ResolvedListener[];
  /** Set when a ListenerSet of ours is not attached to its Gateway. */
  readonly refused?: string;
}

interface Attached {
  readonly listener: ResolvedListener;
  readonly hostname: string;
  readonly routeOrder: number;
  readonly routes: readonly RankedRoute[];
}

function nsOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

function gatewayKey(g: Gateway): string {
  return keyOf(g);
}

function parentKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** The first IPAddress of spec.addresses is the bind address; others are not supported. */
function bindAddress(gateway: Gateway, diagnostics: Diagnostic[]): string | undefined {
  let address: string | undefined;
  (gateway.spec.addresses ?? []).forEach((a, i) => {
    if ((a.type ?? 'IPAddress') === 'IPAddress' && a.value !== undefined && address === undefined) address = a.value;
    else diagnostics.push({ severity: 'warning', code: 'ERR_GATEWAY_ADDRESS_UNSUPPORTED', object: refOf(gateway), source: gateway.source, path: `spec.addresses[${i}]`, message: `only the first IPAddress is bound; ${a.type ?? 'IPAddress'} "${a.value ?? ''}" is ignored` });
  });
  return address;
}

/**
 * The virtual hosts of each listener on a (Gateway, port), one per hostname. Listener isolation:
 * a hostname is owned by the most specific listener whose hostname covers it, and only routes
 * attached to that listener serve it; every listener's own hostname gets a virtual host (maybe
 * empty), so a request for a more specific listener never falls through to a less specific one.
 * Each virtual host lives in its owner's IR listener, so the data plane knows which logical
 * listener serves a host (421 for a request on another listener's TLS connection).
 */
function buildVirtualHosts(listeners: readonly ResolvedListener[], attached: readonly Attached[]): Map<ResolvedListener, IrVirtualHost[]> {
  const out = new Map<ResolvedListener, IrVirtualHost[]>(listeners.map((l) => [l, []]));
  const keys = new Set<string>([...listeners.map((l) => l.hostname), ...attached.map((a) => a.hostname)]);
  for (const key of [...keys].sort(compareHostnamesBySpecificity)) {
    const owner = listeners
      .filter((l) => covers(l.hostname, key))
      .sort((a, b) => hostnameSpecificity(b.hostname) - hostnameSpecificity(a.hostname) || a.index - b.index)[0];
    if (owner === undefined) continue;
    const ordered = attached
      .filter((a) => a.hostname === key && a.listener === owner)
      .flatMap((a) => a.routes.map(({ route, rank }, i) => ({ route, rank, order: a.routeOrder, i })))
      .sort((x, y) => compareRanks(x.rank, y.rank) || x.order - y.order || x.i - y.i);
    // One route object once per virtual host, even when two parentRefs brought it.
    const seen = new Set<IrRoute>();
    const routes = ordered.flatMap(({ route }) => (seen.has(route) ? [] : (seen.add(route), [route])));
    out.get(owner)!.push({ name: `${irListenerName(owner)}/vhost/${key}`, hostnames: [key], wildcardMatch: 'any-labels', routes });
  }
  return out;
}

function irListenerName(l: ResolvedListener): string {
  return listenerName(l.owner, l.spec.name);
}

function listenerTls(certs: readonly IrCertificate[], clientValidation: IrClientValidation | undefined): IrListenerTls {
  const certificates = certs.map((c) => c.name);
  return clientValidation === undefined ? { certificates } : { certificates, clientValidation };
}

/** The IR routes of every rule of a route, each with its precedence rank. */
function translateRouteRules(route: GatewayRoute, ctx: BackendContext): RankedRoute[] {
  switch (route.kind) {
    case 'HTTPRoute':
      return (route.spec.rules ?? [{}]).flatMap((rule, r) => translateRule(rule, r, ctx)).map((ir) => ({ route: ir, rank: rankHttpMatch(ir.match) }));
    case 'GRPCRoute':
      return (route.spec.rules ?? [{}]).flatMap((rule, r) => translateGrpcRule(rule, r, ctx));
  }
}

export function translateGatewayApi(
  index: ResourceIndex,
  options: GatewayApiOptions,
  clusters: ClusterSet,
  backendTls: BackendTlsPolicies,
  diagnostics: Diagnostic[],
): GatewayApiTranslation {
  const classes = selectOurGatewayClasses(index.gatewayClasses, options.gatewayController);
  const gateways = index.gateways.filter((g) => classes.ours.has(g.spec.gatewayClassName)).sort(compareByCreation);
  const sets = selectListenerSets(index.listenerSets, new Map(gateways.map((g) => [gatewayKey(g), g])), index.namespaces, diagnostics);
  // Every listener of a Gateway: its own, then those of the ListenerSets it admits.
  const listenersByGateway = new Map<string, ResolvedListener[]>();
  const clientValidationByGateway = new Map<string, Map<number, IrClientValidation>>();
  const parents = new Map<string, Parent>();
  for (const g of gateways) {
    const validated = applyFrontendValidation(g, resolveListeners(g, sets.attached.get(gatewayKey(g)) ?? [], index, diagnostics), index, diagnostics);
    const frontend = { ...validated, listeners: limitTlsTerminateListeners(validated.listeners, diagnostics) };
    listenersByGateway.set(gatewayKey(g), frontend.listeners);
    clientValidationByGateway.set(gatewayKey(g), frontend.byPort);
    parents.set(parentKey('Gateway', nsOf(g), g.metadata.name), { gatewayKey: gatewayKey(g), listeners: frontend.listeners.filter((l) => l.owner === g) });
    for (const set of sets.attached.get(gatewayKey(g)) ?? []) {
      parents.set(parentKey('ListenerSet', nsOf(set), set.metadata.name), { gatewayKey: gatewayKey(g), listeners: frontend.listeners.filter((l) => l.owner === set) });
    }
  }
  for (const set of sets.notAllowed) {
    const gw = sets.parents.get(keyOf(set)) ?? '';
    parents.set(parentKey('ListenerSet', nsOf(set), set.metadata.name), { gatewayKey: gw, listeners: [], refused: `ListenerSet ${keyOf(set)} is not attached: Gateway ${gw} does not allow it (NotAllowed)` });
  }
  const parentOf = (route: AttachableRoute, p: ParentRef): Parent | undefined =>
    parents.get(parentKey(isListenerSetParent(p) ? 'ListenerSet' : 'Gateway', p.namespace ?? nsOf(route), p.name));

  const attachedCount = new Map<ResolvedListener, number>();
  const attached: Attached[] = [];
  const usesByGateway = new Map<string, ServiceUse[]>();
  const statuses: ObjectStatus[] = [...classes.statuses];
  const routes: GatewayRoute[] = [...index.httpRoutes, ...index.grpcRoutes].sort(compareByCreation);
  routes.forEach((route, routeOrder) => {
    const refs = (route.spec.parentRefs ?? []).filter((p) => isGatewayParent(p) || isListenerSetParent(p));
    const ours = refs.filter((p) => parentOf(route, p) !== undefined);
    if (ours.length === 0) return; // routes of other controllers get no status from us
    const routeName = `${route.kind.toLowerCase()}/${nsOf(route)}/${route.metadata.name}`;
    const problems: RefProblem[] = [];
    const unstatedProtocol = route.kind === 'GRPCRoute' ? 'h2c' : 'http1';
    const serviceUses: ServiceUse[] = [];
    const invalidRules: string[] = [];
    const ctx: BackendContext = { route, routeName, clusters, unstatedProtocol, grants: index.referenceGrants, diagnostics: [], problems, invalidRules, serviceUses };
    const irRoutes = translateRouteRules(route, ctx);
    let anyAttached = false;
    const parentStatuses = ours.map((parentRef, p): RouteParentStatus => {
      const parent = parentOf(route, parentRef)!;
      const attachment = parent.refused !== undefined
        ? ({ kind: 'rejected', reason: 'NoMatchingParent', message: parent.refused } as const)
        : attachToParent(route, parentRef, parent.listeners, index.namespaces);
      const generation = route.metadata.generation;
      const refs = problems[0];
      const resolved = refs
        ? condition('ResolvedRefs', false, refs.reason, refs.message, generation)
        : condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', generation);
      if (attachment.kind === 'rejected') {
        diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(route), source: route.source, path: `spec.parentRefs[${p}]`, message: `${attachment.reason}: ${attachment.message}` });
        return { parentRef: { ...parentRef }, controllerName: options.gatewayController, conditions: [condition('Accepted', false, attachment.reason, attachment.message, generation), resolved] };
      }
      // Gateway API: a route whose every rule is invalid is not accepted; one with some dropped is PartiallyInvalid.
      const rulesLeft = irRoutes.length > 0;
      if (invalidRules.length > 0 && !rulesLeft) {
        return { parentRef: { ...parentRef }, controllerName: options.gatewayController, conditions: [condition('Accepted', false, 'UnsupportedValue', invalidRules[0]!, generation), resolved] };
      }
      anyAttached = true;
      const gwKey = parent.gatewayKey;
      usesByGateway.set(gwKey, [...(usesByGateway.get(gwKey) ?? []), ...serviceUses]);
      for (const { listener, hostnames } of attachment.listeners) {
        attachedCount.set(listener, (attachedCount.get(listener) ?? 0) + 1);
        for (const hostname of hostnames) attached.push({ listener, hostname, routeOrder, routes: irRoutes });
      }
      const partly = invalidRules.length > 0 ? [condition('PartiallyInvalid', true, 'UnsupportedValue', invalidRules[0]!, generation)] : [];
      return { parentRef: { ...parentRef }, controllerName: options.gatewayController, conditions: [condition('Accepted', true, 'Accepted', 'attached', generation), resolved, ...partly] };
    });
    // A parentRef to a Gateway (or ListenerSet) that does not exist at all has no controller to
    // speak for it: the one that serves the route's other parents does (NoMatchingParent), so the
    // mistake is visible.
    for (const parentRef of refs) {
      const key = `${parentRef.namespace ?? nsOf(route)}/${parentRef.name}`;
      const existing: readonly { readonly metadata: { readonly namespace?: string; readonly name: string } }[] = isListenerSetParent(parentRef) ? index.listenerSets : index.gateways;
      if (parentOf(route, parentRef) !== undefined || existing.some((o) => keyOf(o) === key)) continue;
      const message = `${isListenerSetParent(parentRef) ? 'ListenerSet' : 'Gateway'} ${key} does not exist`;
      const p = (route.spec.parentRefs ?? []).indexOf(parentRef);
      diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(route), source: route.source, path: `spec.parentRefs[${p}]`, message: `NoMatchingParent: ${message}` });
      parentStatuses.push({ parentRef: { ...parentRef }, controllerName: options.gatewayController, conditions: [condition('Accepted', false, 'NoMatchingParent', message, route.metadata.generation)] });
    }
    // Backend diagnostics only for routes that serve somewhere: others are reported by status.
    if (anyAttached || invalidRules.length > 0) diagnostics.push(...ctx.diagnostics);
    statuses.push({ apiVersion: route.apiVersion, kind: route.kind, namespace: nsOf(route), name: route.metadata.name, status: { parents: parentStatuses } });
  });

  const l4 = translateL4Routes({ index, controllerName: options.gatewayController, parentOf, weightOf: createPodWeights(diagnostics) }, diagnostics);
  for (const [l, n] of l4.attached) attachedCount.set(l, (attachedCount.get(l) ?? 0) + n);
  statuses.push(...l4.statuses);

  const irListeners: IrListener[] = [];
  const l4Listeners: IrL4Listener[] = [];
  const l4Sections = new Map<string, readonly string[]>();
  const certificates: IrCertificate[] = [];
  const listenerStatus = (l: ResolvedListener): ListenerStatus => ({ name: l.spec.name, supportedKinds: l.supportedKinds, attachedRoutes: attachedCount.get(l) ?? 0, conditions: l.conditions });
  for (const gateway of gateways) {
    const all = listenersByGateway.get(gatewayKey(gateway)) ?? [];
    const address = bindAddress(gateway, diagnostics);
    const l4ForGateway = buildL4Listeners(all, l4.claims, address ?? options.l4ListenAddress ?? '0.0.0.0');
    l4Listeners.push(...l4ForGateway.listeners);
    certificates.push(...l4ForGateway.certificates);
    for (const [name, sections] of l4ForGateway.sections) l4Sections.set(name, sections);
    // HTTP and HTTPS listeners here; TLS, TCP and UDP ones become L4 listeners (l4-routes.ts).
    const serving = all.filter((l) => l.serving && (l.protocol === 'http' || l.protocol === 'https'));
    const ports = [...new Set(serving.map((l) => l.spec.port))].sort((a, b) => a - b);
    for (const port of ports) {
      const onPort = serving.filter((l) => l.spec.port === port);
      const virtualHosts = buildVirtualHosts(onPort, attached.filter((a) => onPort.includes(a.listener)));
      // One logical IR listener per Gateway listener; the bind step puts those of one port (and
      // those of other Gateways and Ingress on the same real port) on one socket.
      for (const l of onPort) {
        const protocol = l.protocol === 'https' ? 'https' : 'http';
        certificates.push(...l.certificates);
        irListeners.push({
          name: irListenerName(l),
          declaredBy: { object: refOf(l.owner), path: `spec.listeners[${l.index}]`, ...(l.owner.source !== undefined ? { source: l.owner.source } : {}), sectionName: l.spec.name, hostname: l.hostname },
          protocol,
          port,
          ...(address !== undefined ? { address } : {}),
          ...(protocol === 'https' ? { tls: listenerTls(l.certificates, clientValidationByGateway.get(gatewayKey(gateway))?.get(port)) } : {}),
          virtualHosts: virtualHosts.get(l) ?? [],
        });
      }
    }
    const generation = gateway.metadata.generation;
    // GEP-1713: a Gateway's own conditions reflect its own listeners; ListenerSets report theirs.
    const listeners = all.filter((l) => l.owner === gateway);
    const programmed = listeners.some((l) => l.serving);
    const setStatuses: ListenerSetObjectStatus[] = (sets.attached.get(gatewayKey(gateway)) ?? []).map((set) => attachedListenerSetStatus(set, all.filter((l) => l.owner === set).map(listenerStatus)));
    const reportsSets = (gateway.spec.allowedListeners?.namespaces?.from ?? 'None') !== 'None' || [...sets.parents.values()].includes(gatewayKey(gateway));
    const status: GatewayObjectStatus = {
      apiVersion: gateway.apiVersion,
      kind: 'Gateway',
      namespace: nsOf(gateway),
      name: gateway.metadata.name,
      status: {
        addresses: address !== undefined ? [{ type: 'IPAddress', value: address }] : [],
        conditions: [
          condition('Accepted', true, 'Accepted', 'accepted', generation),
          programmed
            ? condition('Programmed', true, 'Programmed', 'served', generation)
            : condition('Programmed', false, 'Invalid', 'no listener can be served', generation),
        ],
        listeners: listeners.map(listenerStatus),
        ...(reportsSets ? { attachedListenerSets: setStatuses.filter(isListenerSetAccepted).length } : {}),
      },
    };
    statuses.push(status, ...setStatuses);
  }
  for (const set of sets.notAllowed) statuses.push(notAllowedListenerSetStatus(set, sets.parents.get(keyOf(set)) ?? ''));
  const uses: GatewayServiceUses[] = gateways.map((gateway) => ({ gateway, uses: usesByGateway.get(gatewayKey(gateway)) ?? [] }));
  statuses.push(...backendTlsPolicyStatuses(backendTls, uses, index, options.gatewayController));
  return { listeners: irListeners, certificates, l4Listeners, l4Sections, statuses, listenerSetParents: sets.parents };
}
