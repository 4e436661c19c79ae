// The request phases, in order: decode (validate framing and target) → matchRoute → route action
// (local reply, redirect, or request filters → forward). Each phase ends in an explicit outcome;
// nothing throws across a phase boundary (the listener's catch turns a bug into a 500).
import { isHttp2Request, type DownstreamRequest } from './downstream-request.js';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { randomUUID } from 'node:crypto';
import { channels, type RequestEndMessage } from '../../core/channels.js';
import type { RuntimeErrorCode } from '../../core/errors.js';
import { assertNever } from '../../core/assert-never.js';
import type { Router } from './router.js';
import type { SniTable } from '../listen/sni-table.js';
import type { CompiledBackend, CompiledRoute } from './compiled-route.js';
import type { LbContext } from '../upstream/lb/types.js';
import { sendBody, sendLocalReply, type DownstreamResponse } from './local-reply.js';
import { buildUpstreamHeaders } from './upstream-headers.js';
import { buildRedirectLocation } from './redirect.js';
import { ProxyExchange, type ExchangeDeps } from './proxy-exchange.js';
import { decodeAndMatch, isFramingRefusal } from './match-request.js';
import { isClosing, markClosing, requestEndsConnection } from './connection-close.js';
import { MAX_REPLAYABLE_BODY_BYTES, readBody, shouldBufferBody } from './replayable-body.js';
import { sendMirrors } from './mirror.js';
import type { UpstreamRequest } from '../upstream/transport.js';
import { EMPTY_LB_CONTEXT, RequestLbContext } from './lb-context.js';
import type { RequestMeta } from './request-meta.js';
import { clientIpOf } from './client-address.js';
import type { RequestDraft } from '../filters/filter-types.js';

export interface ListenerRuntime {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  readonly router: Router;
  /** HTTPS only: the certificates by server name, to detect misdirected requests. */
  readonly sni?: SniTable;
}

/** Swapped atomically on apply: a request reads it once and keeps that version to the end. */
export interface ListenerSlot {
  runtime: ListenerRuntime;
}

export interface RequestDeps extends ExchangeDeps {
  readonly isTrustedProxy: (ip: string) => boolean;
  readonly maxUriBytes: number;
}

export type { DownstreamRequest } from './downstream-request.js';

export function createRequestHandler(slot: ListenerSlot, deps: RequestDeps): (req: DownstreamRequest, res: DownstreamResponse) => void {
  return function onRequest(req, res) {
    const runtime = slot.runtime;
    const startMs = performance.now();
    const isH2 = isHttp2Request(req);
    const clientIp = clientIpOf(req);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const draftId = randomUUID();
    if (!isH2) {
      const socket = req.socket;
      // Pipelined behind a request that closes the connection: never executed (connection-close.ts).
      if (isClosing(socket)) return;
      if (requestEndsConnection(req as IncomingMessage)) markClosing(socket);
    }

    // decode → matchRoute (match-request.ts, shared with upgrades)
    const matched = decodeAndMatch(req, runtime, deps.maxUriBytes, method);
    if (typeof matched === 'string') return rejectRequest(req, res, runtime, deps, matched, method, hostForLog(req), url.slice(0, 256), clientIp, startMs, draftId);
    const { route, path, query, host, port } = matched;

    const action = route.action;
    switch (action.kind) {
      case 'respond':
        sendBody(res, action.status, action.body, action.contentType, draftId, deps.draining());
        publishLocal(runtime, method, host, path, req, clientIp, startMs, draftId, action.status, undefined, route);
        return;
      case 'redirect': {
        const location = buildRedirectLocation(action.redirect, { scheme: runtime.scheme, host, port, path, query });
        sendBody(res, action.redirect.status, '', 'text/plain', draftId, deps.draining(), { location });
        publishLocal(runtime, method, host, path, req, clientIp, startMs, draftId, action.redirect.status, undefined, route);
        return;
      }
      case 'forward': {
        const backend = action.pickBackend();
        if (backend === undefined) return rejectRequest(req, res, runtime, deps, 'no_healthy_upstream', method, host, path, clientIp, startMs, draftId);
        // A backend the translator could not resolve (Gateway API: 500 for its share of requests).
        if (backend.cluster === undefined) return rejectRequest(req, res, runtime, deps, 'backend_not_found', method, host, path, clientIp, startMs, draftId);
        const built = buildUpstreamHeaders(req.rawHeaders, {
          clientIp,
          trusted: deps.isTrustedProxy(clientIp),
          scheme: runtime.scheme,
          requestId: draftId,
          authority: matched.authority,
        });
        const draft: RequestDraft = { headers: built.headers, path: path + query, matchedPath: path };
        for (const filter of route.requestFilters) {
          const outcome = filter(draft);
          if (outcome.kind === 'respond') {
            // Filters (auth, rate limits) answer with their own status and reason.
            const body = outcome.body ?? JSON.stringify({ status: outcome.status, reason: outcome.details, request_id: draftId });
            sendBody(res, outcome.status, body, 'application/json', draftId, deps.draining());
            publishLocal(runtime, method, host, path, req, clientIp, startMs, draftId, outcome.status, undefined, route);
            return;
          }
        }
        for (const filter of backend.requestFilters) filter(draft);
        const meta: RequestMeta = {
          startMs,
          startTime: Date.now(),
          requestId: built.requestId,
          method,
          host,
          path: path + query,
          protocol: isH2 ? 'HTTP/2' : req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1',
          listener: runtime.name,
          clientIp,
          userAgent: req.headers['user-agent'],
        };
        const cluster = backend.cluster;
        const lbContext = cluster.needsLbContext ? new RequestLbContext(req.headers, clientIp) : EMPTY_LB_CONTEXT;
        if (!hasBody(req, isH2)) forward(res, route, backend, draft, null, lbContext, meta, deps);
        else if (!shouldBufferBody(method, req.headers, route.retry, route.mirrors.length > 0)) forward(res, route, backend, draft, req, lbContext, meta, deps);
        // A small body is kept so a retry or a mirror can send it again (replayable-body.ts).
        else readBody(req, MAX_REPLAYABLE_BODY_BYTES, (body) => body !== undefined && forward(res, route, backend, draft, body, lbContext, meta, deps));
        return;
      }
      default:
        assertNever(action, 'route action');
    }
  };
}

