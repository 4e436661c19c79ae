// What kube-proxy's nftables mode programs, as data: per IP family, the elements of the shared
// sets and verdict maps, the per-Service-port chains with their rules, and the affinity sets.
// The full script (nftables-render.ts) and the partial update between two models
// (nftables-diff.ts) are both written from it, so a sync sends exactly what changed.
// The per-port logic follows pkg/proxy/nftables/proxier.go (syncProxyRules). Pure.
import { DEFAULT_MASQUERADE_MARK, type ElementContainer, type NftElement, type NftFamily } from './nftables-base.js';
import { nftEndpointNames, nftPortChainNames } from './nftables-names.js';
import { categorizeEndpoints, isExternallyAccessible, isExternalPolicyLocal, isInternalPolicyLocal, usesClusterEndpoints, usesLocalEndpoints } from './iptables-endpoints.js';
import { mergeParts, type NftModelMemo, type NftPortPart } from './nftables-parts.js';
import { familyOf, type IpFamily, type KpEndpoint, type KpServicePort } from './service-ports.js';

export type { NftFamily } from './nftables-base.js';
export { NftModelMemo, type NftPortPart } from './nftables-parts.js';

export interface NftablesOptions {
  /** The node's addresses: NodePort traffic is accepted on these (`nodeport-ips`); none: no NodePort answers. */
  readonly nodeIPs?: readonly string[];
  /** Pod CIDRs (`--cluster-cidr`): traffic from outside them to a cluster IP is masqueraded. */
  readonly clusterCIDRs?: readonly string[];
  /** Service CIDRs: traffic to an unallocated cluster IP in them is dropped. */
  readonly serviceCIDRs?: readonly string[];
  /** This node's name, for traffic policy Local (an endpoint's `nodeName`). */
  readonly nodeName?: string;
  /** The masquerade mark; default 0x4000 (kube-proxy's `--masquerade-bit` 14). */
  readonly masqueradeMark?: string;
}

export type { NftElement } from './nftables-base.js';

export interface NftTableModel {
  readonly family: NftFamily;
  readonly serviceCIDRs: readonly string[];
  readonly mark: string;
  readonly elements: ReadonlyMap<ElementContainer, ReadonlyMap<string, NftElement>>;
  /** Per-Service-port chains (service-, local-, external-, firewall-, endpoint-): rule bodies in order. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** Affinity sets: name → timeout in seconds. */
  readonly affinitySets: ReadonlyMap<string, number>;
  /** The Service ports' parts the maps above were merged from; everything but `nodeport-ips`. */
  readonly parts: ReadonlySet<NftPortPart>;
}

const FAMILIES: readonly [IpFamily, NftFamily][] = [['IPv4', 'ip'], ['IPv6', 'ip6']];

/** One table per family that has a Service port, a node IP or a CIDR of that family; IPv4 always. */
export function buildNftablesModel(ports: readonly KpServicePort[], options: NftablesOptions, memo?: NftModelMemo): NftTableModel[] {
  const all = [...(options.nodeIPs ?? []), ...(options.clusterCIDRs ?? []), ...(options.serviceCIDRs ?? [])];
  return FAMILIES.filter(([f, nft]) => nft === 'ip' || ports.some((p) => p.family === f) || all.some((a) => familyOf(a) === f)).map(([f, nft]) =>
    buildTable(nft, ports.filter((p) => p.family === f), options, f, memo),
  );
}

/** One part being written: the facts a Service port's rules depend on, and where they go. */
interface Builder {
  readonly family: NftFamily;
  readonly elements: [ElementContainer, NftElement][];
  readonly chains: Map<string, string[]>;
  readonly affinitySets: Map<string, number>;
  readonly podCIDRs: readonly string[];
  readonly nodeName: string | undefined;
}

