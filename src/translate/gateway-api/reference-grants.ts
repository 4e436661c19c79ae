import type { ReferenceGrant } from '../../resources/resource.js';

export interface CrossNamespaceReference {
  readonly fromGroup: string;
  readonly fromKind: string;
  readonly fromNamespace: string;
  readonly toGroup: string;
  readonly toKind: string;
  readonly toNamespace: string;
  readonly toName: string;
}

/**
 * A reference into another namespace needs a ReferenceGrant in the target namespace that lists the
 * referring kind and namespace in `from` and the target kind (and name, if given) in `to`
 * (gateway.networking.k8s.io ReferenceGrant). Same-namespace references need none.
 */
export function isReferencePermitted(ref: CrossNamespaceReference, grants: readonly ReferenceGrant[]): boolean {
  if (ref.fromNamespace === ref.toNamespace) return true;
  return grants.some(
    (grant) =>
      grant.metadata.namespace === ref.toNamespace &&
      grant.spec.from.some((f) => f.group === ref.fromGroup && f.kind === ref.fromKind && f.namespace === ref.fromNamespace) &&
      grant.spec.to.some((t) => t.group === ref.toGroup && t.kind === ref.toKind && (t.name === undefined || t.name === ref.toName)),
  );
}
