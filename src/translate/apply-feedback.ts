// Statuses say what serves. When the data plane cannot apply part of a configuration (today: a
// bind that cannot listen, e.g. a port another process holds), the objects that declared it must
// say so too: their Gateway status turns Programmed False with the data plane's reason, instead of
// the translator's optimistic "Programmed" for a listener that never opened.
import type { Diagnostic } from '../core/diagnostic.js';
import type { Condition, GatewayObjectStatus, ListenerSetObjectStatus, ObjectStatus } from '../core/object-status.js';

const LISTENER_PATH = /^spec\.listeners\[(\d+)\]$/;

/** Kinds whose listeners are declared in `spec.listeners` and reported in `status.listeners`. */
const LISTENER_OWNERS: ReadonlySet<string> = new Set(['Gateway', 'ListenerSet']);

/** `statuses` with each Gateway (or ListenerSet) named by an ERR_LISTENER_BIND diagnostic marked not programmed. */
export function withApplyFailures(statuses: readonly ObjectStatus[], diagnostics: readonly Diagnostic[]): ObjectStatus[] {
  const failures = diagnostics.filter((d) => d.code === 'ERR_LISTENER_BIND' && LISTENER_OWNERS.has(d.object?.kind ?? '') && d.object!.group === 'gateway.networking.k8s.io');
  if (failures.length === 0) return [...statuses];
  return statuses.map((status) => {
    if (!LISTENER_OWNERS.has(status.kind)) return status;
    const mine = failures.filter((d) => d.object!.kind === status.kind && d.object!.name === status.name && (d.object!.namespace ?? 'default') === (status.namespace ?? 'default'));
    if (mine.length === 0) return status;
    const gateway = status as GatewayObjectStatus | ListenerSetObjectStatus;
    // Gateway API names the Gateway's reason; a ListenerSet has no address of its own.
    const ownerReason = status.kind === 'Gateway' ? 'AddressNotUsable' : 'Pending';
    const generation = gateway.status.conditions.find((c) => c.type === 'Programmed')?.observedGeneration;
    const failedListeners = new Set(mine.map((d) => Number(LISTENER_PATH.exec(d.path ?? '')?.[1] ?? -1)));
    const message = mine[0]!.message;
    return {
      ...gateway,
      status: {
        ...gateway.status,
        conditions: replace(gateway.status.conditions, { type: 'Programmed', status: 'False', reason: ownerReason, message, ...at(generation) }),
        listeners: gateway.status.listeners.map((l, i) =>
          failedListeners.has(i) ? { ...l, conditions: replace(l.conditions, { type: 'Programmed', status: 'False', reason: 'Pending', message, ...at(generation) }) } : l,
        ),
      },
    } as ObjectStatus;
  });
}

/** The objects in `next` that `diagnostics` mark, put in place of their entries in `current`. */
export function replaceMarked(current: readonly ObjectStatus[], next: readonly ObjectStatus[], diagnostics: readonly Diagnostic[]): ObjectStatus[] {
  const marked = withApplyFailures(next, diagnostics).filter((s, i) => s !== next[i]);
  const key = (s: ObjectStatus): string => `${s.apiVersion}|${s.kind}|${s.namespace ?? ''}|${s.name}`;
  const byKey = new Map(marked.map((s) => [key(s), s]));
  const out = current.map((s) => byKey.get(key(s)) ?? s);
  for (const s of marked) if (!current.some((c) => key(c) === key(s))) out.push(s);
  return out;
}

function replace(conditions: readonly Condition[], next: Condition): Condition[] {
  return conditions.some((c) => c.type === next.type) ? conditions.map((c) => (c.type === next.type ? next : c)) : [...conditions, next];
}

function at(generation: number | undefined): { observedGeneration?: number } {
  return generation === undefined ? {} : { observedGeneration: generation };
}