function buildTable(family: NftFamily, ports: readonly KpServicePort[], options: NftablesOptions, f: IpFamily, memo: NftModelMemo | undefined): NftTableModel {
  const podCIDRs = (options.clusterCIDRs ?? []).filter((c) => familyOf(c) === f);
  const state = memo?.stateFor(JSON.stringify([family, podCIDRs, options.nodeName ?? null]));
  const parts: NftPortPart[] = [];
  // Headless Services (and a family the Service has no cluster IP in) get no rules (ShouldSkipService).
  for (const sp of ports) {
    if (sp.clusterIP === undefined) continue;
    let part = state?.byPort.get(sp);
    if (part === undefined) {
      const b: Builder = { family, elements: [], chains: new Map(), affinitySets: new Map(), podCIDRs, nodeName: options.nodeName };
      addServicePort(b, sp);
      part = { elements: b.elements, chains: b.chains, affinitySets: b.affinitySets };
      state?.byPort.set(sp, part);
    }
    parts.push(part);
  }
  const merged = mergeParts(parts, (options.nodeIPs ?? []).filter((ip) => familyOf(ip) === f), state);
  return {
    family,
    serviceCIDRs: (options.serviceCIDRs ?? []).filter((c) => familyOf(c) === f),
    mark: options.masqueradeMark ?? DEFAULT_MASQUERADE_MARK,
    ...merged,
  };
}

function addElement(b: Builder, container: ElementContainer, element: NftElement): void {
  b.elements.push([container, element]);
}

/**
 * kube-proxy's nftables proxier categorizes endpoints as its iptables one does (pkg/proxy/topology.go
 * CategorizeEndpoints, through iptables-endpoints.ts): one endpoint per ip:port, sorted, ready ones
 * else serving terminating ones; "local" ones are on this node.
 */
function categorize(sp: KpServicePort, nodeName: string | undefined) {
  const eps = categorizeEndpoints(sp, nodeName);
  return {
    cluster: eps.cluster,
    local: eps.local,
    reachable: eps.reachable,
    hasEndpoints: eps.hasAny,
    externalLocal: isExternalPolicyLocal(sp),
    internalLocal: isInternalPolicyLocal(sp),
    usesCluster: usesClusterEndpoints(sp),
    usesLocal: usesLocalEndpoints(sp),
  };
}

