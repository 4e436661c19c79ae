// A cluster as the request path sees it: endpoints (shared state from the registry), a compiled
// load balancer, passive health and the transport settings. Rebuilt on every apply; the endpoint
// state objects it points to are not.
import type { IrCluster } from '../../ir/types.js';
import type { Clock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import type { EndpointState } from './endpoint-state.js';
import type { EndpointRegistry } from './endpoint-registry.js';
import type { LoadBalancer } from './lb/types.js';
import { createLoadBalancer } from './lb/create-load-balancer.js';
import { PassiveHealth } from './health/passive-health.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import type { UpstreamProtocol } from './transport.js';


export interface ClusterRuntime {
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  readonly connectTimeoutMs: number;
  readonly endpoints: readonly EndpointState[];
  readonly lb: LoadBalancer;
  readonly health: PassiveHealth;
  /** Ring hash reads headers, cookies or the client address; other policies need no context. */
  readonly needsLbContext: boolean;
}

export function compileCluster(cluster: IrCluster, deps: { registry: EndpointRegistry; clock: Clock; random: Random }): ClusterRuntime {
  const endpoints = cluster.endpoints.map((e) => deps.registry.acquire(e.address, e.port, e.weight ?? 1));
  const health = new PassiveHealth(cluster.passiveHealth ?? DEFAULT_PASSIVE_HEALTH, deps.clock);
  const lb = createLoadBalancer(cluster.lb, endpoints, {
    random: deps.random,
    isAvailable: health.isAvailable,
    // An endpoint shared by two clusters may carry a different weight in each.
    weights: cluster.endpoints.map((e) => e.weight ?? 1),
  });
  return {
    name: cluster.name,
    protocol: cluster.protocol,
    connectTimeoutMs: cluster.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    endpoints,
    lb,
    health,
    needsLbContext: cluster.lb.kind === 'ring-hash',
  };
}
