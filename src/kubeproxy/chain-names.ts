// kube-proxy's per-Service iptables chain names, hashed exactly as kube-proxy hashes them, so the
// rules we render (and `isthmus explain`) can be compared name for name with a node's iptables-save.
//
// Facts from kubernetes/kubernetes pkg/proxy/iptables/proxier.go (portProtoHash,
// servicePort*ChainName, newServiceInfo, newEndpointInfo):
//  - the hashed text is the ServicePortName string (`ns/svc:port`, or `ns/svc` for an unnamed port)
//    followed by the protocol in lower case (`tcp`), and for KUBE-SEP also the endpoint as
//    net.JoinHostPort(ip, port) (`10.180.0.1:80`, `[fd00::1]:80`), with no separators;
//  - SHA-256 of it, encoded with standard base32 (RFC 4648 alphabet A-Z2-7), first 16 characters;
//  - prefixes KUBE-SVC- (Cluster policy), KUBE-SVL- (Local policy), KUBE-EXT- (external
//    destinations), KUBE-FW- (loadBalancerSourceRanges), KUBE-SEP- (one endpoint). The 16
//    characters keep every name within iptables' 28-character chain-name limit.
import { hash } from 'node:crypto';
import type { KpEndpoint, KpServicePort } from './service-ports.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding) of the first bytes needed for `chars` characters (no padding is ever reached); the nftables names use it too. */
export function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
      if (out.length === chars) return out;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

function hash16(text: string): string {
  // crypto.hash (one shot, strings as UTF-8): a third of createHash().update().digest()'s cost
  // per short name, and a render at 10,000 Services hashes 110,000 of them.
  return base32Prefix(hash('sha256', text, 'buffer'), 16);
}

/** kube-proxy's portProtoHash: the 16 characters shared by a Service port's SVC/SVL/EXT/FW chains. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

/** `10.180.0.1:80` or `[fd00::1]:80`, as Go's net.JoinHostPort writes it. */
export function joinHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function serviceChainName(sp: Pick<KpServicePort, 'servicePortName' | 'protocol'>): string {
  return `KUBE-SVC-${portProtoHash(sp.servicePortName, sp.protocol)}`;
}

export function localChainName(sp: Pick<KpServicePort, 'servicePortName' | 'protocol'>): string {
  return `KUBE-SVL-${portProtoHash(sp.servicePortName, sp.protocol)}`;
}

export function externalChainName(sp: Pick<KpServicePort, 'servicePortName' | 'protocol'>): string {
  return `KUBE-EXT-${portProtoHash(sp.servicePortName, sp.protocol)}`;
}

export function firewallChainName(sp: Pick<KpServicePort, 'servicePortName' | 'protocol'>): string {
  return `KUBE-FW-${portProtoHash(sp.servicePortName, sp.protocol)}`;
}

export function endpointChainName(sp: Pick<KpServicePort, 'servicePortName' | 'protocol'>, endpoint: Pick<KpEndpoint, 'address' | 'port'>): string {
  return `KUBE-SEP-${hash16(sp.servicePortName + sp.protocol.toLowerCase() + joinHostPort(endpoint.address, endpoint.port))}`;
}

/**
 * The names `isthmus explain` prints (the ChainNames shape of src/explain/explain-kube-proxy.ts,
 * matched structurally: kubeproxy/ does not import explain/).
 */
export const kubeProxyChainNames = {
  service: (sp: KpServicePort): string => serviceChainName(sp),
  external: (sp: KpServicePort): string => externalChainName(sp),
  local: (sp: KpServicePort): string => localChainName(sp),
  endpoint: (sp: KpServicePort, endpoint: KpEndpoint): string => endpointChainName(sp, endpoint),
} as const;
