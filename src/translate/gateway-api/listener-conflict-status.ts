// Bind conflicts (src/translate/binds/) → Gateway listener status. The bind step sees what one
// Gateway alone cannot: listeners of other Gateways, Ingress, and ports that `--port-map` maps
// together. A refused listener gets Conflicted True with the bind step's reason and Programmed
// False, as a conflict inside one Gateway does (gateway-listeners.ts); a Gateway left with no
// programmed listener is not Programmed either.
import { condition, type Condition, type GatewayObjectStatus, type ListenerStatus, type ObjectStatus } from '../../core/object-status.js';
import type { ListenerConflict } from '../binds/bind-listeners.js';

function replace(conditions: readonly Condition[], next: Condition): Condition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  return i === -1 ? [...conditions, next] : conditions.map((c, j) => (j === i ? next : c));
}

function isProgrammed(l: ListenerStatus): boolean {
  return l.conditions.some((c) => c.type === 'Programmed' && c.status === 'True');
}

export function applyListenerConflicts(statuses: readonly ObjectStatus[], conflicts: readonly ListenerConflict[]): ObjectStatus[] {
  if (conflicts.length === 0) return [...statuses];
  return statuses.map((status): ObjectStatus => {
    if (status.kind !== 'Gateway') return status;
    const mine = conflicts.filter((c) => {
      const d = c.listener.declaredBy;
      return d !== undefined && d.object.kind === 'Gateway' && d.object.group === 'gateway.networking.k8s.io' && d.object.name === status.name && (d.object.namespace ?? 'default') === (status.namespace ?? 'default');
    });
    if (mine.length === 0) return status;
    const listeners = status.status.listeners.map((l): ListenerStatus => {
      const conflict = mine.find((c) => c.listener.declaredBy?.sectionName === l.name);
      if (conflict === undefined) return l;
      const generation = l.conditions.find((c) => c.type === 'Accepted')?.observedGeneration;
      let conditions = replace(l.conditions, condition('Conflicted', true, conflict.reason, conflict.message, generation));
      conditions = replace(conditions, condition('Programmed', false, 'Invalid', 'conflicted listeners are not served', generation));
      return { ...l, conditions };
    });
    let conditions = status.status.conditions;
    if (!listeners.some(isProgrammed)) {
      const generation = conditions.find((c) => c.type === 'Accepted')?.observedGeneration;
      conditions = replace(conditions, condition('Programmed', false, 'Invalid', 'no listener can be served', generation));
    }
    const next: GatewayObjectStatus = { ...status, status: { ...status.status, conditions, listeners } };
    return next;
  });
}
