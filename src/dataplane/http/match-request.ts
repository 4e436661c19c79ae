// The decode and matchRoute phases, shared by plain requests (request-handler.ts) and upgrades
// (upgrade-tunnel.ts): validate framing and target, normalise the path, refuse misdirected HTTPS
// requests, find the route. Returns the route, or the reason to refuse the request.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RuntimeErrorCode } from '../../core/errors.js';
import type { SniTable } from '../listen/sni-table.js';
import type { CompiledRoute } from './compiled-route.js';
import type { DownstreamRequest, ListenerRuntime } from './request-handler.js';
import { normalizeRequestTarget } from './normalize-path.js';
import { validateHeaders } from './validate-request.js';
import { STRICT_PARSER } from './strict-parser.js';

export interface MatchedRequest {
  readonly route: CompiledRoute;
  /** Normalised path. */
  readonly path: string;
  /** '' or '?...' as received. */
  readonly query: string;
}

export function decodeAndMatch(
  req: DownstreamRequest,
  runtime: ListenerRuntime,
  maxUriBytes: number,
  host: string,
  method: string,
): MatchedRequest | RuntimeErrorCode {
  // decode. HTTP/2 framing has no Content-Length/Transfer-Encoding ambiguity (validate-request.ts).
  if (req.httpVersionMajor !== 2 && validateHeaders((req as IncomingMessage).rawHeaders, STRICT_PARSER).kind === 'invalid') return 'bad_request';
  const url = req.url ?? '/';
  if (url.length > maxUriBytes) return 'uri_too_long';
  const target = normalizeRequestTarget(url);
  if (target.kind === 'invalid') return 'bad_request';
  // RFC 9110 §15.5.20: a request for a host this connection's certificate was not chosen for
  // (another host's certificate would be served) is misdirected, e.g. on a reused HTTP/2 connection.
  if (runtime.sni !== undefined && isMisdirected(runtime.sni, req, host)) return 'misdirected_request';
  // matchRoute
  const route = runtime.router.findVirtualHost(host)?.match({ path: target.path, query: target.query, method, headers: req.headers });
  if (route === undefined) return 'no_route';
  return { route, path: target.path, query: target.query };
}

function isMisdirected(sni: SniTable, req: DownstreamRequest, host: string): boolean {
  const servername = (req.socket as TLSSocket | undefined)?.servername;
  if (typeof servername !== 'string' || servername === '' || servername.toLowerCase() === host) return false;
  return sni.select(servername) !== sni.select(host);
}
