// Whether a URL points at this machine: where plain HTTP to an identity provider is tolerated
// (tests, a provider sidecar), since nothing crosses a network. `localhost` and `*.localhost` are
// loopback by RFC 6761 §6.3; 127.0.0.0/8 and ::1 by RFC 1122 and RFC 4291.
import { isIP } from 'node:net';

export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** https anywhere, http on loopback only. */
export function isSecureOrLoopbackUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
}
