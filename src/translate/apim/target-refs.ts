// A policy targetRef (Gateway API LocalPolicyTargetReferenceWithSectionName, GEP-713) → the IR
// routes it covers, at one of four attachment levels. Targets are in the policy's namespace.
//   Gateway (gateway.networking.k8s.io)            every route on the Gateway's listeners (and its ListenerSets')
//   Gateway + sectionName                          every route on that listener
//   HTTPRoute / GRPCRoute, Ingress, VirtualService every IR route of the object
//   HTTPRoute / GRPCRoute + sectionName            the routes of the rule with that `name`
//   VirtualService + sectionName                   the routes of the `spec.http[]` entry with that `name`
// An Ingress has no named parts: a sectionName on it is Invalid. IR route names encode the rule
// (`httproute/ns/name/rule/<i>/match/<m>`, `virtualservice/ns/name/http/<i>[/...]`), so a rule is
// found by its index. Pure: no I/O.
import type { ParentReference } from '../../core/object-status.js';
import type { IrListener, IrRoute } from '../../ir/types.js';
import type { PolicyTargetRef } from '../../resources/apim-kinds.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { GATEWAY_GROUP } from '../gateway-api/gateway-listeners.js';

export const INGRESS_GROUP = 'networking.k8s.io';
// Spelled here rather than imported from resources/istio-kinds.ts, which would load the zod
// schemas on the translator's thread (resources/well-known.ts says why they stay apart).
export const ISTIO_GROUP = 'networking.istio.io';

/** Less specific first: a more specific attachment wins a route over a less specific one. */
export const ATTACHMENT_LEVELS = ['workload', 'gateway', 'listener', 'route', 'rule'] as const;
export type AttachmentLevel = (typeof ATTACHMENT_LEVELS)[number];

export function levelRank(level: AttachmentLevel): number {
  return ATTACHMENT_LEVELS.indexOf(level);
}

export interface ResolvedTarget {
  readonly level: AttachmentLevel;
  covers(listener: IrListener, route: IrRoute): boolean;
}

export type TargetResolution =
  | { readonly kind: 'ok'; readonly target: ResolvedTarget }
  /** Condition reason TargetNotFound: the object (or its named section) does not exist. */
  | { readonly kind: 'not-found'; readonly message: string }
  /** Condition reason Invalid: a kind this policy cannot attach to, or a sectionName the kind has no names for. */
  | { readonly kind: 'invalid'; readonly message: string };

export interface TargetContext {
  readonly index: ResourceIndex;
  /** ListenerSet `ns/name` → its Gateway `ns/name` (Gateway API translation). */
  readonly listenerSetParents: ReadonlyMap<string, string>;
}

/** The kinds a policy may target; `API` versions name routes only. */
export type TargetKinds = 'routes-and-gateways' | 'routes';

function sameObject(route: IrRoute, group: string, kind: string, namespace: string, name: string): boolean {
  const o = route.origin;
  return o.group === group && o.kind === kind && (o.namespace ?? '') === namespace && o.name === name;
}

function describeRef(ref: PolicyTargetRef): string {
  return `${ref.kind} ${ref.group === '' ? 'core' : ref.group}`;
}

/** The ancestor a route on this listener is reported under: the Gateway that serves it, or none (Ingress). */
export function ancestorOf(listener: IrListener, listenerSetParents: ReadonlyMap<string, string>): ParentReference | undefined {
  const by = listener.declaredBy?.object;
  if (by === undefined) return undefined;
  if (by.group === GATEWAY_GROUP && by.kind === 'ListenerSet') {
    const gw = listenerSetParents.get(`${by.namespace ?? 'default'}/${by.name}`);
    if (gw === undefined) return undefined;
    const [namespace, name] = gw.split('/') as [string, string];
    return { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name };
  }
  return { group: by.group, kind: by.kind, ...(by.namespace !== undefined ? { namespace: by.namespace } : {}), name: by.name };
}

