// The decode and matchRoute phases, shared by plain requests (request-handler.ts) and upgrades
// (upgrade-tunnel.ts): validate framing and target, decide the authority, normalise the path,
// refuse misdirected HTTPS requests, find the route. Returns the route, or the reason to refuse.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RuntimeErrorCode } from '../../core/errors.js';
import type { CompiledRoute } from './compiled-route.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { Router } from './router.js';
import type { SniTable } from '../listen/sni-table.js';
import { isMisdirected } from './misdirected-request.js';
import { isHttp2Request, type DownstreamRequest } from './downstream-request.js';
import { normalizeRequestTarget } from './normalize-path.js';
import { validateHeaders } from './validate-request.js';
import { STRICT_PARSER } from './strict-parser.js';
import { resolveRequestAuthority } from './request-authority.js';

export interface MatchedRequest {
  readonly route: CompiledRoute;
  /** Normalised path. */
  readonly path: string;
  /** '' or '?...' as received. */
  readonly query: string;
  /** What the request was routed by and what goes upstream as Host (request-authority.ts). */
  readonly authority: string;
  /** The authority's host, lower case, without port or trailing dot. */
  readonly host: string;
  readonly port: number | undefined;
}

export function decodeAndMatch(req: DownstreamRequest, runtime: ListenerRuntime, maxUriBytes: number, method: string): MatchedRequest | RuntimeErrorCode {
  // decode. HTTP/2 framing has no Content-Length/Transfer-Encoding ambiguity (validate-request.ts).
  const isH2 = isHttp2Request(req);
  if (!isH2) {
    // Only HTTP/1.0 and HTTP/1.1 are spoken in text: an HTTP/0.9 line has no headers to route by,
    // and `HTTP/2.0` (or any other version) in a request line is not a protocol this parser frames.
    if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) return 'bad_request';
    if (validateHeaders((req as IncomingMessage).rawHeaders, STRICT_PARSER).kind === 'invalid') return 'bad_request';
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing. The caller
    // answers 400 and closes, so nothing that follows on the connection is read as a request.
    if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) return 'bad_request';
  }
  const url = req.url ?? '/';
  if (url.length > maxUriBytes) return 'uri_too_long';
  const target = normalizeRequestTarget(url);
  if (target.kind === 'invalid') return 'bad_request';
  const authority = resolveRequestAuthority(req.headers, isH2, target.authority);
  if (authority.kind === 'invalid') return 'bad_request';
  const host = authority.host;
  const router = routerFor(runtime, req.socket?.localAddress);
  // RFC 9110 §15.5.20: a request on a TLS connection for a host another logical listener serves
  // (or another certificate covers) is misdirected, e.g. on a reused HTTP/2 connection.
  if (runtime.scheme === 'https' && isMisdirected(router, runtime.sni, servernameOf(req), host)) return 'misdirected_request';
  // A name that requires a client certificate is served only on a connection whose handshake
  // verified one for that name: not on a connection made without SNI, or for another name.
  if (runtime.sni !== undefined && lacksClientCertificateFor(runtime.sni, req, host)) return 'misdirected_request';
  // matchRoute
  const route = router.findVirtualHost(host)?.match({ path: target.path, query: target.query, method, scheme: runtime.scheme, authority: authority.authority, headers: req.headers });
  if (route === undefined) return 'no_route';
  return { route, path: target.path, query: target.query, authority: authority.authority, host, port: authority.port };
}

/** Refusals after which the connection's byte stream cannot be trusted: answer, then close. */
export function isFramingRefusal(details: RuntimeErrorCode): boolean {
  return details === 'bad_request' || details === 'uri_too_long' || details === 'request_headers_too_large';
}

function lacksClientCertificateFor(sni: SniTable, req: DownstreamRequest, host: string): boolean {
  const target = sni.entryFor(host);
  const mode = target?.clientValidation?.mode;
  if (mode !== 'allow-valid-only' && mode !== 'verify-if-presented') return false;
  const socket = req.socket as TLSSocket | undefined;
  // verify-if-presented: no certificate is fine; one that was not verified for this name (it came
  // on another name's connection, checked against another CA or none) is refused like a bad one.
  if (mode === 'verify-if-presented' && (typeof socket?.getPeerCertificate !== 'function' || Object.keys(socket.getPeerCertificate()).length === 0)) return false;
  return socket?.authorized !== true || sni.entryFor(socket.servername) !== target;
}

function servernameOf(req: DownstreamRequest): string | undefined {
  const servername = (req.socket as TLSSocket | undefined)?.servername;
  return typeof servername === 'string' ? servername : undefined;
}

/**
 * The router of the connection's local address: a specific-address listener served by a wildcard
 * bind sees only connections to its address (IPv4 on a dual-stack `::` socket reads `::ffff:a.b.c.d`).
 */
function routerFor(runtime: ListenerRuntime, localAddress: string | undefined): Router {
  if (runtime.routersByAddress.size === 0 || localAddress === undefined) return runtime.router;
  const address = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return runtime.routersByAddress.get(address) ?? runtime.router;
}
