// Which endpoints a node's kube-proxy uses for a Service port, and through which chain. Follows
// kubernetes/kubernetes pkg/proxy/topology.go (CategorizeEndpoints) and pkg/proxy/serviceport.go
// (ExternallyAccessible, UsesClusterEndpoints, UsesLocalEndpoints). Shared by the iptables and
// ipvs renderers, as kube-proxy shares it between its proxiers. Topology hints are not modelled:
// every ready endpoint is a cluster endpoint (kube-proxy's topologyMode "").
import { joinHostPort } from './chain-names.js';
import type { KpEndpoint, KpServicePort } from './service-ports.js';

export interface EndpointCategories {
  /** Usable endpoints for Cluster traffic policy: ready ones, else serving-and-terminating ones. */
  readonly cluster: readonly KpEndpoint[];
  /** Usable endpoints on this node for Local traffic policy (same fallback, decided locally). */
  readonly local: readonly KpEndpoint[];
  /** Every endpoint that gets a KUBE-SEP chain on this node: the union of the two lists. */
  readonly reachable: readonly KpEndpoint[];
  /** Any usable endpoint anywhere in the cluster (false: the Service's addresses REJECT). */
  readonly hasAny: boolean;
}

/** A node port, a load-balancer IP or an external IP: traffic from outside can reach the port. */
export function isExternallyAccessible(sp: KpServicePort): boolean {
  return sp.nodePort !== undefined || sp.loadBalancerIPs.length > 0 || sp.externalIPs.length > 0;
}

export function isExternalPolicyLocal(sp: KpServicePort): boolean {
  return sp.externalTrafficPolicy === 'Local' && isExternallyAccessible(sp);
}

export function isInternalPolicyLocal(sp: KpServicePort): boolean {
  return sp.internalTrafficPolicy === 'Local';
}

/** Even with externalTrafficPolicy Local, an accessible port needs cluster endpoints for short-circuiting. */
export function usesClusterEndpoints(sp: KpServicePort): boolean {
  return !isInternalPolicyLocal(sp) || isExternallyAccessible(sp);
}

export function usesLocalEndpoints(sp: KpServicePort): boolean {
  return isInternalPolicyLocal(sp) || isExternalPolicyLocal(sp);
}

function key(e: KpEndpoint): string {
  return joinHostPort(e.address, e.port);
}

/**
 * The endpoint list kube-proxy holds for a Service port (pkg/proxy/endpointslicecache.go,
 * addEndpoints and endpointsMapFromEndpointInfo): one entry per `ip:port` across all slices (a
 * local copy wins over a remote one), sorted by that string, so the KUBE-SVC rules and their
 * probabilities come in the same order as on a node.
 */
export function proxyEndpoints(sp: KpServicePort, nodeName: string | undefined): KpEndpoint[] {
  const byKey = new Map<string, KpEndpoint>();
  for (const e of sp.endpoints) {
    const k = key(e);
    if (!byKey.has(k) || (nodeName !== undefined && e.nodeName === nodeName)) byKey.set(k, e);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

export function categorizeEndpoints(sp: KpServicePort, nodeName: string | undefined): EndpointCategories {
  const all = proxyEndpoints(sp, nodeName);
  let cluster: readonly KpEndpoint[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = all.filter((e) => e.ready);
    // Terminating endpoints only when no endpoint anywhere is ready (kube-proxy's fallback).
    if (cluster.length === 0) cluster = all.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local: [], reachable: cluster, hasAny };
  // An endpoint without nodeName is never local (kube-proxy compares nodeName with its own).
  const isLocal = (e: KpEndpoint): boolean => nodeName !== undefined && e.nodeName === nodeName;
  let localReady = false;
  let localTerminating = false;
  for (const e of all) {
    if (e.ready) {
      hasAny = true;
      if (isLocal(e)) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (isLocal(e)) localTerminating = true;
    }
  }
  const local = localReady ? all.filter((e) => isLocal(e) && e.ready) : localTerminating ? all.filter((e) => isLocal(e) && e.serving && e.terminating) : [];
  if (!usesClusterEndpoints(sp)) return { cluster, local, reachable: local, hasAny };
  if (!localTerminating || localReady) return { cluster, local, reachable: cluster, hasAny };
  // Local terminating endpoints are not among the ready cluster ones: merge, first seen first.
  const seen = new Set(cluster.map(key));
  return { cluster, local, reachable: [...cluster, ...local.filter((e) => !seen.has(key(e)))], hasAny };
}
