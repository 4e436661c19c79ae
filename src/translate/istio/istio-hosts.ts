// Istio host names (networking.istio.io VirtualService `hosts`, DestinationRule and destination
// `host`). A short name is a Service in the namespace of the object that writes it ("reviews" in
// namespace default is reviews.default.svc.cluster.local); anything with a dot is taken as written.
// Wildcards (`*.example.com`) match any number of labels, as Envoy's domain wildcards do.
import type { Service } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';

/** Istio's default trust domain and cluster domain; the only one Isthmus resolves. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; FQDNs and wildcards unchanged. */
export function resolveHost(host: string, namespace: string): string {
  const lower = host.toLowerCase();
  if (lower === '*' || lower.includes('.')) return lower;
  return `${lower}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** `<name>.<namespace>.svc.cluster.local` (also `<name>.<namespace>` and `.svc`): the Service it names. */
export function serviceOfHost(host: string, namespace: string, index: ResourceIndex): Service | undefined {
  const fqdn = resolveHost(host, namespace);
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?$/.exec(fqdn);
  if (!m) return undefined;
  return index.services.get(namespacedKey(m[2], m[1]!));
}

/** `reviews.default.svc.cluster.local` for Service default/reviews. */
export function serviceFqdn(service: Service): string {
  return `${service.metadata.name}.${service.metadata.namespace ?? 'default'}.svc.${CLUSTER_DOMAIN}`;
}

/**
 * The names a client inside the cluster may put in Host for a Service FQDN: Kubernetes' DNS search
 * path gives `reviews`, `reviews.default`, `reviews.default.svc` and the FQDN. Istio's sidecars
 * answer to all of them; the edge does too, so that a VirtualService written for the mesh
 * (`hosts: [reviews]`) serves `Host: reviews:9080` when it is also bound to a gateway.
 */
export function hostAliases(fqdn: string): string[] {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(fqdn);
  if (!m) return [fqdn];
  return [fqdn, m[1]!, `${m[1]}.${m[2]}`, `${m[1]}.${m[2]}.svc`];
}

/** Does the server host (exact, `*.suffix` or `*`) cover the VirtualService host? */
export function istioHostCovers(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (host === '*') return false;
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  const rest = host.startsWith('*.') ? host.slice(1) : host;
  return rest === suffix ? host.startsWith('*.') : rest.endsWith(suffix);
}

/** The names both match: the more specific of the two, or none. */
export function intersectIstioHosts(server: string, vs: string): string | undefined {
  if (istioHostCovers(server, vs)) return vs;
  if (istioHostCovers(vs, server)) return server;
  return undefined;
}
