import { isIP } from 'node:net';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value) && value.split('.').every((label) => label.length <= 63);
}

/**
 * Why an Ingress host is invalid, or undefined when it is fine. As the API server's
 * ValidateIngressRule: a lower-case DNS name or `*.` followed by one (the wildcard stands for
 * exactly one label), never an IP address and never a port.
 */
export function checkIngressHost(host: string): string | undefined {
  if (isIP(host) !== 0) return `host "${host}" must be a DNS name, not an IP address`;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (isDns1123Subdomain(name)) return undefined;
  return `host "${host}" is not a lower-case DNS name (RFC 1123) or a wildcard like "*.example.com"`;
}

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*.');
}

/** Exact names first, then wildcards, then the catch-all `*`; alphabetical within each. */
export function compareHostnames(a: string, b: string): number {
  const rank = (h: string): number => (h === '*' ? 2 : isWildcardHost(h) ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
