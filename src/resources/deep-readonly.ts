// Schemas infer mutable types; resources are shared by every consumer of a snapshot, so the
// exported shapes are deeply readonly.
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
