// The request phases, in order: decode (validate framing and target) → matchRoute → route action
// (local reply, redirect, or request filters → forward). Each phase ends in an explicit outcome;
// nothing throws across a phase boundary (the listener's catch turns a bug into a 500).
import { isHttp2Request, type DownstreamRequest } from './downstream-request.js';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { channels, type RequestEndMessage } from '../../core/channels.js';
import { RUNTIME_ERRORS, type RuntimeErrorCode } from '../../core/errors.js';
import { assertNever } from '../../core/assert-never.js';
import type { ListenerRuntime, ListenerSlot } from './listener-runtime.js';
import type { CompiledBackend, CompiledRoute } from './compiled-route.js';
import type { LbContext } from '../upstream/lb/types.js';
import { filterReplyBody, localReplyBody, sendLocalReply, type DownstreamResponse } from './local-reply.js';
import { sendRouteReply } from './route-reply.js';
import { buildUpstreamHeaders, requestIdOf } from './upstream-headers.js';
import { buildRedirectLocation } from './redirect.js';
import { ProxyExchange, type ExchangeDeps } from './proxy-exchange.js';
import { decodeAndMatch, isFramingRefusal, type MatchedRequest } from './match-request.js';
import { isClosing, markClosing, requestEndsConnection } from './connection-close.js';
import { MAX_REPLAYABLE_BODY_BYTES, readBody, shouldBufferBody, shouldBufferGrpcBody, teeBody } from './replayable-body.js';
import { sendMirrors } from './mirror.js';
import { payloadTooLarge, readRequestBody, runRequestBodyPhase } from './request-body-phase.js';
import { editWholeRequestBody, holdRequestBody, wantsRequestBody } from './held-body.js';
import type { UpstreamRequest } from '../upstream/transport.js';
import { EMPTY_LB_CONTEXT, RequestLbContext } from './lb-context.js';
import { clientIpOf } from './client-address.js';
import { CONTINUE, type FilterOutcome, type FilterResponse, type RequestDraft, type RequestPhaseFilter } from '../filters/filter-types.js';
import { RequestContextRecord, type RequestContext } from '../filters/request-context.js';
import { identityFieldsOf } from '../filters/request-identity.js';
import { peerCertificateReader } from './peer-certificate.js';

export type { ListenerRuntime, ListenerSlot } from './listener-runtime.js';

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
    const draftId = requestIdOf(req.rawHeaders, deps.isTrustedProxy(clientIp), randomUUID);
    if (!isH2) {
      const socket = req.socket;
      // Pipelined behind a request that closes the connection: never executed (connection-close.ts).
      if (isClosing(socket)) return;
      if (requestEndsConnection(req as IncomingMessage)) markClosing(socket);
    }

    // decode → matchRoute (match-request.ts, shared with upgrades)
    const matched = decodeAndMatch(req, runtime, deps.maxUriBytes, method);
    if (typeof matched === 'string') return rejectRequest(req, res, runtime, deps, matched, method, hostForLog(req), url.slice(0, 256), clientIp, startMs, draftId);

    const ctx = requestContext(req, runtime, matched, method, clientIp, startMs, draftId, false);
    // request phase: synchronous unless a filter returned a Promise (filter-types.ts).
    const outcome = runRequestPhase(matched.route.filters.request, ctx);
    if (outcome instanceof Promise) {
      outcome.then(
        (o) => {
          if (!res.destroyed && !res.writableEnded) afterRequestPhase(req, res, runtime, deps, matched, ctx, o);
        },
        () => replyForRoute(res, runtime, deps, ctx, matched.route, undefined, 'internal_error'),
      );
      return;
    }
    afterRequestPhase(req, res, runtime, deps, matched, ctx, outcome);
  };
}

/** Runs the request-phase filters in order until one answers; a Promise only once a filter returns one. */
export function runRequestPhase(filters: readonly RequestPhaseFilter[], ctx: RequestContext, from = 0): FilterOutcome | Promise<FilterOutcome> {
  for (let i = from; i < filters.length; i++) {
    const outcome = filters[i]!(ctx);
    if (outcome instanceof Promise) return outcome.then((o) => (o.kind === 'continue' ? runRequestPhase(filters, ctx, i + 1) : o));
    if (outcome.kind !== 'continue') return outcome;
  }
  return CONTINUE;
}

