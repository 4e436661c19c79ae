// Endpoint state (in-flight counts, passive-health counters) is keyed by `address:port` and lives
// across configuration reloads, as Caddy's usage pool does: an apply acquires the endpoints the new
// config names (getting the same objects back for the ones it keeps), then `retain`s only those, so
// a reload neither forgets an ejection nor resets least-request's in-flight counts.
import { createEndpointState, endpointKey, type EndpointState } from './endpoint-state.js';

export class EndpointRegistry {
  private readonly byKey = new Map<string, EndpointState>();

  constructor() {}

  /**
   * Returns the state for `address:port`, creating it on first use. The weight is rewritten on
   * every call (the newest config wins). When one endpoint sits in several clusters with different
   * weights, pass per-cluster weights to `createLoadBalancer` (`deps.weights`) instead of relying
   * on this shared field.
   */
  acquire(address: string, port: number, weight = 1): EndpointState {
    const key = endpointKey(address, port);
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      existing.weight = weight;
      return existing;
    }
    const created = createEndpointState(address, port, weight);
    this.byKey.set(key, created);
    return created;
  }

  /** Drops every entry whose key is not in `keys` (called after an apply, with the keys it used). */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.byKey.keys()) {
      if (!keys.has(key)) this.byKey.delete(key);
    }
  }

  get(key: string): EndpointState | undefined {
    return this.byKey.get(key);
  }

  /** A fresh array in insertion order (for GET /api/upstreams; not for the request path). */
  all(): readonly EndpointState[] {
    return Array.from(this.byKey.values());
  }

  get size(): number {
    return this.byKey.size;
  }
}
