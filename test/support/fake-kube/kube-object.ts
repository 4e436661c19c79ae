// The JSON shapes the fake API server stores and serves, and the description of a
// collection (a "kind") that tests register with `FakeKubeApi.defineKind`.

export type JsonObject = { [key: string]: unknown };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** What a test says about a collection; everything not given is defaulted by `resolveKind`. */
export interface KindSpec {
  /** `v1` for the core group, otherwise `group/version`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** The REST collection name in the URL, e.g. `ingresses`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * Whether `{name}/status` exists. When it does, PUT on the main resource ignores `.status`
   * and PUT on `/status` ignores everything else. Defaults to true except for kinds that have
   * no status subresource in a real cluster (ConfigMap, Secret, Lease, Endpoints, ...).
   */
  readonly statusSubresource?: boolean;
  /**
   * Built-in (compiled into kube-apiserver) rather than a CRD. It changes the wire format:
   * a real server omits apiVersion/kind on list items of built-in types
   * (kubernetes/kubernetes#3030) but keeps them for CRDs, and DELETE answers a Status for
   * built-ins but the deleted object for CRDs. Defaults to true for the core group and the
   * built-in groups listed below, false for any other group.
   */
  readonly builtIn?: boolean;
}

export interface KindDefinition {
  readonly apiVersion: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  readonly builtIn: boolean;
  /** `plural.group` (or just `plural` in the core group): the storage and RBAC name. */
  readonly resource: string;
}

// Kinds that a real cluster serves without a /status subresource.
const KINDS_WITHOUT_STATUS = new Set([
  'ConfigMap',
  'Secret',
  'Lease',
  'Endpoints',
  'EndpointSlice',
  'ServiceAccount',
  'Event',
  'IngressClass',
  'ReferenceGrant',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
]);

// API groups compiled into kube-apiserver; everything else is assumed to come from a CRD.
const BUILT_IN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'discovery.k8s.io',
  'coordination.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'admissionregistration.k8s.io',
  'certificates.k8s.io',
  'events.k8s.io',
  'node.k8s.io',
  'scheduling.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
]);

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash === -1) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function qualifiedResource(group: string, plural: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

export function resolveKind(spec: KindSpec): KindDefinition {
  const { group, version } = splitApiVersion(spec.apiVersion);
  return {
    apiVersion: spec.apiVersion,
    group,
    version,
    kind: spec.kind,
    plural: spec.plural,
    namespaced: spec.namespaced,
    statusSubresource: spec.statusSubresource ?? !KINDS_WITHOUT_STATUS.has(spec.kind),
    builtIn: spec.builtIn ?? BUILT_IN_GROUPS.has(group),
    resource: qualifiedResource(group, spec.plural),
  };
}

/** The storage key, ordered like etcd's `/registry/{resource}/{namespace}/{name}`. */
export function objectKey(def: KindDefinition, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${namespace ?? ''}/${name}` : name;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isKubeObject(value: unknown): value is KubeObject {
  return isJsonObject(value) && isJsonObject(value['metadata']);
}

export function cloneObject<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The object as served for `def`: apiVersion and kind first, as the real encoder writes them.
 * Objects are stored once per resource, so one written through v1beta1 is served as v1 when
 * read through v1 (the real server converts; the fake only relabels, schemas are not checked).
 */
export function presentObject(object: KubeObject, def: KindDefinition): KubeObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = cloneObject(object);
  return { apiVersion: def.apiVersion, kind: def.kind, ...rest };
}

/** A list item: built-in types lose their TypeMeta on the wire, CRD items keep it. */
export function presentListItem(object: KubeObject, def: KindDefinition): KubeObject {
  const shown = presentObject(object, def);
  if (!def.builtIn) return shown;
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = shown;
  return rest as KubeObject;
}

/** RFC 3339 with second precision, the format of metav1.Time. */
export function formatKubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
