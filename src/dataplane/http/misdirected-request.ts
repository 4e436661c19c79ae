// RFC 9110 §15.5.20 (421 Misdirected Request): a TLS connection belongs to the logical listener
// its SNI name selected; a request on it for a host another listener serves was sent to the wrong
// connection (typically HTTP/2 connection reuse, RFC 9113 §9.1.1, across names one certificate
// covers) and must be refused so the client opens a connection for that name. Gateway API
// conformance HTTPRouteHTTPSListenerDetectMisdirectedRequests checks exactly this. All lookups
// are in tables compiled at apply time (the bind's Router and SniTable).
import type { SniTable } from '../listen/sni-table.js';
import type { Router } from './router.js';

/**
 * `servername` is the connection's SNI (absent: no check, there is nothing to be misdirected
 * from); `host` is the request's, lower case, without port.
 */
export function isMisdirected(router: Router, sni: SniTable | undefined, servername: string | undefined, host: string): boolean {
  if (servername === undefined || servername === '') return false;
  const sniName = servername.toLowerCase();
  if (sniName === host) return false;
  // The listener rule: the Host is served by another logical listener than the SNI name, or the
  // SNI name selected none while the Host has one. A Host no listener serves is the SNI
  // listener's own business: 404, as it would be with the matching name.
  const byHost = router.find(host);
  if (byHost !== undefined && router.find(sniName)?.listener !== byHost.listener) return true;
  // The certificate rule: within one listener (Ingress has one for all its hosts), a Host for
  // which another certificate would be served (the default one included) was not authenticated
  // by this connection.
  return sni !== undefined && sni.served(sniName) !== sni.served(host);
}
