// Which REST collections Kubernetes mode lists and watches, derived from the one registry of kinds
// (resources/kind-registry.ts): a kind added there is watched here without touching this file.
import { groupOfApiVersion } from '../../core/object-ref.js';
import type { KindDefinition } from '../../resources/kind-definition.js';

/** One kind to watch: its group, collection name and the versions to try, preferred first. */
export interface WatchedCollection {
  /** `""` for the core group. */
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * The API server serves one set of objects under every version of a kind and converts between
   * them, so watching two versions would see each object twice. The first version the server
   * answers for is watched; an older one only when the newer is not served (a 404: an older CRD).
   */
  readonly apiVersions: readonly string[];
}

export function watchedCollections(kinds: readonly Pick<KindDefinition<unknown>, 'apiVersion' | 'kind' | 'plural' | 'namespaced'>[]): WatchedCollection[] {
  const byKey = new Map<string, { group: string; kind: string; plural: string; namespaced: boolean; apiVersions: string[] }>();
  for (const k of kinds) {
    const group = groupOfApiVersion(k.apiVersion);
    const key = `${group}/${k.kind}`;
    const entry = byKey.get(key);
    if (entry) entry.apiVersions.push(k.apiVersion);
    else byKey.set(key, { group, kind: k.kind, plural: k.plural, namespaced: k.namespaced, apiVersions: [k.apiVersion] });
  }
  return [...byKey.values()];
}

/** `/api/v1/namespaces/ns/services` or `/apis/networking.k8s.io/v1/ingresses` (all namespaces). */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace === undefined ? `${root}/${plural}` : `${root}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

/** The path of one object, or of its status subresource. */
export function objectPath(apiVersion: string, plural: string, namespace: string | undefined, name: string, subresource?: 'status'): string {
  const base = `${collectionPath(apiVersion, plural, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${base}/${subresource}` : base;
}
