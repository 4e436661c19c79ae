// Shared by the load-balancer tests: endpoints and an LbContext built from plain values (the real
// request path builds its LbContext from node's request the same way, via findCookie).
import { createEndpointState, type EndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { findCookie } from '../../src/dataplane/upstream/lb/parse-cookie.js';
import type { LbContext } from '../../src/dataplane/upstream/lb/types.js';

export function makeEndpoints(count: number, weights?: readonly number[]): EndpointState[] {
  return Array.from({ length: count }, (_, i) => createEndpointState(`10.0.0.${i + 1}`, 8080, weights?.[i] ?? 1));
}

export function makeContext(init: { headers?: Record<string, string>; cookie?: string; sourceIp?: string } = {}): LbContext {
  const headers = init.headers ?? {};
  return {
    header: (name) => headers[name],
    cookie: (name) => findCookie(init.cookie, name),
    query: () => undefined,
    generateCookie: () => undefined,
    sourceIp: init.sourceIp ?? '192.0.2.1',
  };
}

export function countPicks(picks: readonly (EndpointState | undefined)[]): Map<EndpointState | undefined, number> {
  const counts = new Map<EndpointState | undefined, number>();
  for (const p of picks) counts.set(p, (counts.get(p) ?? 0) + 1);
  return counts;
}
