// The messages between `kube-proxy render` and its shard worker (render-shard-worker.ts). Both
// ends are this package, compiled together; structured clone carries them.
import type { IptablesRenderOptions } from './iptables-render.js';
import type { IptablesFamilyShard } from './iptables-render-shards.js';
import type { NftablesOptions } from './nftables-model.js';
import type { NftTableShard } from './nftables-render-shards.js';
import type { IpFamily, KpServicePort } from './service-ports.js';

/** Main thread → worker, once: the later shard of the Service ports and how to render them. */
export type ShardRequest =
  | { readonly mode: 'nftables'; readonly ports: readonly KpServicePort[]; readonly options: NftablesOptions }
  | { readonly mode: 'iptables'; readonly ports: readonly KpServicePort[]; readonly families: readonly IpFamily[]; readonly options: IptablesRenderOptions };

/** Worker → main thread, once. */
export type ShardReply = { readonly mode: 'nftables'; readonly tables: readonly NftTableShard[] } | { readonly mode: 'iptables'; readonly families: readonly IptablesFamilyShard[] };