/** A request has a body when it declares one (RFC 9112 §6.3); HTTP/2 unless END_STREAM came with the headers. */
function hasBody(req: DownstreamRequest, isH2: boolean): boolean {
  if (isH2) return !(req as Http2ServerRequest).stream.readableEnded && !(req as Http2ServerRequest).stream.endAfterHeaders;
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return true;
  const cl = headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** For the log line of a request refused before its authority was decided. */
function hostForLog(req: DownstreamRequest): string {
  const raw = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
  return raw.slice(0, 256).toLowerCase();
}

/** The forward phase: mirrors first (fire and forget), then the exchange with the real upstream. */
function forward(
  res: DownstreamResponse,
  route: CompiledRoute,
  backend: CompiledBackend,
  draft: RequestDraft,
  body: Buffer | DownstreamRequest | null,
  lbContext: LbContext,
  meta: RequestMeta,
  deps: RequestDeps,
): void {
  const upstreamRequest: UpstreamRequest = {
    method: meta.method,
    path: draft.path,
    headers: draft.headers,
    body,
    headersTimeoutMs: route.headersTimeoutMs,
    bodyTimeoutMs: route.idleTimeoutMs,
  };
  if (route.mirrors.length > 0) sendMirrors(route.mirrors, upstreamRequest, deps.transport, lbContext);
  new ProxyExchange(res, route, backend, upstreamRequest, lbContext, meta, deps).start();
}

/** A local reply for a request refused before (or instead of) forwarding, and its log line. */
function rejectRequest(
  req: DownstreamRequest,
  res: DownstreamResponse,
  runtime: ListenerRuntime,
  deps: RequestDeps,
  details: RuntimeErrorCode,
  method: string,
  host: string,
  logPath: string,
  clientIp: string,
  startMs: number,
  requestId: string,
): void {
  // After a framing refusal the rest of the byte stream cannot be trusted: answer, then close.
  const closeConnection = isFramingRefusal(details) && !isHttp2Request(req);
  if (closeConnection) markClosing(req.socket);
  const status = sendLocalReply(res, details, requestId, closeConnection || deps.draining());
  publishLocal(runtime, method, host, logPath, req, clientIp, startMs, requestId, status, details, undefined);
}

function publishLocal(
  runtime: ListenerRuntime,
  method: string,
  host: string,
  path: string,
  req: DownstreamRequest,
  clientIp: string,
  startMs: number,
  requestId: string,
  status: number,
  details: RuntimeErrorCode | undefined,
  route: CompiledRoute | undefined,
): void {
  if (!channels.requestEnd.hasSubscribers) return;
  const msg: RequestEndMessage = {
    requestId,
    startTime: Date.now(),
    durationMs: performance.now() - startMs,
    method,
    host,
    path,
    protocol: isHttp2Request(req) ? 'HTTP/2' : `HTTP/1.${req.httpVersionMinor}`,
    listener: runtime.name,
    route: route?.name,
    attempts: 0,
    status,
    bytesSent: 0,
    details,
    clientAddress: clientIp,
    userAgent: req.headers['user-agent'],
  };
  channels.requestEnd.publish(msg);
}
