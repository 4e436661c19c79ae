// Endpoint state (in-flight count, passive health) lives outside the config, keyed by address,
// so a reload that keeps an endpoint keeps its state (Caddy's usage pool does the same).

export interface EndpointState {
  /** `address:port` ([v6]:port for IPv6); the identity that survives reloads. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Weight from the current config (default 1); rewritten on every apply. */
  weight: number;
  /** Requests currently in flight to this endpoint (least-request reads it). */
  inFlight: number;
  /** Consecutive failures counted by passive health. */
  consecutiveFailures: number;
  /** Consecutive failures without a response, counted apart only in split mode (IrPassiveHealth.consecutiveLocalOriginFailures). */
  consecutiveLocalFailures: number;
  /** Monotonic ms until which the endpoint is ejected; 0 when not ejected. */
  ejectedUntilMs: number;
  /** How many times in a row it was ejected (back-off doubles each time). */
  ejections: number;
  /** Totals for GET /api/upstreams. */
  totalRequests: number;
  totalFailures: number;
}

export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function createEndpointState(address: string, port: number, weight = 1): EndpointState {
  return {
    key: endpointKey(address, port),
    address,
    port,
    weight,
    inFlight: 0,
    consecutiveFailures: 0,
    consecutiveLocalFailures: 0,
    ejectedUntilMs: 0,
    ejections: 0,
    totalRequests: 0,
    totalFailures: 0,
  };
}
