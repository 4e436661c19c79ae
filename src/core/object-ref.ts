// A reference to a Kubernetes-style object; every diagnostic, IR name and log line leads back to one.
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** `HTTPRoute default/shop`, or `IngressClass nginx` for cluster-scoped objects. */
export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}
