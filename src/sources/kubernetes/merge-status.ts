// The status to write for one object: what the translator says, merged with what the object has
// now. Pure, so the rules are tested without a server:
// - a condition keeps its lastTransitionTime while its status is unchanged (metav1 semantics), and
//   gets the writer's clock when it changes;
// - route `parents` and policy `ancestors` are shared with other controllers: only the entries with
//   our controllerName are replaced, the rest are kept as they are;
// - Ingress and Gateway addresses are the published ones (--publish-service / --publish-address);
// - a Service's load-balancer list is replaced whole by the one `isthmus lb` serves it on.
import type { Condition, ObjectStatus } from '../../core/object-status.js';

/** One published address of the gateway, as Service status.loadBalancer.ingress writes it. */
export interface PublishedAddress {
  readonly ip?: string;
  readonly hostname?: string;
}

export interface MergeContext {
  readonly controllerName: string;
  /** undefined: nothing to publish, so Ingress statuses are not written and Gateways list no address. */
  readonly published: readonly PublishedAddress[] | undefined;
  /** RFC 3339, for conditions that change now. */
  readonly now: string;
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function records(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** metav1.Condition list: each keeps the live lastTransitionTime while its status stays the same. */
export function stampConditions(desired: readonly Condition[], live: unknown, now: string): Condition[] {
  const before = records(live);
  return desired.map((c) => {
    const old = before.find((o) => o.type === c.type);
    const since = old !== undefined && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
    return { ...c, lastTransitionTime: since };
  });
}

/** Entries (listeners by name, parents by parentRef) each with stamped conditions. */
function stampEntries<T extends { readonly conditions: readonly Condition[] }>(desired: readonly T[], live: unknown, same: (entry: T, old: Json) => boolean, now: string): T[] {
  const before = records(live);
  return desired.map((entry) => ({ ...entry, conditions: stampConditions(entry.conditions, before.find((o) => same(entry, o))?.conditions, now) }));
}

function sameRef(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The status to write, or undefined when this object's status is not ours to write now. */
export function mergeStatus(status: ObjectStatus, liveStatus: unknown, ctx: MergeContext): Json | undefined {
  const live = isRecord(liveStatus) ? liveStatus : {};
  switch (status.kind) {
    case 'Service': {
      // The load balancer of the Service's class owns the whole list. Clearing a list that is
      // already empty is no write (every ClusterIP Service would otherwise get `loadBalancer: {}`).
      const ingress = status.status.loadBalancer.ingress;
      const liveIngress = records(isRecord(live.loadBalancer) ? live.loadBalancer.ingress : undefined);
      if (ingress.length === 0 && liveIngress.length === 0) return undefined;
      return { ...live, loadBalancer: ingress.length === 0 ? {} : { ingress: ingress.map((i) => ({ ...i })) } };
    }
    case 'Ingress':
      if (ctx.published === undefined) return undefined;
      return { ...live, loadBalancer: { ingress: ctx.published.map((a) => ({ ...a })) } };
    case 'GatewayClass':
      return { ...live, conditions: stampConditions(status.status.conditions, live.conditions, ctx.now) };
    case 'Gateway': {
      const addresses = (ctx.published ?? []).map((a) => (a.ip !== undefined ? { type: 'IPAddress', value: a.ip } : { type: 'Hostname', value: a.hostname ?? '' }));
      return {
        ...live,
        ...status.status,
        addresses,
        conditions: stampConditions(status.status.conditions, live.conditions, ctx.now),
        listeners: stampEntries(status.status.listeners, live.listeners, (l, o) => o.name === l.name, ctx.now),
      };
    }
    case 'ListenerSet':
      return {
        ...live,
        conditions: stampConditions(status.status.conditions, live.conditions, ctx.now),
        listeners: stampEntries(status.status.listeners, live.listeners, (l, o) => o.name === l.name, ctx.now),
      };
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'TCPRoute':
    case 'UDPRoute':
    case 'TLSRoute': {
      const others = records(live.parents).filter((p) => p.controllerName !== ctx.controllerName);
      const ours = records(live.parents).filter((p) => p.controllerName === ctx.controllerName);
      return { ...live, parents: [...others, ...stampEntries(status.status.parents, ours, (p, o) => sameRef(p.parentRef, o.parentRef), ctx.now)] };
    }
    case 'BackendTLSPolicy':
    case 'AuthPolicy':
    case 'AccessPolicy':
    case 'RateLimitPolicy':
    case 'TransformPolicy':
    case 'API': {
      const others = records(live.ancestors).filter((p) => p.controllerName !== ctx.controllerName);
      const ours = records(live.ancestors).filter((p) => p.controllerName === ctx.controllerName);
      return { ...live, ancestors: [...others, ...stampEntries(status.status.ancestors, ours, (p, o) => sameRef(p.ancestorRef, o.ancestorRef), ctx.now)] };
    }
  }
}

/** JSON with object keys sorted: the API server does not keep our key order, so compare this. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
