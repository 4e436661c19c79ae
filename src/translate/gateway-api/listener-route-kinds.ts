// Which route kinds each listener protocol serves (its `status.listeners[].supportedKinds`, and
// what `allowedRoutes.kinds` may name). The Gateway API's listener / route compatibility:
//   HTTP, HTTPS            HTTPRoute, GRPCRoute
//   TLS, mode Passthrough  TLSRoute (Core)
//   TLS, mode Terminate    TLSRoute (Extended, TLSRouteModeTerminate) and TCPRoute (the TCP
//                          stream inside the TLS session: "you could choose to use a TCPRoute
//                          with a TLS listener", TLSRoute's API docs)
//   TCP                    TCPRoute
//   UDP                    UDPRoute
import type { RouteGroupKind } from '../../core/object-status.js';

export const GATEWAY_API_GROUP_NAME = 'gateway.networking.k8s.io';

/** A listener's protocol once validated; `unsupported` is any other value. */
export type ListenerProtocol = 'http' | 'https' | 'tls' | 'tcp' | 'udp' | 'unsupported';

export type ListenerTlsMode = 'passthrough' | 'terminate';

const kind = (k: string): RouteGroupKind => ({ group: GATEWAY_API_GROUP_NAME, kind: k });

// GRPCRoute sits with HTTPRoute because both HTTP listener kinds accept HTTP/2 without an upgrade
// (h2c with prior knowledge on HTTP, ALPN `h2` on HTTPS), which the GRPCRoute spec requires.
const HTTP_KINDS: readonly RouteGroupKind[] = [kind('HTTPRoute'), kind('GRPCRoute')];
const TLS_PASSTHROUGH_KINDS: readonly RouteGroupKind[] = [kind('TLSRoute')];
const TLS_TERMINATE_KINDS: readonly RouteGroupKind[] = [kind('TLSRoute'), kind('TCPRoute')];
const TCP_KINDS: readonly RouteGroupKind[] = [kind('TCPRoute')];
const UDP_KINDS: readonly RouteGroupKind[] = [kind('UDPRoute')];

/** The route kinds a listener of this protocol (and TLS mode) serves, in supportedKinds order. */
export function routeKindsOf(protocol: ListenerProtocol, tlsMode: ListenerTlsMode | undefined): readonly RouteGroupKind[] {
  switch (protocol) {
    case 'http':
    case 'https':
      return HTTP_KINDS;
    case 'tls':
      return tlsMode === 'passthrough' ? TLS_PASSTHROUGH_KINDS : TLS_TERMINATE_KINDS;
    case 'tcp':
      return TCP_KINDS;
    case 'udp':
      return UDP_KINDS;
    case 'unsupported':
      return [];
  }
}

/** `HTTPRoute and GRPCRoute`: for messages. */
export function describeKinds(kinds: readonly RouteGroupKind[]): string {
  const names = kinds.map((k) => k.kind);
  return names.length <= 1 ? (names[0] ?? 'none') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
}

/** Is the listener's transport UDP (its own port space) or TCP (everything else)? */
export function transportOf(protocol: ListenerProtocol): 'tcp' | 'udp' {
  return protocol === 'udp' ? 'udp' : 'tcp';
}
