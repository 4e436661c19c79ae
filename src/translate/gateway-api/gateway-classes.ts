import { condition, type GatewayClassObjectStatus } from '../../core/object-status.js';
import type { GatewayClass } from '../../resources/resource.js';

/** GatewayClasses whose `spec.controllerName` is ours, by name, and their status (Accepted). */
export function selectOurGatewayClasses(
  classes: readonly GatewayClass[],
  controllerName: string,
): { readonly ours: ReadonlySet<string>; readonly statuses: GatewayClassObjectStatus[] } {
  const ours = new Set<string>();
  const statuses: GatewayClassObjectStatus[] = [];
  for (const gc of classes) {
    // Classes of other controllers are theirs to report on: no status from us.
    if (gc.spec.controllerName !== controllerName) continue;
    ours.add(gc.metadata.name);
    statuses.push({
      apiVersion: gc.apiVersion,
      kind: 'GatewayClass',
      name: gc.metadata.name,
      status: { conditions: [condition('Accepted', true, 'Accepted', `handled by ${controllerName}`, gc.metadata.generation)] },
    });
  }
  return { ours, statuses };
}