function addServicePort(b: Builder, sp: KpServicePort): void {
  const ipX = b.family;
  const proto = sp.protocol.toLowerCase();
  const c = categorize(sp, b.nodeName);
  const comment = sp.servicePortName;
  const names = nftPortChainNames(sp);
  const clusterChain = names.service;
  const localChain = names.local;
  const externalChain = names.external;
  // Each endpoint's names hashed once, though the pick rules and its own chain both name it.
  const epNames = new Map(c.reachable.map((ep) => [ep, nftEndpointNames(sp, ep)]));
  const epName = (ep: KpEndpoint) => epNames.get(ep) ?? nftEndpointNames(sp, ep);
  const usesClusterChain = c.cluster.length > 0 && c.usesCluster;
  const usesLocalChain = c.local.length > 0 && c.usesLocal;
  const internalChain = c.internalLocal ? localChain : clusterChain;
  const hasInternal = c.hasEndpoints && !(c.internalLocal && c.local.length === 0);
  const externalPolicyChain = c.externalLocal ? localChain : clusterChain;
  const hasExternal = c.hasEndpoints && !(c.externalLocal && c.local.length === 0);
  const usesExternalChain = c.hasEndpoints && isExternallyAccessible(sp);
  // No endpoints at all: reject (the client learns at once); endpoints elsewhere only: drop.
  const internalVerdict = c.hasEndpoints ? 'drop' : 'goto reject-chain';
  const externalVerdict = internalVerdict;

  if (sp.clusterIP !== undefined) {
    addElement(b, 'cluster-ips', { key: sp.clusterIP });
    const key = `${sp.clusterIP} . ${proto} . ${sp.port}`;
    if (hasInternal) addElement(b, 'service-ips', { key, value: `goto ${internalChain}` });
    else addElement(b, 'no-endpoint-services', { key, value: internalVerdict, comment });
  }
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
    const key = `${ip} . ${proto} . ${sp.port}`;
    if (c.hasEndpoints) addElement(b, 'service-ips', { key, value: `goto ${externalChain}` });
    if (!hasExternal) addElement(b, 'no-endpoint-services', { key, value: externalVerdict, comment });
  }
  const usesFirewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const firewallChain = names.firewall;
  if (usesFirewall) {
    for (const ip of sp.loadBalancerIPs) addElement(b, 'firewall-ips', { key: `${ip} . ${proto} . ${sp.port}`, value: `goto ${firewallChain}` });
    b.chains.set(firewallChain, [`${ipX} saddr != { ${sp.loadBalancerSourceRanges.join(', ')} } drop`]);
  }
  if (sp.nodePort !== undefined) {
    const key = `${proto} . ${sp.nodePort}`;
    if (c.hasEndpoints) addElement(b, 'service-nodeports', { key, value: `goto ${externalChain}` });
    if (!hasExternal) addElement(b, 'no-endpoint-nodeports', { key, value: externalVerdict, comment });
  }

  if (hasInternal && sp.clusterIP !== undefined && b.podCIDRs.length > 0) {
    // Off-cluster traffic to a cluster IP may leave the node again: masquerade it (proxier.go).
    chain(b, internalChain).push(`${ipX} daddr ${sp.clusterIP} ${ipX} saddr != ${cidrs(b.podCIDRs)} jump mark-for-masquerade`);
  }
  if (usesExternalChain) {
    const ext = chain(b, externalChain);
    if (!c.externalLocal) {
      ext.push('jump mark-for-masquerade');
    } else if (usesClusterChain) {
      // Pods and the node itself reaching an external address are not "external" traffic.
      if (b.podCIDRs.length > 0) ext.push(`${ipX} saddr ${cidrs(b.podCIDRs)} goto ${clusterChain} comment "short-circuit pod traffic"`);
      ext.push('fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
      ext.push(`fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
    }
    if (hasExternal) ext.push(`goto ${externalPolicyChain}`);
  }
  const affinity = sp.sessionAffinity.kind === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : undefined;
  if (affinity !== undefined) for (const ep of c.reachable) b.affinitySets.set(epName(ep).affinity, affinity);
  if (usesClusterChain) writeEndpointPick(b, clusterChain, c.cluster, affinity !== undefined, epName);
  if (usesLocalChain) writeEndpointPick(b, localChain, c.local, affinity !== undefined, epName);
  for (const ep of c.reachable) {
    const rules = chain(b, epName(ep).endpoint);
    // Hairpin: a pod reaching itself through the Service must see another source address.
    rules.push(`${ipX} saddr ${ep.address} jump mark-for-masquerade`);
    if (affinity !== undefined) rules.push(`update @${epName(ep).affinity} { ${ipX} saddr }`);
    rules.push(`meta l4proto ${proto} dnat to ${ipX === 'ip6' ? `[${ep.address}]` : ep.address}:${ep.port}`);
  }
}

function cidrs(list: readonly string[]): string {
  return list.length === 1 ? list[0]! : `{ ${list.join(', ')} }`;
}

function chain(b: Builder, name: string): string[] {
  let rules = b.chains.get(name);
  if (rules === undefined) b.chains.set(name, (rules = []));
  return rules;
}

/** Affinity first (a known client goes back to its endpoint), then one random pick among all. */
function writeEndpointPick(b: Builder, name: string, endpoints: readonly KpEndpoint[], affinity: boolean, epName: (ep: KpEndpoint) => { endpoint: string; affinity: string }): void {
  const rules = chain(b, name);
  if (affinity) for (const ep of endpoints) rules.push(`${b.family} saddr @${epName(ep).affinity} goto ${epName(ep).endpoint}`);
  const arms = endpoints.map((ep, i) => `${i} : goto ${epName(ep).endpoint}`);
  rules.push(`numgen random mod ${endpoints.length} vmap { ${arms.join(' , ')} }`);
}
