// Gateway API hostnames (gateway.networking.k8s.io/v1 Hostname): a wildcard `*.example.com`
// matches any number of labels in front (`a.example.com`, `a.b.example.com`), never the bare
// `example.com` — unlike Ingress, where the wildcard covers exactly one label.

/** Listener without hostname, route without hostnames: any host. */
export const ANY_HOSTNAME = '*';

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Does the pattern (exact, `*.suffix`, or `*`) cover every name the other pattern covers? */
export function covers(pattern: string, other: string): boolean {
  if (pattern === ANY_HOSTNAME) return true;
  if (other === ANY_HOSTNAME) return false;
  if (!isWildcard(pattern)) return pattern === other;
  const suffix = pattern.slice(1); // `.example.com`
  const rest = isWildcard(other) ? other.slice(1) : other;
  return rest.endsWith(suffix) && rest.length > suffix.length ? true : isWildcard(other) && rest === suffix;
}

/**
 * The names both a listener hostname and a route hostname match (GEP-1059 "hostname
 * intersection"): the more specific of the two when one covers the other, else nothing.
 */
export function intersectHostnames(listener: string, route: string): string | undefined {
  if (covers(listener, route)) return route;
  if (covers(route, listener)) return listener;
  return undefined;
}

/**
 * Specificity, higher is more specific: exact names first, then wildcards by the length of their
 * suffix, then `*`. A request is served by the most specific listener whose hostname matches it.
 */
export function hostnameSpecificity(hostname: string): number {
  if (hostname === ANY_HOSTNAME) return 0;
  if (isWildcard(hostname)) return hostname.length;
  return 1_000_000 + hostname.length;
}

export function compareHostnamesBySpecificity(a: string, b: string): number {
  return hostnameSpecificity(b) - hostnameSpecificity(a) || (a < b ? -1 : a > b ? 1 : 0);
}
