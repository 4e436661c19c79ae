// The compact nftables layout (`kube-proxy apply --mode nftables --layout compact`), as data.
// kube-proxy's layout gives every Service port a chain and an anonymous `numgen` verdict map, and
// every endpoint a chain: 111,000 chains and 10,000 anonymous sets at 10,000 Services × 10
// endpoints. nft 1.0.6 dumps every chain and set of the table before it sends any `add rule`,
// `add element` or `delete element` (src/cache.c: evaluate_cache_add / the CMD_DELETE case ask for
// NFT_CACHE_CHAIN | NFT_CACHE_SET, and chain_cache_dump has no table filter), which costs 0.7-2.8 s
// there whatever the change. Here the endpoints live in named maps keyed by the Service address,
// port and a random index (`ip daddr . tcp dport . numgen random mod N`), and the chains are one
// per endpoint count N, not per Service: a one-endpoint change is element commands only, and the
// dump is of a few dozen chains and sets (docs/kube-proxy-nftables.md, "The compact layout").
// Endpoint choice is the default layout's (categorizeEndpoints), so `explain` and the shares agree.
// A Service this layout does not model (ClientIP affinity, a Local traffic policy, source ranges)
// gets kube-proxy's own chains in the same table (`fallback`, nftables-model.ts): the fetch then
// grows with those Services' chains only. Pure.
import { DEFAULT_MASQUERADE_MARK, type NftElement, type NftFamily } from './nftables-base.js';
import { categorizeEndpoints, isExternalPolicyLocal, isInternalPolicyLocal } from './iptables-endpoints.js';
import { CompactMergeState, mergeCompactParts, type CompactChange } from './nftables-compact-merge.js';
import type { CompactContainer, CompactPart } from './nftables-compact-parts.js';
import { buildNftablesModel, NftModelMemo, type NftablesOptions, type NftTableModel } from './nftables-model.js';
import { familyOf, type IpFamily, type KpServicePort, type L4Protocol } from './service-ports.js';

export interface NftCompactTable {
  readonly family: NftFamily;
  readonly serviceCIDRs: readonly string[];
  readonly podCIDRs: readonly string[];
  readonly mark: string;
  readonly elements: ReadonlyMap<CompactContainer, ReadonlyMap<string, NftElement>>;
  /** The endpoint counts that have Services: each has its cluster-N, external-N and nodeport-N chains. */
  readonly counts: ReadonlySet<number>;
  /** The Service ports' parts the elements were merged from (by identity, NftCompactMemo). */
  readonly parts: ReadonlySet<CompactPart>;
  /**
   * Built by patching `from`'s element maps in place (NftCompactMemo): `from` now shows this
   * table's elements too, and `changes` is the only record of the difference.
   */
  readonly delta?: { readonly from: NftCompactTable; readonly changes: readonly CompactChange[] };
  /** kube-proxy's chains, sets and elements for the Services this layout does not model (possibly none). */
  readonly fallback: NftTableModel;
  /** Those Services' ports (of this family), for the log. */
  readonly fallbackPorts: number;
}


/** Between builds, by port object and node facts: an unchanged Service's part is reused, and the last merge patched. */
export class NftCompactMemo {
  #key = '';
  #parts = new WeakMap<KpServicePort, CompactPart>();
  #fallback = new NftModelMemo();
  #merges = new Map<NftFamily, { state: CompactMergeState; last?: NftCompactTable }>();

  get fallback(): NftModelMemo {
    return this.#fallback;
  }

  partsFor(key: string): WeakMap<KpServicePort, CompactPart> {
    if (key !== this.#key) {
      // Other node facts: the old parts and merges can never be asked for again.
      this.#key = key;
      this.#parts = new WeakMap();
      this.#merges = new Map();
    }
    return this.#parts;
  }

  mergeFor(family: NftFamily): { state: CompactMergeState; last?: NftCompactTable } {
    let merge = this.#merges.get(family);
    if (merge === undefined) this.#merges.set(family, (merge = { state: new CompactMergeState() }));
    return merge;
  }
}

const FAMILIES: readonly [IpFamily, NftFamily][] = [['IPv4', 'ip'], ['IPv6', 'ip6']];

