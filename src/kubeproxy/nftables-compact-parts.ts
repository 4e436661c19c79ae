// The compact nftables layout's vocabulary (nftables-compact-model.ts says what the layout is):
// the sets and maps it fills, its protocols, and one Service port's share of the elements. Its own
// file so the model and the merge that patches it both read it without importing each other.
import type { NftElement } from './nftables-base.js';

/** The kube-proxy base sets and maps this layout fills, plus its own endpoint maps and hairpin set. */
export const COMPACT_CONTAINERS = [
  'cluster-ips', 'nodeport-ips', 'no-endpoint-nodeports', 'no-endpoint-services', 'service-ips', 'service-nodeports',
  'service-endpoints-tcp', 'service-endpoints-udp', 'service-endpoints-sctp',
  'nodeport-endpoints-tcp', 'nodeport-endpoints-udp', 'nodeport-endpoints-sctp',
  'hairpin',
] as const;
export type CompactContainer = (typeof COMPACT_CONTAINERS)[number];

/** One map per protocol: `th dport` in a map's typeof breaks nft 1.0.6's own cache read ("conflicting protocols"). */
export const COMPACT_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

/** One Service port's elements; shared by identity while the port object is the same. */
export interface CompactPart {
  readonly elements: readonly (readonly [CompactContainer, NftElement])[];
  /** Its endpoint count, when it has endpoints (its chains). */
  readonly count: number | undefined;
}