export function resolveTargetRef(ref: PolicyTargetRef, namespace: string, allowed: TargetKinds, ctx: TargetContext): TargetResolution {
  const { index } = ctx;
  const key = namespacedKey(namespace, ref.name);
  const section = ref.sectionName;
  const missing = (what: string): TargetResolution => ({ kind: 'not-found', message: `${what} not found in namespace "${namespace}"` });

  if (ref.group === GATEWAY_GROUP && ref.kind === 'Gateway') {
    if (allowed === 'routes') return { kind: 'invalid', message: 'an API version is served by routes: target an HTTPRoute, GRPCRoute, Ingress or VirtualService, not a Gateway' };
    const gateway = index.gateways.find((g) => namespacedKey(g.metadata.namespace, g.metadata.name) === key);
    if (gateway === undefined) return missing(`Gateway "${ref.name}"`);
    if (section !== undefined && !gateway.spec.listeners.some((l) => l.name === section)) {
      return { kind: 'not-found', message: `Gateway "${ref.name}" has no listener named "${section}" (listeners: ${gateway.spec.listeners.map((l) => l.name).join(', ')})` };
    }
    const isThisGateway = (listener: IrListener): boolean => {
      const a = ancestorOf(listener, ctx.listenerSetParents);
      return a !== undefined && a.group === GATEWAY_GROUP && a.kind === 'Gateway' && a.namespace === namespace && a.name === ref.name;
    };
    if (section === undefined) return { kind: 'ok', target: { level: 'gateway', covers: (listener) => isThisGateway(listener) } };
    // A listener of the Gateway itself, not of one of its ListenerSets (which name their own).
    const own = (listener: IrListener): boolean => {
      const by = listener.declaredBy;
      return by !== undefined && by.object.group === GATEWAY_GROUP && by.object.kind === 'Gateway' && by.object.namespace === namespace && by.object.name === ref.name && by.sectionName === section;
    };
    return { kind: 'ok', target: { level: 'listener', covers: (listener) => own(listener) } };
  }

  if (ref.group === GATEWAY_GROUP && (ref.kind === 'HTTPRoute' || ref.kind === 'GRPCRoute')) {
    const routes = ref.kind === 'HTTPRoute' ? index.httpRoutes : index.grpcRoutes;
    const route = routes.find((r) => namespacedKey(r.metadata.namespace, r.metadata.name) === key);
    if (route === undefined) return missing(`${ref.kind} "${ref.name}"`);
    const whole = (r: IrRoute): boolean => sameObject(r, GATEWAY_GROUP, ref.kind, namespace, ref.name);
    if (section === undefined) return { kind: 'ok', target: { level: 'route', covers: (_l, r) => whole(r) } };
    const rules: readonly { readonly name?: string }[] = route.spec.rules ?? [];
    const i = rules.findIndex((rule) => rule.name === section);
    if (i === -1) {
      const names = rules.flatMap((rule) => (rule.name !== undefined ? [rule.name] : []));
      return { kind: 'not-found', message: `${ref.kind} "${ref.name}" has no rule named "${section}" (${names.length === 0 ? 'its rules have no names' : `rule names: ${names.join(', ')}`})` };
    }
    const prefix = `${ref.kind.toLowerCase()}/${namespace}/${ref.name}/rule/${i}/`;
    return { kind: 'ok', target: { level: 'rule', covers: (_l, r) => whole(r) && r.name.startsWith(prefix) } };
  }

  if (ref.group === INGRESS_GROUP && ref.kind === 'Ingress') {
    if (!index.ingresses.some((g) => namespacedKey(g.metadata.namespace, g.metadata.name) === key)) return missing(`Ingress "${ref.name}"`);
    if (section !== undefined) return { kind: 'invalid', message: `an Ingress has no named sections; sectionName "${section}" cannot be resolved (target the whole Ingress)` };
    return { kind: 'ok', target: { level: 'route', covers: (_l, r) => sameObject(r, INGRESS_GROUP, 'Ingress', namespace, ref.name) } };
  }

  if (ref.group === ISTIO_GROUP && ref.kind === 'VirtualService') {
    const vs = index.virtualServices.find((v) => namespacedKey(v.metadata.namespace, v.metadata.name) === key);
    if (vs === undefined) return missing(`VirtualService "${ref.name}"`);
    const base = `virtualservice/${namespace}/${ref.name}/http/`;
    // A delegate's routes carry the delegate as origin and the root's name as prefix: targeting
    // either one covers them.
    if (section === undefined) return { kind: 'ok', target: { level: 'route', covers: (_l, r) => sameObject(r, ISTIO_GROUP, 'VirtualService', namespace, ref.name) || r.name.startsWith(base) } };
    const i = vs.spec.http.findIndex((h) => h.name === section);
    if (i === -1) {
      const names = vs.spec.http.flatMap((h) => (h.name !== undefined ? [h.name] : []));
      return { kind: 'not-found', message: `VirtualService "${ref.name}" has no http route named "${section}" (${names.length === 0 ? 'its http routes have no names' : `names: ${names.join(', ')}`})` };
    }
    const own = `${base}${i}`;
    return { kind: 'ok', target: { level: 'rule', covers: (_l, r) => r.name === own || r.name.startsWith(`${own}/`) } };
  }

  const kinds = allowed === 'routes' ? 'HTTPRoute, GRPCRoute (gateway.networking.k8s.io), Ingress (networking.k8s.io), VirtualService (networking.istio.io)' : 'Gateway, HTTPRoute, GRPCRoute (gateway.networking.k8s.io), Ingress (networking.k8s.io), VirtualService (networking.istio.io)';
  return { kind: 'invalid', message: `target kind ${describeRef(ref)} is not supported (supported: ${kinds})` };
}
