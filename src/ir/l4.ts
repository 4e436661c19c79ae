// The L4 part of the IR: TCP, UDP and TLS listeners whose routes pick a backend by connection, not
// by request. One shape for every source of them: NodePort and LoadBalancer Services (a listener
// per node port or load-balancer address), Gateway listeners of protocol TCP / UDP / TLS with
// TCPRoute, UDPRoute and TLSRoute, Istio Gateway servers in PASSTHROUGH mode and VirtualService
// `tcp` / `tls` routes. Readonly and JSON-serialisable like the rest of the IR (types.ts).
import type { ObjectRef } from '../core/object-ref.js';

/**
 * The ipvs schedulers (ipvsadm's names) and maglev:
 *   rr round robin; wrr weighted round robin; lc least connections; wlc weighted least
 *   connections; sh source hash; dh destination hash; sed shortest expected delay; nq never
 *   queue; maglev consistent hashing of the client address (Eisenbud et al., NSDI 2016).
 */
export type IrL4Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'sh' | 'dh' | 'sed' | 'nq' | 'maglev';

export const L4_SCHEDULERS: readonly IrL4Scheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'sed', 'nq', 'maglev'];

/** An endpoint: the same fields as an HTTP cluster's (types.ts IrEndpoint), kept here so l4.ts imports nothing of types.ts. */
export interface IrL4Endpoint {
  readonly address: string;
  readonly port: number;
  /** For wrr, wlc, sed; default 1. */
  readonly weight?: number;
  /** `pod/default/shop-7d9c-abcde`, when known. */
  readonly target?: string;
}

export interface IrL4Backend {
  /** `service/<ns>/<name>/<port>`: the same naming as HTTP clusters. */
  readonly name: string;
  /** Share among the route's backends (Gateway API backendRef weight, Istio route weight). */
  readonly weight: number;
  readonly endpoints: readonly IrL4Endpoint[];
  /** Send a PROXY protocol header (v1 text or v2 binary) first, so the backend sees the client. */
  readonly proxyProtocol?: 'v1' | 'v2';
}

export interface IrL4Route {
  /** Origin, e.g. `tcproute/default/db/rule/0`, `service/default/web/port/http/nodeport`. */
  readonly name: string;
  /**
   * TLS listeners: the SNI names this route takes (exact, or `*.example.com`); the most specific
   * match wins. Empty for TCP and UDP routes (at most one per listener is used).
   */
  readonly sniHosts: readonly string[];
  readonly backends: readonly IrL4Backend[];
}

export interface IrL4Listener {
  /** `service/<ns>/<name>/<port>/nodeport`, `gateway/<ns>/<name>/<listener>`, ... */
  readonly name: string;
  /** The object that declared it (a Service, a Gateway), for conflict reports. */
  readonly origin?: ObjectRef;
  readonly address: string;
  readonly port: number;
  /**
   * TCP and UDP: bytes or datagrams as they come. TLS: the ClientHello's SNI picks the route and the
   * bytes pass through untouched (the backend's own certificate reaches the client); `terminate`
   * ends TLS here with `certificate` and forwards the plaintext.
   */
  readonly protocol: 'TCP' | 'UDP' | 'TLS';
  readonly tls?: { readonly mode: 'passthrough' } | { readonly mode: 'terminate'; readonly certificate: string };
  readonly routes: readonly IrL4Route[];
  readonly scheduler: IrL4Scheduler;
  /** Close a TCP connection (or forget a UDP flow) after this long without a byte either way. */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** An endpoint removed while connections to it are open: they may finish within this grace. */
  readonly drainTimeoutMs: number;
  /** Accept a PROXY protocol header (v1 or v2) from these peers (CIDRs) and use its client address. */
  readonly acceptProxyProtocolFrom?: readonly string[];
  /**
   * TLS only: the HTTPS bind (an `IrBind` name) whose socket this listener shares. The bind reads
   * each ClientHello and hands over the connections whose SNI one of these routes claims more
   * specifically than the bind's own hostnames do; the others are terminated there as HTTPS.
   * Set by the bind step (bind-l4-listeners.ts), never by a translator.
   */
  readonly sharesBind?: string;
}

export const L4_DEFAULTS = {
  scheduler: 'rr' as IrL4Scheduler,
  idleTimeoutMs: 3_600_000,
  udpIdleTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  drainTimeoutMs: 30_000,
} as const;