export function requestContext(
  req: DownstreamRequest,
  runtime: ListenerRuntime,
  matched: MatchedRequest,
  method: string,
  clientIp: string,
  startMs: number,
  requestId: string,
  upgrade: boolean,
): RequestContext {
  return new RequestContextRecord(
    requestId,
    startMs,
    undefined,
    method,
    runtime.scheme,
    matched.authority,
    matched.host,
    matched.path,
    matched.query,
    req.headers,
    clientIp,
    isHttp2Request(req) ? 'HTTP/2' : req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
    runtime.name,
    matched.route.name,
    upgrade,
    runtime.scheme === 'https' ? peerCertificateReader(req) : undefined,
  );
}

/** The route action, once the request phase let the request through (or answered it). */
function afterRequestPhase(
  req: DownstreamRequest,
  res: DownstreamResponse,
  runtime: ListenerRuntime,
  deps: RequestDeps,
  matched: MatchedRequest,
  ctx: RequestContext,
  outcome: FilterOutcome,
): void {
  const route = matched.route;
  if (outcome.kind === 'respond') return replyFromFilter(req, res, runtime, deps, ctx, route, outcome);
  const action = route.action;
  switch (action.kind) {
    case 'reject':
      return replyForRoute(res, runtime, deps, ctx, route, req, action.details);
    case 'respond':
      sendRouteReply(res, deps, ctx, route, undefined, action.status, action.body, action.contentType);
      publishLocal(runtime, ctx.method, ctx.host, ctx.path, req, ctx.clientIp, ctx.startMs, ctx.requestId, action.status, undefined, route, ctx);
      return;
    case 'redirect': {
      const location = buildRedirectLocation(action.redirect, { scheme: runtime.scheme, host: matched.host, port: matched.port, path: matched.path, query: matched.query });
      sendRouteReply(res, deps, ctx, route, undefined, action.redirect.status, '', 'text/plain', ['location', location]);
      publishLocal(runtime, ctx.method, ctx.host, ctx.path, req, ctx.clientIp, ctx.startMs, ctx.requestId, action.redirect.status, undefined, route, ctx);
      return;
    }
    case 'forward': {
      const phase = route.filters.requestBodyCheck;
      if (phase === undefined) return forwardMatched(req, res, runtime, deps, matched, ctx, undefined);
      // request-body phase (request-body-phase.ts): only routes whose filters read the body.
      readRequestBody(req, hasBody(req, isHttp2Request(req)), req.headers['content-length'], phase.maxBytes, (read) => {
        if (read.kind === 'aborted' || res.destroyed || res.writableEnded) return;
        const answer = read.kind === 'too-large' ? payloadTooLarge(ctx, phase.maxBytes) : runRequestBodyPhase(phase, ctx, read.body);
        if (answer.kind === 'respond') return replyFromFilter(req, res, runtime, deps, ctx, route, answer);
        forwardMatched(req, res, runtime, deps, matched, ctx, read.kind === 'read' ? (read.body ?? null) : null);
      });
      return;
    }
    default:
      assertNever(action, 'route action');
  }
}

/** A filter's own answer (a CORS preflight, 401, 429, 400), through the response-header phase, and its log line. */
function replyFromFilter(req: DownstreamRequest, res: DownstreamResponse, runtime: ListenerRuntime, deps: RequestDeps, ctx: RequestContext, route: CompiledRoute, outcome: FilterResponse): void {
  const body = outcome.body ?? filterReplyBody(outcome.status, outcome.details, ctx.requestId);
  sendRouteReply(res, deps, ctx, route, undefined, outcome.status, body, outcome.contentType ?? 'application/json', outcome.headers);
  publishLocal(runtime, ctx.method, ctx.host, ctx.path, req, ctx.clientIp, ctx.startMs, ctx.requestId, outcome.status, undefined, route, ctx, outcome.details);
}

/**
 * The forward action. `read`: the body the request-body phase already read (null: none), forwarded
 * as those bytes; undefined: the body is still in the request, streamed or buffered as below.
 */
