// Precedence of IR routes on one virtual host, across HTTPRoutes and GRPCRoutes. Each route kind
// ranks its own matches (http-route-match.ts, grpc-route-match.ts) as a tuple compared element by
// element, smaller first; ties go to the older route, then namespace/name, then rule and match
// order (the caller sorts stably).
import type { IrRoute } from '../../ir/types.js';

/** An IR route with the sort key its route kind gave it. */
export interface RankedRoute {
  readonly route: IrRoute;
  readonly rank: readonly number[];
}

/**
 * GRPCRoutes before HTTPRoutes. The spec forbids merging the two kinds' precedence, so one kind
 * must win wholesale; gRPC matches are narrow (POST to `/<service>/<method>`), so putting them
 * first only takes gRPC calls away from an HTTPRoute on the same hostname, never browser traffic.
 * Implementation-specific: Envoy Gateway also emits GRPCRoute routes first.
 */
export const ROUTE_FAMILY_RANK = { GRPCRoute: 0, HTTPRoute: 1 } as const;

export function compareRanks(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
