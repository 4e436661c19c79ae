// ListenerSets (gateway.networking.k8s.io/v1, GEP-1713) → which Gateway of ours each one joins,
// and their status. A ListenerSet joins only when its Gateway's `spec.allowedListeners` admits its
// namespace (None by default); its listeners then are that Gateway's, after the Gateway's own
// (gateway-listeners.ts resolves and checks the merged list).
import type { Diagnostic } from '../../core/diagnostic.js';
import { condition, type Condition, type ListenerSetObjectStatus, type ListenerStatus } from '../../core/object-status.js';
import { refOf, type Gateway, type ListenerSet, type Namespace } from '../../resources/resource.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { GATEWAY_GROUP } from './gateway-listeners.js';
import { isNamespaceAllowed } from './route-attachment.js';

export interface ListenerSetSelection {
  /** Per Gateway (`ns/name`), the ListenerSets it admits in GEP-1713 precedence: oldest first, then namespace/name. */
  readonly attached: ReadonlyMap<string, readonly ListenerSet[]>;
  /** ListenerSets whose Gateway is ours but does not admit them. */
  readonly notAllowed: readonly ListenerSet[];
  /** ListenerSet (`ns/name`) → its Gateway (`ns/name`), for every ListenerSet whose Gateway is ours. */
  readonly parents: ReadonlyMap<string, string>;
}

export function keyOf(o: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}

/** `gateways`: ours, by `ns/name`. A ListenerSet naming another Gateway (or none) gets no status from us. */
export function selectListenerSets(
  listenerSets: readonly ListenerSet[],
  gateways: ReadonlyMap<string, Gateway>,
  namespaces: ReadonlyMap<string, Namespace>,
  diagnostics: Diagnostic[],
): ListenerSetSelection {
  const attached = new Map<string, ListenerSet[]>();
  const notAllowed: ListenerSet[] = [];
  const parents = new Map<string, string>();
  for (const set of [...listenerSets].sort(compareByCreation)) {
    const ref = set.spec.parentRef;
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const ns = set.metadata.namespace ?? 'default';
    const gatewayKey = `${ref.namespace ?? ns}/${ref.name}`;
    const gateway = gateways.get(gatewayKey);
    if (gateway === undefined) continue;
    parents.set(keyOf(set), gatewayKey);
    // GEP-1713: `allowedListeners.namespaces.from` defaults to None.
    if (isNamespaceAllowed(gateway.spec.allowedListeners?.namespaces, 'None', gateway.metadata.namespace ?? 'default', ns, namespaces)) {
      attached.set(gatewayKey, [...(attached.get(gatewayKey) ?? []), set]);
      continue;
    }
    notAllowed.push(set);
    const from = gateway.spec.allowedListeners?.namespaces?.from ?? 'None';
    diagnostics.push({ severity: 'warning', code: 'ERR_LISTENERSET_NOT_ALLOWED', object: refOf(set), source: set.source, path: 'spec.parentRef', message: `Gateway ${gatewayKey} does not allow ListenerSets from namespace "${ns}" (allowedListeners.namespaces.from: ${from}); its listeners are not served` });
  }
  return { attached, notAllowed, parents };
}

function hasTrue(conditions: readonly Condition[], type: string): boolean {
  return conditions.some((c) => c.type === type && c.status === 'True');
}

/**
 * A joined ListenerSet's own conditions summarise only its listeners (GEP-1713): Accepted while
 * one of them is, Programmed while one is served; otherwise False `ListenersNotValid`.
 */
export function listenerSetConditions(listeners: readonly ListenerStatus[], generation: number | undefined): Condition[] {
  const accepted = listeners.some((l) => hasTrue(l.conditions, 'Accepted'));
  const programmed = listeners.some((l) => hasTrue(l.conditions, 'Programmed'));
  return [
    accepted ? condition('Accepted', true, 'Accepted', 'attached to its Gateway', generation) : condition('Accepted', false, 'ListenersNotValid', 'no listener of the ListenerSet is accepted (see status.listeners)', generation),
    programmed ? condition('Programmed', true, 'Programmed', 'served', generation) : condition('Programmed', false, 'ListenersNotValid', 'no listener of the ListenerSet is served (see status.listeners)', generation),
  ];
}

export function isListenerSetAccepted(status: ListenerSetObjectStatus): boolean {
  return hasTrue(status.status.conditions, 'Accepted');
}

export function attachedListenerSetStatus(set: ListenerSet, listeners: readonly ListenerStatus[]): ListenerSetObjectStatus {
  const conditions = listenerSetConditions(listeners, set.metadata.generation);
  return { apiVersion: set.apiVersion, kind: 'ListenerSet', namespace: set.metadata.namespace ?? 'default', name: set.metadata.name, status: { conditions, listeners } };
}

export function notAllowedListenerSetStatus(set: ListenerSet, gatewayKey: string): ListenerSetObjectStatus {
  const generation = set.metadata.generation;
  const message = `Gateway ${gatewayKey} does not allow ListenerSets from namespace "${set.metadata.namespace ?? 'default'}"`;
  return {
    apiVersion: set.apiVersion,
    kind: 'ListenerSet',
    namespace: set.metadata.namespace ?? 'default',
    name: set.metadata.name,
    status: { conditions: [condition('Accepted', false, 'NotAllowed', message, generation), condition('Programmed', false, 'NotAllowed', message, generation)], listeners: [] },
  };
}
