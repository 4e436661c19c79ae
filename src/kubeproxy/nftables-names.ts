// kube-proxy's nftables mode names its objects after the Service port (and endpoint) they serve:
// `service-ULMVA6XW-ns1/svc1/tcp/p80`, `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`. The
// 8-character prefix is the first base32 characters of the SHA-256 of the rest, so two chains
// that differ by one digit still look different, and a truncated name stays unique
// (pkg/proxy/nftables/proxier.go, hashAndTruncate). These are not the iptables mode's
// KUBE-SVC-... names (src/kubeproxy/chain-names.ts), so they live here.
import { hash } from 'node:crypto';
import { base32Prefix } from './chain-names.js';
import type { KpEndpoint, KpServicePort } from './service-ports.js';

/** nftables limits a chain name to 128 bytes; kube-proxy keeps 16 for its prefixes. */
const BASE_LENGTH_MAX = 128 - 16;

export function hashAndTruncate(name: string): string {
  // crypto.hash: one call, no Hash object (chain-names.ts says why that matters here).
  const hashed = `${base32Prefix(hash('sha256', name, 'buffer'), 8)}-${name}`;
  return hashed.length > BASE_LENGTH_MAX ? `${hashed.slice(0, BASE_LENGTH_MAX - 3)}...` : hashed;
}

function portBase(sp: KpServicePort): string {
  return `${sp.namespace}/${sp.service}/${sp.protocol.toLowerCase()}/${sp.portName}`;
}

/** The per-Service-port and per-endpoint object names of kube-proxy's nftables mode. */
export const nftNames = {
  service: (sp: KpServicePort): string => `service-${hashAndTruncate(portBase(sp))}`,
  local: (sp: KpServicePort): string => `local-${hashAndTruncate(portBase(sp))}`,
  external: (sp: KpServicePort): string => `external-${hashAndTruncate(portBase(sp))}`,
  firewall: (sp: KpServicePort): string => `firewall-${hashAndTruncate(portBase(sp))}`,
  endpoint: (sp: KpServicePort, ep: KpEndpoint): string => `endpoint-${endpointBase(sp, ep)}`,
  affinity: (sp: KpServicePort, ep: KpEndpoint): string => `affinity-${endpointBase(sp, ep)}`,
};

/**
 * The service, local, external and firewall chain names of one port from a single hash: they
 * differ only by prefix, and at 10,000 Service ports a SHA-256 per name is a fifth of the render.
 */
export function nftPortChainNames(sp: KpServicePort): { readonly service: string; readonly local: string; readonly external: string; readonly firewall: string } {
  const base = hashAndTruncate(portBase(sp));
  return { service: `service-${base}`, local: `local-${base}`, external: `external-${base}`, firewall: `firewall-${base}` };
}

/** An endpoint's chain and affinity-set names from a single hash (they share it, as above). */
export function nftEndpointNames(sp: KpServicePort, ep: KpEndpoint): { readonly endpoint: string; readonly affinity: string } {
  const base = endpointBase(sp, ep);
  return { endpoint: `endpoint-${base}`, affinity: `affinity-${base}` };
}

function endpointBase(sp: KpServicePort, ep: KpEndpoint): string {
  // Colons are not allowed in a chain name: an IPv6 address is written with dots instead.
  return hashAndTruncate(`${portBase(sp)}__${ep.address.replaceAll(':', '.')}/${ep.port}`);
}
