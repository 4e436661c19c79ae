// A reference to a Kubernetes-style object; every diagnostic, IR name and log line leads back to one.
// Identity is group + kind + namespace + name: an Istio `Gateway` (networking.istio.io) and a
// Gateway API `Gateway` (gateway.networking.k8s.io) of the same name in one namespace are two objects.
export interface ObjectRef {
  /** API group, `""` for the core group (Service, Secret, Pod), as Kubernetes writes it. */
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** `networking.k8s.io/v1` → `networking.k8s.io`; `v1` → `""` (the core group). */
export function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/**
 * `HTTPRoute default/shop`, or `IngressClass nginx` for cluster-scoped objects. The group is left
 * out of the text (it is in the ref's data): kinds are unambiguous among the dialects read today.
 */
export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** `gateway.networking.k8s.io/Gateway/default/eg`: a key that tells objects of two groups apart. */
export function objectKey(ref: ObjectRef): string {
  return `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
