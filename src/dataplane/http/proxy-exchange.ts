// The forward phase: one downstream request, one or more upstream attempts.
// pickEndpoint → send → (the route's retry policy decides, before anything is committed
// downstream: retry after a backoff, local reply, or cut) → response filters → stream the body
// with backpressure → log. A class, not closures, because it is allocated once per request and its
// methods are the transport callbacks.
import type { ServerResponse } from 'node:http';
import { channels, type RequestEndMessage, type UpstreamErrorMessage } from '../../core/channels.js';
import { RUNTIME_ERRORS, type RuntimeErrorCode } from '../../core/errors.js';
import { assertNever } from '../../core/assert-never.js';
import type { EndpointState } from '../upstream/endpoint-state.js';
import { rawHeaderText, type RawHeaders, type UpstreamHandler, type UpstreamRequest, type UpstreamTransport } from '../upstream/transport.js';
import type { ClusterRuntime } from '../upstream/cluster-runtime.js';
import type { BreakerTicket, SlotWaiter } from '../upstream/circuit-breaker.js';
import type { LbContext } from '../upstream/lb/types.js';
import type { CompiledBackend, CompiledRoute } from './compiled-route.js';
import { buildDownstreamHeaders } from './upstream-headers.js';
import { classifyUpstreamError } from './classify-upstream-error.js';
import { isHttp2, localReplyBody, takeGrpcStatus, toHeaderObject, type DownstreamResponse } from './local-reply.js';
import { sendRouteReply } from './route-reply.js';
import type { RequestContext } from '../filters/request-context.js';
import { identityFieldsOf } from '../filters/request-identity.js';
import { IDEMPOTENT_METHODS } from './replayable-body.js';
import { grpcStatusOf, type TryFailure } from './retry-policy.js';
import { wantsResponseBody } from './held-body.js';
import { setHeader } from '../filters/header-list.js';
import type { BodyFilter } from '../filters/filter-types.js';
import type { Timers } from '../../core/timers.js';
import type { Random } from '../../core/random.js';

export interface ExchangeDeps {
  readonly transport: UpstreamTransport;
  /** Counts requests in flight, for graceful drain. */
  readonly inflight: { count: number; onIdle?: () => void };
  /** Set while draining: responses ask HTTP/1.1 clients to close. */
  readonly draining: () => boolean;
  /** How long a response may wait for the client to take any of its bytes before it is cut. */
  readonly sendTimeoutMs: number;
  /** Per-try deadlines and retry backoffs (tests fire them by hand). */
  readonly timers: Timers;
  /** Backoff jitter. */
  readonly random: Random;
}


