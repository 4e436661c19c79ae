import type { IrCluster } from '../../ir/types.js';

/**
 * Upstream protocol of a Service port. appProtocol first (KEP-3726 standard names, and the bare
 * names Istio accepts): `kubernetes.io/h2c`, `h2c`, `http2` and `grpc` are HTTP/2 with prior
 * knowledge (inside a cluster HTTP/2 runs in cleartext); WebSocket (`kubernetes.io/ws`, `wss`)
 * starts as HTTP/1.1 and upgrades; `https` is HTTP/1.1 over TLS. Without appProtocol, Istio's port
 * naming convention (`http2`, `http2-*`, `grpc`, `grpc-*`; not `grpc-web`, which is HTTP/1.1)
 * selects HTTP/2. Anything else is plain HTTP/1.1.
 *
 * `unstated` is the protocol when the port says nothing (no appProtocol, no telling name): HTTP/1.1
 * for Ingress and HTTPRoute, h2c for GRPCRoute, since gRPC cannot run over HTTP/1.1 and a GRPCRoute
 * backend is a gRPC server by declaration (Envoy Gateway does the same). Any appProtocol wins.
 */
export function backendProtocolOf(appProtocol: string | undefined, portName?: string, unstated: IrCluster['protocol'] = 'http1'): IrCluster['protocol'] {
  switch (appProtocol) {
    case 'kubernetes.io/h2c':
    case 'h2c':
    case 'http2':
    case 'grpc':
      return 'h2c';
    case 'https':
      return 'https';
    case undefined:
      return portName !== undefined && isHttp2PortName(portName) ? 'h2c' : unstated;
    case 'kubernetes.io/ws':
    case 'kubernetes.io/wss':
    default:
      return 'http1';
  }
}

function isHttp2PortName(name: string): boolean {
  const prefix = name.split('-')[0];
  return (prefix === 'http2' || prefix === 'grpc') && !name.startsWith('grpc-web');
}
