// Bind conflicts (src/translate/binds/) → Gateway and ListenerSet listener status. The bind step
// sees what one Gateway alone cannot: listeners of other Gateways, Ingress, and ports that
// `--port-map` maps together. A refused listener gets Conflicted True with the bind step's reason
// and Programmed False, as a conflict inside one Gateway does (gateway-listeners.ts); a Gateway
// left with no programmed listener is not Programmed either, a ListenerSet left with none is
// summarised again (listener-sets.ts), and its Gateway's attachedListenerSets counted again.
import { condition, withCondition as replace, type GatewayObjectStatus, type ListenerStatus, type ObjectStatus } from '../../core/object-status.js';
import type { ObjectRef } from '../../core/object-ref.js';
import type { ListenerConflict, ListenerConflictReason } from '../binds/bind-listeners.js';
import { conflictedConditions } from './gateway-listeners.js';
import { isListenerSetAccepted, listenerSetConditions } from './listener-sets.js';

function isProgrammed(l: ListenerStatus): boolean {
  return l.conditions.some((c) => c.type === 'Programmed' && c.status === 'True');
}

/** A Gateway or ListenerSet listener the bind step refused: an HTTP one (bind-listeners.ts) or an L4 one (l4-listeners.ts). */
export interface ListenerRefusal {
  readonly object: ObjectRef;
  readonly sectionName: string;
  readonly reason: ListenerConflictReason;
  readonly message: string;
}

export function refusalsOf(conflicts: readonly ListenerConflict[]): ListenerRefusal[] {
  return conflicts.flatMap((c) => {
    const d = c.listener.declaredBy;
    return d?.sectionName !== undefined ? [{ object: d.object, sectionName: d.sectionName, reason: c.reason, message: c.message }] : [];
  });
}

function conflictedListeners(kind: 'Gateway' | 'ListenerSet', listeners: readonly ListenerStatus[], mine: readonly ListenerRefusal[]): ListenerStatus[] {
  return listeners.map((l): ListenerStatus => {
    const conflict = mine.find((c) => c.sectionName === l.name);
    if (conflict === undefined) return l;
    const generation = l.conditions.find((c) => c.type === 'Accepted')?.observedGeneration;
    return { ...l, conditions: conflictedConditions(kind, l.conditions, conflict.reason, conflict.message, generation) };
  });
}

/** `listenerSetParents`: ListenerSet `ns/name` → Gateway `ns/name` (translate-gateway-api.ts). */
export function applyListenerConflicts(statuses: readonly ObjectStatus[], conflicts: readonly ListenerRefusal[], listenerSetParents: ReadonlyMap<string, string> = new Map()): ObjectStatus[] {
  if (conflicts.length === 0) return [...statuses];
  const updated = statuses.map((status): ObjectStatus => {
    if (status.kind !== 'Gateway' && status.kind !== 'ListenerSet') return status;
    const mine = conflicts.filter((c) => {
      const o = c.object;
      // The group too: an Istio Gateway (networking.istio.io) has the same kind.
      return o.kind === status.kind && o.group === 'gateway.networking.k8s.io' && o.name === status.name && (o.namespace ?? 'default') === (status.namespace ?? 'default');
    });
    if (mine.length === 0) return status;
    const listeners = conflictedListeners(status.kind, status.status.listeners, mine);
    const generation = status.status.conditions.find((c) => c.type === 'Accepted')?.observedGeneration;
    if (status.kind === 'ListenerSet') return { ...status, status: { conditions: listenerSetConditions(listeners, generation), listeners } };
    let conditions = status.status.conditions;
    if (!listeners.some(isProgrammed)) conditions = replace(conditions, condition('Programmed', false, 'Invalid', 'no listener can be served', generation));
    const next: GatewayObjectStatus = { ...status, status: { ...status.status, conditions, listeners } };
    return next;
  });
  // A ListenerSet no longer Accepted no longer counts as attached.
  return updated.map((status): ObjectStatus => {
    if (status.kind !== 'Gateway' || status.status.attachedListenerSets === undefined) return status;
    const key = `${status.namespace ?? 'default'}/${status.name}`;
    const attachedListenerSets = updated.filter((s) => s.kind === 'ListenerSet' && listenerSetParents.get(`${s.namespace ?? 'default'}/${s.name}`) === key && isListenerSetAccepted(s)).length;
    return { ...status, status: { ...status.status, attachedListenerSets } };
  });
}