/** One table per family that has a Service port, a node IP or a CIDR of that family; IPv4 always (as the default layout). */
export function buildCompactModel(ports: readonly KpServicePort[], options: NftablesOptions, memo?: NftCompactMemo): NftCompactTable[] {
  const all = [...(options.nodeIPs ?? []), ...(options.clusterCIDRs ?? []), ...(options.serviceCIDRs ?? [])];
  const parts = memo?.partsFor(JSON.stringify([options.nodeName ?? null]));
  // By Service, not port: a Service's ports share its cluster IP (the `cluster-ips` element), which
  // one layout must own.
  const kubeProxyServices = new Set(ports.filter((sp) => !isCompactModelled(sp)).map((sp) => `${sp.namespace}/${sp.service}`));
  const fallbackPorts = kubeProxyServices.size === 0 ? [] : ports.filter((sp) => kubeProxyServices.has(`${sp.namespace}/${sp.service}`));
  const fallback = new Map(buildNftablesModel(fallbackPorts, options, memo?.fallback).map((m) => [m.family, m]));
  return FAMILIES.filter(([f, nft]) => nft === 'ip' || ports.some((p) => p.family === f) || all.some((a) => familyOf(a) === f)).map(([f, family]) => {
    const ordered: CompactPart[] = [];
    for (const sp of ports) {
      if (sp.family !== f || sp.clusterIP === undefined || (kubeProxyServices.size > 0 && kubeProxyServices.has(`${sp.namespace}/${sp.service}`))) continue;
      let part = parts?.get(sp);
      if (part === undefined) {
        part = buildPart(sp, options.nodeName);
        parts?.set(sp, part);
      }
      ordered.push(part);
    }
    const merge = memo?.mergeFor(family);
    const merged = mergeCompactParts(ordered, (options.nodeIPs ?? []).filter((ip) => familyOf(ip) === f), merge?.state);
    const table: NftCompactTable = {
      family,
      serviceCIDRs: (options.serviceCIDRs ?? []).filter((c) => familyOf(c) === f),
      podCIDRs: (options.clusterCIDRs ?? []).filter((c) => familyOf(c) === f),
      mark: options.masqueradeMark ?? DEFAULT_MASQUERADE_MARK,
      elements: merged.elements,
      counts: merged.counts,
      parts: merged.parts,
      ...(merged.changes !== undefined && merge?.last !== undefined ? { delta: { from: merge.last, changes: merged.changes } } : {}),
      fallback: fallback.get(family) ?? emptyModel(family, options, f),
      fallbackPorts: fallbackPorts.filter((sp) => sp.family === f && sp.clusterIP !== undefined).length,
    };
    if (merge !== undefined) merge.last = table;
    return table;
  });
}

/** Only the Cluster traffic policies without affinity or source ranges: the rest is kube-proxy's chains. */
export function isCompactModelled(sp: KpServicePort): boolean {
  return sp.sessionAffinity.kind === 'None' && !isExternalPolicyLocal(sp) && !isInternalPolicyLocal(sp) && !(sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0);
}

/** No Service in kube-proxy's chains for this family. */
function emptyModel(family: NftFamily, options: NftablesOptions, f: IpFamily): NftTableModel {
  return {
    family,
    serviceCIDRs: (options.serviceCIDRs ?? []).filter((c) => familyOf(c) === f),
    mark: options.masqueradeMark ?? DEFAULT_MASQUERADE_MARK,
    elements: new Map(),
    chains: new Map(),
    affinitySets: new Map(),
    parts: new Set(),
  };
}

function buildPart(sp: KpServicePort, nodeName: string | undefined): CompactPart {
  const proto = sp.protocol.toLowerCase() as Lowercase<L4Protocol>;
  // Cluster traffic policy only (above): every usable endpoint, sorted by ip:port as kube-proxy does.
  const endpoints = categorizeEndpoints(sp, nodeName).cluster;
  const n = endpoints.length;
  const elements: [CompactContainer, NftElement][] = [];
  const comment = sp.servicePortName;
  const value = (address: string, port: number) => `${address} . ${port}`;
  // The addresses a packet reaches the Service at: the cluster IP, then external and LB addresses.
  const addresses: [string, 'cluster' | 'external'][] = [[sp.clusterIP!, 'cluster'], ...[...sp.externalIPs, ...sp.loadBalancerIPs].map((ip) => [ip, 'external'] as [string, 'external'])];
  elements.push(['cluster-ips', { key: sp.clusterIP! }]);
  for (const [address, kind] of addresses) {
    const key = `${address} . ${proto} . ${sp.port}`;
    if (n === 0) {
      // No endpoints: rejected at once, as in the default layout (reject-chain).
      elements.push(['no-endpoint-services', { key, value: 'goto reject-chain', comment }]);
      continue;
    }
    elements.push(['service-ips', { key, value: `goto ${kind}-${n}` }]);
    endpoints.forEach((ep, i) => elements.push([`service-endpoints-${proto}`, { key: `${address} . ${sp.port} . ${i}`, value: value(ep.address, ep.port) }]));
  }
  if (sp.nodePort !== undefined) {
    if (n === 0) elements.push(['no-endpoint-nodeports', { key: `${proto} . ${sp.nodePort}`, value: 'goto reject-chain', comment }]);
    else {
      elements.push(['service-nodeports', { key: `${proto} . ${sp.nodePort}`, value: `goto nodeport-${n}` }]);
      endpoints.forEach((ep, i) => elements.push([`nodeport-endpoints-${proto}`, { key: `${sp.nodePort} . ${i}`, value: value(ep.address, ep.port) }]));
    }
  }
  // Hairpin: a pod reaching itself through the Service must see another source address; after
  // DNAT its source equals its destination, which this set of `a . a` pairs matches.
  for (const ep of endpoints) elements.push(['hairpin', { key: `${ep.address} . ${ep.address}` }]);
  return { elements, count: n === 0 ? undefined : n };
}
