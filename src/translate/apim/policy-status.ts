// Status of AuthPolicy, RateLimitPolicy and API objects: PolicyAncestorStatus entries with our
// controllerName, one per ancestor the policy applies through (the Gateway that serves a
// covered route, an Istio Gateway, or for an Ingress the Ingress itself), plus one per target
// that could not be resolved (ancestorRef = that target). Conditions:
//   Accepted True  Accepted          applies to the covered routes under this ancestor
//   Accepted False Conflicted        under this ancestor, every covered route is governed by an older policy at the same level
//   Accepted False Invalid           a part of the spec cannot be used (the rest still applies), or an unsupported target kind
//   Accepted False TargetNotFound    the target (or its section) does not exist
// Built while routes are decided (recordApplied / recordConflict), then read once. Pure.
import { condition, type ApimPolicyObjectStatus, type Condition, type ParentReference, type PolicyAncestorStatus } from '../../core/object-status.js';

export type ApimPolicyKind = ApimPolicyObjectStatus['kind'];

interface AncestorUse {
  readonly ref: ParentReference;
  readonly applied: Set<string>;
  /** route name → the winner that took it. */
  readonly lost: Map<string, string>;
}

export interface PolicyRecord {
  readonly kind: ApimPolicyKind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  invalid?: string;
  readonly unresolved: { readonly ref: ParentReference; readonly reason: 'TargetNotFound' | 'Invalid'; readonly message: string }[];
  readonly ancestors: Map<string, AncestorUse>;
}

export function newPolicyRecord(kind: ApimPolicyKind, o: { readonly apiVersion: string; readonly metadata: { readonly namespace?: string; readonly name: string; readonly generation?: number } }): PolicyRecord {
  return {
    kind,
    apiVersion: o.apiVersion,
    namespace: o.metadata.namespace ?? 'default',
    name: o.metadata.name,
    ...(o.metadata.generation !== undefined ? { generation: o.metadata.generation } : {}),
    unresolved: [],
    ancestors: new Map(),
  };
}

function refKey(r: ParentReference): string {
  return `${r.group ?? ''}/${r.kind ?? ''}/${r.namespace ?? ''}/${r.name}/${r.sectionName ?? ''}`;
}

function use(record: PolicyRecord, ref: ParentReference): AncestorUse {
  const key = refKey(ref);
  let u = record.ancestors.get(key);
  if (u === undefined) record.ancestors.set(key, (u = { ref, applied: new Set(), lost: new Map() }));
  return u;
}

export function recordApplied(record: PolicyRecord, ancestor: ParentReference, route: string): void {
  use(record, ancestor).applied.add(route);
}

export function recordConflict(record: PolicyRecord, ancestor: ParentReference, route: string, winner: string): void {
  use(record, ancestor).lost.set(route, winner);
}

function ancestorConditions(record: PolicyRecord, u: AncestorUse): Condition[] {
  const g = record.generation;
  const lost = [...u.lost.keys()].filter((r) => !u.applied.has(r)).sort();
  if (u.applied.size === 0 && lost.length > 0) {
    const winners = [...new Set(lost.map((r) => u.lost.get(r)!))].sort();
    return [condition('Accepted', false, 'Conflicted', `every route it covers here is governed by the older ${winners.join(', ')} at the same attachment level (${lost.length} route${lost.length === 1 ? '' : 's'}, first ${lost[0]})`, g)];
  }
  if (record.invalid !== undefined) return [condition('Accepted', false, 'Invalid', `${record.invalid}; the rest of the policy applies`, g)];
  const also = lost.length > 0 ? `; ${lost.length} more route${lost.length === 1 ? ' is' : 's are'} governed by an older ${record.kind} (first ${lost[0]}: ${u.lost.get(lost[0]!)})` : '';
  return [condition('Accepted', true, 'Accepted', `applies to ${u.applied.size} route${u.applied.size === 1 ? '' : 's'}${also}`, g)];
}

export function policyStatus(record: PolicyRecord, controllerName: string): ApimPolicyObjectStatus {
  const entries: { key: string; status: PolicyAncestorStatus }[] = [];
  for (const [key, u] of record.ancestors) entries.push({ key, status: { ancestorRef: u.ref, controllerName, conditions: ancestorConditions(record, u) } });
  for (const t of record.unresolved) {
    const key = refKey(t.ref);
    if (entries.some((e) => e.key === key)) continue;
    entries.push({ key, status: { ancestorRef: t.ref, controllerName, conditions: [condition('Accepted', false, t.reason, t.message, record.generation)] } });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Gateway API caps ancestors at 16 entries.
  return { apiVersion: record.apiVersion, kind: record.kind, namespace: record.namespace, name: record.name, status: { ancestors: entries.slice(0, 16).map((e) => e.status) } };
}
