import type { ObjectMeta } from './object-meta.js';

function creationTime(meta: ObjectMeta): number {
  const time = meta.creationTimestamp === undefined ? Number.NaN : Date.parse(meta.creationTimestamp);
  // Hand-written files often have no timestamp: such objects count as the newest, so an object
  // that states its age keeps its claim.
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/**
 * Oldest first, then namespace/name: how Kubernetes controllers settle claims between objects
 * (Gateway API's conflict rule; ingress-nginx does the same for Ingresses).
 */
export function compareByCreation(a: { readonly metadata: ObjectMeta }, b: { readonly metadata: ObjectMeta }): number {
  const ta = creationTime(a.metadata);
  const tb = creationTime(b.metadata);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