export class ProxyExchange implements UpstreamHandler, SlotWaiter {
  private attempts = 0;
  private tried: Set<EndpointState> | undefined;
  private endpoint: EndpointState | undefined;
  private abortUpstream: ((reason?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private headersSent = false;
  private finished = false;
  private bytesSent = 0;
  private status = 0;
  private details: RuntimeErrorCode | undefined;
  private upstreamHeadersMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Set while an attempt whose response status asked for a retry is being torn down. */
  private discarding = false;
  /** HTTP/2 downstream: the grpc-status of a trailers-only upstream response, sent as trailers (takeGrpcStatus). */
  private grpcStatusTrailers: Record<string, string | string[]> | undefined;
  /** Cancels the running try's deadline (`timeouts.backendRequestMs`). */
  private cancelPerTry: (() => void) | undefined;
  /** The running try outlived its deadline and is being aborted. */
  private perTryExpired = false;
  /** Cancels a retry waiting out its backoff. */
  private cancelBackoff: (() => void) | undefined;
  /**
   * The body's last chunk, when the transport said so (onData `last`) and the client is HTTP/1:
   * written by onComplete with res.end(chunk), one call instead of write() then end(), without
   * the cork node's write() defers to the next tick.
   */
  private lastChunk: Buffer | undefined;
  /** Armed while the client's window (HTTP/2) or socket buffer (HTTP/1) is full. */
  private sendStall: NodeJS.Timeout | undefined;
  private readonly cluster: ClusterRuntime;
  /** The running try's place under the cluster's circuit breakers. */
  private ticket: BreakerTicket | undefined;
  /** Set while the try waits for a slot (pending under the circuit breakers). */
  private cancelQueued: (() => void) | undefined;
  /** The failure a retry that finds no endpoint reports (set by `attempt`, read once the slot comes). */
  private previousFailure: RuntimeErrorCode | undefined;
  /**
   * A response whose JSON body the route edits (held-body.ts): its headers and body so far, not yet
   * written downstream. Nothing is committed while it is set, so a failure can still be a 502.
   */
  private held: { readonly headers: string[]; readonly filter: BodyFilter; readonly chunks: Buffer[]; size: number } | undefined;

  constructor(
    private readonly res: DownstreamResponse,
    private readonly route: CompiledRoute,
    private readonly backend: CompiledBackend,
    private readonly upstreamRequest: UpstreamRequest,
    private readonly lbContext: LbContext,
    private readonly ctx: RequestContext,
    private readonly deps: ExchangeDeps,
    /** For a streamed body that is also kept (replayable-body.ts teeBody): the whole body, once complete. */
    private readonly replay?: () => Buffer | undefined,
  ) {
    this.cluster = backend.cluster!;
  }

  start(): void {
    this.deps.inflight.count++;
    // `on`, not `once`: 'close' comes once per response anyway, and once() wraps and later
    // removes the listener, about 1 % of a proxied request's CPU.
    this.res.on('close', this.onDownstreamClose);
    if (this.route.requestTimeoutMs > 0) {
      this.timer = setTimeout(this.onRequestTimeout, this.route.requestTimeoutMs);
    }
    this.attempt();
  }

  /**
   * Each try first takes a place under the cluster's circuit breakers: at once, after a wait in
   * the pending queue, or not at all (503 upstream_overflow, as Envoy answers an overflow).
   * `previousFailure`: on a retry with no endpoint left, the client hears the original error.
   */
  private attempt(previousFailure?: RuntimeErrorCode): void {
    this.previousFailure = previousFailure;
    const admitted = this.cluster.breaker.admit(this);
    switch (admitted.kind) {
      case 'go':
        return this.dispatch(admitted.ticket, previousFailure);
      case 'queued':
        this.cancelQueued = admitted.cancel;
        return;
      case 'overflow':
        return this.reply('upstream_overflow');
      default:
        assertNever(admitted, 'admit outcome');
    }
  }

  /** SlotWaiter: a try that waited as pending under the circuit breakers may go now. */
  slotGranted(ticket: BreakerTicket): void {
    this.cancelQueued = undefined;
    if (this.finished) ticket.release();
    else this.dispatch(ticket, this.previousFailure);
  }

  private dispatch(ticket: BreakerTicket, previousFailure: RuntimeErrorCode | undefined): void {
    // `tried` holds only endpoints that failed to connect: a status retry may go back to the same
    // endpoint (a 503 is often momentary), as Gateway API and Envoy retries do.
    const endpoint = this.cluster.lb.pick(this.lbContext, this.tried);
    if (endpoint === undefined) {
      ticket.release();
      this.reply(previousFailure ?? 'no_healthy_upstream');
      return;
    }
    this.ticket = ticket;
    this.endpoint = endpoint;
    const request = this.requestForTry();
    this.attempts++;
    endpoint.inFlight++;
    this.abortUpstream = undefined;
    this.perTryExpired = false;
    // Each try has its own deadline until response headers; the whole-request timer runs on.
    const perTryMs = this.route.perTryTimeoutMs;
    if (perTryMs > 0) this.cancelPerTry = this.deps.timers.after(perTryMs, this.onPerTryTimeout);
    this.deps.transport.send(endpoint, this.cluster.connection, request, this);
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.ticket?.connected();
    this.abortUpstream = abort;
    if (this.finished || this.perTryExpired) abort();
  }

  /** Abort the try; its onError decides between a retry and 504 upstream_timeout. */
  private readonly onPerTryTimeout = (): void => {
    this.cancelPerTry = undefined;
    if (this.finished || this.headersSent) return;
    this.perTryExpired = true;
    // Not yet assigned to a connection: onConnect aborts it when it is.
    this.abortUpstream?.(Object.assign(new Error('per-try timeout'), { code: 'ISTHMUS_PER_TRY_TIMEOUT' }));
  };

  private clearPerTry(): void {
    this.cancelPerTry?.();
    this.cancelPerTry = undefined;
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void): boolean {
    if (this.finished) return false;
    // 1xx interim responses are not forwarded: Node answers `100 Continue` downstream itself.
    if (statusCode < 200) return true;
    this.clearPerTry();
    // Nothing has been sent downstream yet: a status the route retries on is dropped here, before
    // the response is committed, and the request goes out again once this attempt is torn down.
    if (this.retriesOnStatus(statusCode) || this.retriesOnGrpcStatus(rawHeaders)) {
      if (statusCode >= 500) this.cluster.health.recordFailure(this.endpoint!, 'response');
      this.discarding = true;
      this.abortUpstream?.();
      return false;
    }
    this.resumeUpstream = resume;
    this.upstreamHeadersMs = performance.now() - this.ctx.startMs;
    const endpoint = this.endpoint!;
    // Envoy's consecutive-5xx outlier detection: 5xx counts against the endpoint, others reset it.
    if (statusCode >= 500) this.cluster.health.recordFailure(endpoint, 'response');
    else this.cluster.health.recordSuccess(endpoint);
    const headers = buildDownstreamHeaders(rawHeaders);
    // A hash cookie the load balancer generated (Istio httpCookie with ttl) goes back to the client.
    const cookies = this.lbContext.setCookies;
    if (cookies !== undefined) for (const c of cookies) headers.push('set-cookie', c);
    // response headers phase: the route's filters, then the backend's.
    for (const f of this.route.filters.responseHeaders) f(this.ctx, statusCode, headers);
    for (const f of this.backend.filters.responseHeaders) f(this.ctx, statusCode, headers);
    this.status = statusCode;
    this.headersSent = true;
    const bodyFilter = this.route.filters.responseBody;
    if (bodyFilter !== undefined && wantsResponseBody(bodyFilter, this.ctx, statusCode, headers)) {
      this.held = { headers, filter: bodyFilter, chunks: [], size: 0 };
      return true;
    }
    this.writeHead(statusCode, headers);
    return true;
  }

  private writeHead(statusCode: number, headers: string[]): void {
    const res = this.res;
    if (isHttp2(res)) {
      const object = toHeaderObject(headers);
      this.grpcStatusTrailers = takeGrpcStatus(object);
      res.writeHead(statusCode, object);
    } else {
      if (this.deps.draining()) headers.push('connection', 'close');
      res.writeHead(statusCode, headers);
    }
  }

  onData(chunk: Buffer, last?: boolean): boolean {
    if (this.finished || this.discarding) return false;
    const held = this.held;
    if (last === true && held === undefined && !isHttp2(this.res)) {
      this.bytesSent += chunk.length;
      this.lastChunk = chunk;
      return true;
    }
    if (held !== undefined) {
      held.chunks.push(chunk);
      held.size += chunk.length;
      if (held.size <= held.filter.maxBytes) return true;
      // Past the limit: the headers as they came, what was held, then the rest as it arrives.
      held.filter.tooLarge(this.ctx);
      this.held = undefined;
      this.writeHead(this.status, held.headers);
      held.chunks.pop();
      for (const c of held.chunks) {
        this.bytesSent += c.length;
        (this.res as ServerResponse).write(c);
      }
    }
    this.bytesSent += chunk.length;
    if ((this.res as ServerResponse).write(chunk)) return true;
    this.res.once('drain', this.onDownstreamDrain);
    // A client that never opens its window (or never reads its socket) would otherwise hold this
    // stream, its buffers and an upstream connection for as long as it likes.
    if (this.deps.sendTimeoutMs > 0) this.sendStall ??= setTimeout(this.onSendTimeout, this.deps.sendTimeoutMs);
    return false;
  }

  private readonly onDownstreamDrain = (): void => {
    this.clearSendStall();
    this.resumeUpstream!();
  };

  private clearSendStall(): void {
    if (this.sendStall === undefined) return;
    clearTimeout(this.sendStall);
    this.sendStall = undefined;
  }

  /** The response started and cannot be replaced: cutting the stream (RST_STREAM, or a closed socket) is the answer. */
  private readonly onSendTimeout = (): void => {
    this.sendStall = undefined;
    if (this.res.writableFinished) return;
    if (!this.finished) this.details = 'send_timeout';
    this.res.destroy();
    this.finish();
    this.abortUpstream?.();
  };

  onComplete(trailers: RawHeaders | Record<string, string | string[] | undefined> | null): void {
    this.releaseEndpoint();
    if (this.discarding) return this.retryAfterDiscard();
    if (this.finished) return;
    if (this.held !== undefined) return this.sendHeld(this.held);
    const upstream = trailersOf(trailers);
    const out = this.grpcStatusTrailers === undefined ? upstream : { ...this.grpcStatusTrailers, ...upstream };
    if (out !== undefined) this.res.addTrailers(out);
    const last = this.lastChunk;
    if (last === undefined) this.res.end();
    else this.endWith(last);
    this.finish();
  }

  /**
   * res.end(chunk); should the client's socket not take it (what write() returning false says),
   * the send timeout still cuts a client that never reads, as onData arms it for other chunks.
   */
  private endWith(chunk: Buffer): void {
    this.lastChunk = undefined;
    const res = this.res as ServerResponse;
    res.end(chunk);
    if (res.writableLength >= res.writableHighWaterMark && this.deps.sendTimeoutMs > 0) this.sendStall ??= setTimeout(this.onSendTimeout, this.deps.sendTimeoutMs);
  }

  /** The whole held body, edited (or unchanged when it is not JSON), with its own Content-Length; upstream trailers are dropped. */
  private sendHeld(held: NonNullable<ProxyExchange['held']>): void {
    this.held = undefined;
    const body = held.chunks.length === 1 ? held.chunks[0]! : Buffer.concat(held.chunks, held.size);
    const out = held.filter.apply(this.ctx, body) ?? body;
    setHeader(held.headers, 'content-length', String(out.length));
    this.writeHead(this.status, held.headers);
    this.bytesSent += out.length;
    this.res.end(out);
    this.finish();
  }

  onError(err: Error): void {
    this.releaseEndpoint();
    if (this.discarding) return this.retryAfterDiscard();
    if (this.finished) return;
    this.clearPerTry();
    const endpoint = this.endpoint!;
    const reason = this.perTryExpired ? 'upstream_timeout' : classifyUpstreamError(err, this.headersSent);
    const failure = this.perTryExpired ? 'per-try-timeout' : failureOf(reason);
    // Passive health counts the totals too; timeouts count as failures (Envoy's gateway failures).
    this.cluster.health.recordFailure(endpoint);
    const retry = !this.headersSent && failure !== undefined && this.mayRetry(failure);
    if (channels.upstreamError.hasSubscribers) {
      const msg: UpstreamErrorMessage = { cluster: this.cluster.name, endpoint: endpoint.key, reason, retried: retry };
      channels.upstreamError.publish(msg);
    }
    if (retry) {
      // A refused connection is likely to be refused again: the retry goes elsewhere. A reset or a
      // slow answer is often momentary, so those may return to the same endpoint (Envoy's default).
      if (failure === 'connect-failure') (this.tried ??= new Set()).add(endpoint);
      this.retryAfterBackoff(reason);
      return;
    }
    if (!this.headersSent || this.held !== undefined) {
      this.held = undefined;
      this.reply(reason);
      return;
    }
    // The response already started: the only honest signal left is to cut the stream.
    this.details = reason;
    this.res.destroy();
    this.finish();
  }

  /** A status the policy names (Gateway API retry.codes, Istio retryOn), and the request may go out again. */
  private retriesOnStatus(statusCode: number): boolean {
    return !this.finished && this.route.retry.retriesStatus(statusCode) && this.mayResend();
  }

  /** A trailers-only gRPC error whose `grpc-status` the policy names (Istio retryOn `unavailable`, ...). */
  private retriesOnGrpcStatus(rawHeaders: RawHeaders): boolean {
    if (this.finished || !this.route.retry.readsGrpcStatus) return false;
    const code = grpcStatusOf(rawHeaders);
    return code !== undefined && this.route.retry.retriesGrpcStatus(code) && this.mayResend();
  }

  /** A failure before any response byte that the policy names, and the request may go out again. */
  private mayRetry(failure: TryFailure): boolean {
    return this.route.retry.retriesFailure(failure) && this.mayResend();
  }

  /**
   * Attempts left, an idempotent method (or the policy allows others), and a body we can send
   * again: none, one kept in memory, or a streamed one whose kept copy is complete (the retry
   * sends the copy). Any other streamed body was read by the first try and is gone.
   */
  private mayResend(): boolean {
    const policy = this.route.retry;
    if (this.attempts > policy.attempts) return false;
    const body = this.upstreamRequest.body;
    if (body !== null && !Buffer.isBuffer(body) && this.replay?.() === undefined) return false;
    return policy.allowNonIdempotent || IDEMPOTENT_METHODS.has(this.ctx.method);
  }

  /** What a try sends: the request, or on a retry of a teed body, the request with its copy. */
  private requestForTry(): UpstreamRequest {
    const body = this.upstreamRequest.body;
    if (this.attempts === 0 || body === null || Buffer.isBuffer(body)) return this.upstreamRequest;
    return { ...this.upstreamRequest, body: this.replay!()! };
  }

  /** The discarded attempt has ended (aborted or complete): wait the backoff, then send again. */
  private retryAfterDiscard(): void {
    this.discarding = false;
    if (this.finished) return;
    this.retryAfterBackoff();
  }

  /** Retry n (n = tries so far) waits its backoff; the whole-request timer still bounds it all. */
  private retryAfterBackoff(previousFailure?: RuntimeErrorCode): void {
    const waitMs = this.route.retry.backoffMs(this.attempts, this.deps.random);
    const next = (): void => {
      this.cancelBackoff = undefined;
      if (!this.finished) this.attempt(previousFailure);
    };
    if (waitMs > 0) this.cancelBackoff = this.deps.timers.after(waitMs, next);
    else setImmediate(next);
  }

  private releaseEndpoint(): void {
    // The slot goes to the next pending request (possibly this one's own retry, later).
    this.ticket?.release();
    this.ticket = undefined;
    const ep = this.endpoint;
    if (ep !== undefined && ep.inFlight > 0) ep.inFlight--;
  }

  private reply(details: RuntimeErrorCode): void {
    this.details = details;
    this.status = RUNTIME_ERRORS[details].status;
    sendRouteReply(this.res, this.deps, this.ctx, this.route, this.backend, this.status, localReplyBody(details, this.ctx.requestId), 'application/json');
    this.finish();
  }

  private readonly onRequestTimeout = (): void => {
    if (this.finished) return;
    // Reply first: finish() marks the exchange done, so the abort's onError is ignored.
    if (!this.headersSent || this.held !== undefined) {
      this.held = undefined;
      this.reply('upstream_timeout');
    } else {
      this.details = 'upstream_timeout';
      this.res.destroy();
      this.finish();
    }
    this.abortUpstream?.();
  };

  private readonly onDownstreamClose = (): void => {
    this.clearSendStall();
    if (this.finished) return;
    // The client went away before the response ended: stop the upstream side too.
    this.finish();
    this.abortUpstream?.();
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.clearPerTry();
    this.cancelBackoff?.();
    this.cancelBackoff = undefined;
    this.cancelQueued?.();
    this.cancelQueued = undefined;
    const inflight = this.deps.inflight;
    if (--inflight.count === 0) inflight.onIdle?.();
    if (channels.requestEnd.hasSubscribers) {
      const c = this.ctx;
      const durationMs = performance.now() - c.startMs;
      const msg: RequestEndMessage = {
        requestId: c.requestId,
        startTime: c.startTime,
        durationMs,
        upstreamHeadersMs: this.upstreamHeadersMs,
        method: c.method,
        host: c.host,
        path: c.path + c.query,
        protocol: c.protocol,
        listener: c.listener,
        route: this.route.name,
        cluster: this.cluster.name,
        upstream: this.endpoint?.key,
        attempts: this.attempts,
        status: this.status || 499,
        bytesSent: this.bytesSent,
        details: this.details,
        clientAddress: c.clientIp,
        userAgent: userAgentOf(c),
        ...identityFieldsOf(c),
      };
      channels.requestEnd.publish(msg);
    }
  }
}

/** Which retry condition a transport error falls under; undefined for those never retried (a malformed response). */
function failureOf(reason: RuntimeErrorCode): TryFailure | undefined {
  switch (reason) {
    case 'upstream_connect_error':
    case 'upstream_connect_timeout':
    case 'upstream_tls_error':
      return 'connect-failure';
    case 'upstream_reset':
      return 'reset';
    default:
      return undefined;
  }
}

/**
 * Trailers come as raw pairs from HTTP/1.1 (undici: Buffers, the raw pool: strings) and as a
 * header object from HTTP/2; both become one object for addTrailers. Pseudo-headers never travel
 * in trailers.
 */
function trailersOf(trailers: RawHeaders | Record<string, string | string[] | undefined> | null): Record<string, string | string[]> | undefined {
  if (trailers === null || trailers === undefined) return undefined;
  const out: Record<string, string | string[]> = {};
  let any = false;
  if (isRawHeaders(trailers)) {
    for (let i = 0; i < trailers.length; i += 2) {
      out[rawHeaderText(trailers[i]!)] = rawHeaderText(trailers[i + 1]!);
      any = true;
    }
  } else {
    for (const [name, value] of Object.entries(trailers)) {
      if (value === undefined || name.startsWith(':')) continue;
      out[name] = value;
      any = true;
    }
  }
  return any ? out : undefined;
}

function isRawHeaders(trailers: RawHeaders | Record<string, string | string[] | undefined>): trailers is RawHeaders {
  return Array.isArray(trailers);
}

function userAgentOf(ctx: RequestContext): string | undefined {
  const ua = ctx.headers['user-agent'];
  return Array.isArray(ua) ? ua[0] : ua;
}
