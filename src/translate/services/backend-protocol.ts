import type { IrCluster } from '../../ir/types.js';

/**
 * Upstream protocol from the Service port's appProtocol (KEP-3726 standard names):
 * `kubernetes.io/h2c` is HTTP/2 prior knowledge; WebSocket (`kubernetes.io/ws`, `wss`) starts as
 * HTTP/1.1 and upgrades; `https` is HTTP/1.1 over TLS. Anything else is plain HTTP/1.1.
 */
export function backendProtocolOf(appProtocol: string | undefined): IrCluster['protocol'] {
  switch (appProtocol) {
    case 'kubernetes.io/h2c':
      return 'h2c';
    case 'https':
      return 'https';
    case 'kubernetes.io/ws':
    case 'kubernetes.io/wss':
    default:
      return 'http1';
  }
}