function forwardMatched(req: DownstreamRequest, res: DownstreamResponse, runtime: ListenerRuntime, deps: RequestDeps, matched: MatchedRequest, ctx: RequestContext, read: Buffer | null | undefined): void {
  const route = matched.route;
  const action = route.action;
  if (action.kind !== 'forward') return;
  const backend = action.pickBackend();
  if (backend === undefined) return replyForRoute(res, runtime, deps, ctx, route, req, 'no_healthy_upstream');
  // A backend the translator could not resolve (Gateway API: 500 for its share of requests).
  if (backend.cluster === undefined) return replyForRoute(res, runtime, deps, ctx, route, req, 'backend_not_found');
  const built = buildUpstreamHeaders(req.rawHeaders, {
    clientIp: ctx.clientIp,
    trusted: deps.isTrustedProxy(ctx.clientIp),
    scheme: runtime.scheme,
    requestId: ctx.requestId,
    authority: matched.authority,
  });
  // backend request phase: route filters, then the picked backend's.
  const draft: RequestDraft = { headers: built.headers, path: matched.path + matched.query, matchedPath: matched.path };
  for (const filter of route.filters.backendRequest) filter(ctx, draft);
  for (const filter of backend.filters.backendRequest) filter(ctx, draft);
  const cluster = backend.cluster;
  const lbContext = cluster.needsLbContext ? new RequestLbContext(req.headers, ctx.clientIp, matched.query, req.socket) : EMPTY_LB_CONTEXT;
  const isH2 = isHttp2Request(req);
  const bodyFilter = route.filters.requestBody;
  // Read whole already (a body check): a JSON edit applies to what was read.
  if (read !== undefined) forward(res, route, backend, draft, read !== null && bodyFilter !== undefined ? editWholeRequestBody(read, bodyFilter, ctx, req.headers, draft) : read, lbContext, ctx, deps);
  else if (!hasBody(req, isH2)) forward(res, route, backend, draft, null, lbContext, ctx, deps);
  // A JSON body edit (TransformPolicy): held up to its limit, then sent whole (held-body.ts).
  else if (bodyFilter !== undefined && wantsRequestBody(bodyFilter, ctx, req.headers)) holdRequestBody(req, bodyFilter, ctx, draft, (body) => forward(res, route, backend, draft, body, lbContext, ctx, deps));
  else if (shouldBufferGrpcBody(req.headers, route.retry)) {
    const teed = teeBody(req, MAX_REPLAYABLE_BODY_BYTES);
    forward(res, route, backend, draft, teed.stream, lbContext, ctx, deps, teed.replay);
  }
  else if (!shouldBufferBody(ctx.method, req.headers, route.retry, route.mirrors.length > 0)) forward(res, route, backend, draft, req, lbContext, ctx, deps);
  // A small body is kept so a retry or a mirror can send it again (replayable-body.ts).
  else readBody(req, MAX_REPLAYABLE_BODY_BYTES, (body) => body !== undefined && forward(res, route, backend, draft, body, lbContext, ctx, deps));
}

/** A local reply for a matched request, through the route's response-header phase, and its log line. */
function replyForRoute(
  res: DownstreamResponse,
  runtime: ListenerRuntime,
  deps: RequestDeps,
  ctx: RequestContext,
  route: CompiledRoute,
  req: DownstreamRequest | undefined,
  details: RuntimeErrorCode,
): void {
  const { status } = RUNTIME_ERRORS[details];
  sendRouteReply(res, deps, ctx, route, undefined, status, localReplyBody(details, ctx.requestId), 'application/json');
  if (req !== undefined) publishLocal(runtime, ctx.method, ctx.host, ctx.path, req, ctx.clientIp, ctx.startMs, ctx.requestId, status, details, route, ctx);
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
  body: Buffer | DownstreamRequest | Readable | null,
  lbContext: LbContext,
  ctx: RequestContext,
  deps: RequestDeps,
  replay?: () => Buffer | undefined,
): void {
  const upstreamRequest: UpstreamRequest = {
    method: ctx.method,
    path: draft.path,
    headers: draft.headers,
    body,
    headersTimeoutMs: route.headersTimeoutMs,
    bodyTimeoutMs: route.idleTimeoutMs,
  };
  if (route.mirrors.length > 0) sendMirrors(route.mirrors, upstreamRequest, deps.transport, lbContext);
  // With a per-try deadline the exchange times each try itself, so an expired try can be retried.
  const tried = route.perTryTimeoutMs > 0 ? { ...upstreamRequest, headersTimeoutMs: 0 } : upstreamRequest;
  new ProxyExchange(res, route, backend, tried, lbContext, ctx, deps, replay).start();
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
  publishLocal(runtime, method, host, logPath, req, clientIp, startMs, requestId, status, details, undefined, undefined);
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
  ctx: RequestContext | undefined,
  filterDetails?: string,
): void {
  if (!channels.requestEnd.hasSubscribers) return;
  const durationMs = performance.now() - startMs;
  const msg: RequestEndMessage = {
    requestId,
    // The request's start, not the moment its reply was written.
    startTime: Date.now() - durationMs,
    durationMs,
    method,
    host,
    path,
    protocol: isHttp2Request(req) ? 'HTTP/2' : `HTTP/1.${req.httpVersionMinor}`,
    listener: runtime.name,
    route: route?.name,
    attempts: 0,
    status,
    bytesSent: 0,
    details: details ?? filterDetails,
    clientAddress: clientIp,
    userAgent: req.headers['user-agent'],
    ...identityFieldsOf(ctx),
  };
  channels.requestEnd.publish(msg);
}

