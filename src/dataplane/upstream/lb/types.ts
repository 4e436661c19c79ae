import type { EndpointState } from '../endpoint-state.js';

/** What a load balancer may read from the request; built lazily by the request path. */
export interface LbContext {
  /** Lower-case header name → first value. */
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
  /** First value of a query parameter, decoded as URLSearchParams decodes it. */
  query(name: string): string | undefined;
  /**
   * For a hash cookie the request lacks (Envoy's cookie generation): a value derived from the
   * client connection, the same on every call for this request, recorded for the response's
   * Set-Cookie. Undefined where no response can carry it.
   */
  generateCookie(name: string, ttlSeconds: number, path: string | undefined): string | undefined;
  /** Set-Cookie values generateCookie recorded, for the response. */
  readonly setCookies?: readonly string[] | undefined;
  readonly sourceIp: string;
}

/**
 * A compiled load balancer over one cluster's endpoints. Built once per apply (rings, weight
 * tables); `pick` only looks things up. `isAvailable` tells which endpoints passive health allows.
 */
export interface LoadBalancer {
  /**
   * Picks an available endpoint that is not in `exclude` (endpoints this request already tried);
   * undefined when none is left.
   */
  pick(ctx: LbContext, exclude?: ReadonlySet<EndpointState>): EndpointState | undefined;
}

export type IsAvailable = (endpoint: EndpointState) => boolean;
