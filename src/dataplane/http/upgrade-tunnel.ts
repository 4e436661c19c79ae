// HTTP/1.1 Upgrade (WebSocket and friends): route like any request, send the request upstream, and
// open a tunnel only when the upstream agrees with `101 Switching Protocols`. Any other answer is
// relayed as an ordinary response and the connection is closed after it: the bytes the client sent
// behind its request (node hands them over as `head`) are never forwarded, since they were never
// routed (a refused upgrade must not become a raw pipe to the backend). The tunnel holds only the
// two sockets, not the route table, so a config reload never cuts it.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { RuntimeErrorCode } from '../../core/errors.js';
import { filterReplyBody, localReplyHeaders, writeRawLocalReply, writeRawReply } from './local-reply.js';
import { channels, type RequestEndMessage } from '../../core/channels.js';
import type { FilterOutcome, RequestDraft } from '../filters/filter-types.js';
import type { RequestContext } from '../filters/request-context.js';
import { identityFieldsOf } from '../filters/request-identity.js';
import { buildUpstreamHeaders, requestIdOf, SERVER_NAME } from './upstream-headers.js';
import { requestContext, runRequestPhase, type ListenerSlot, type RequestDeps } from './request-handler.js';
import { clientIpOf } from './client-address.js';
import { EMPTY_LB_CONTEXT, RequestLbContext } from './lb-context.js';
import { decodeAndMatch, type MatchedRequest } from './match-request.js';
import type { EndpointState } from '../upstream/endpoint-state.js';
import type { UpstreamConnection } from '../upstream/transport.js';
import { compileUpstreamTls, tlsConnectOptions, tlsNamesFor } from '../upstream/upstream-tls.js';
import { isUpstreamTlsError } from './classify-upstream-error.js';

// Response fields that belong to the upstream connection, not to the relayed response (RFC 9110 §7.6.1).
const RELAY_DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

export function createUpgradeHandler(slot: ListenerSlot, deps: RequestDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function onUpgrade(req, socket, head) {
    const runtime = slot.runtime;
    const startMs = performance.now();
    const method = req.method ?? 'GET';
    const clientIp = clientIpOf(req);
    const requestId = requestIdOf(req.rawHeaders, deps.isTrustedProxy(clientIp), randomUUID);
    socket.on('error', () => socket.destroy());
    // log: exactly once, when the exchange is over (for a tunnel, when it closes).
    let logged = false;
    const log = (status: number, details?: string, ctx?: RequestContext, bytesSent = 0): void => {
      if (logged) return;
      logged = true;
      if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish(upgradeEnd(req, runtime.name, startMs, requestId, clientIp, status, details, ctx, bytesSent));
    };
    let routeCtx: RequestContext | undefined;
    const fail = (details: RuntimeErrorCode): void => log(writeRawLocalReply(socket, details, requestId), details, routeCtx);

    const matched = decodeAndMatch(req, runtime, deps.maxUriBytes, method);
    if (typeof matched === 'string') return fail(matched);
    // A WebSocket handshake has no body (RFC 6455 §4.1); with one, `head` would mix body and
    // whatever follows it, and no framing we could trust would tell them apart.
    if (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') return fail('bad_request');
    if (req.headers['transfer-encoding'] !== undefined) return fail('bad_request');
    const ctx = (routeCtx = requestContext(req, runtime, matched, method, clientIp, startMs, requestId, true));
    // request phase: the same filters as any request of the route, so no filter is bypassed by upgrading.
    const outcome = runRequestPhase(matched.route.filters.request, ctx);
    if (outcome instanceof Promise) {
      outcome.then(
        (o) => !socket.destroyed && proceed(o),
        () => fail('internal_error'),
      );
    } else proceed(outcome);

    function proceed(outcome: FilterOutcome): void {
      if (outcome.kind === 'respond') {
        const body = outcome.body ?? filterReplyBody(outcome.status, outcome.details, requestId);
        writeRawReply(socket, outcome.status, localReplyHeaders(body, outcome.contentType ?? 'application/json', requestId, outcome.headers), body);
        return log(outcome.status, outcome.details, ctx);
      }
      tunnel();
    }

    function tunnel(): void {
    const { route, path, query } = matched as MatchedRequest;
    if (route.action.kind === 'reject') return fail(route.action.details);
    if (route.action.kind !== 'forward') return fail('bad_request');
    const backend = route.action.pickBackend();
    const cluster = backend?.cluster;
    if (cluster === undefined) return fail('no_healthy_upstream');
    const built = buildUpstreamHeaders(
      req.rawHeaders,
      { clientIp, trusted: deps.isTrustedProxy(clientIp), scheme: runtime.scheme, requestId, authority: (matched as MatchedRequest).authority },
      true,
    );
    // backend request phase.
    const draft: RequestDraft = { headers: built.headers, path: path + query, matchedPath: path };
    for (const f of route.filters.backendRequest) f(ctx, draft);
    for (const f of backend!.filters.backendRequest) f(ctx, draft);
    const lbContext = cluster.needsLbContext ? new RequestLbContext(req.headers, clientIp) : EMPTY_LB_CONTEXT;

    let tried: Set<EndpointState> | undefined;
    let settled = false;
    // `previousFailure`: when the retry finds no other endpoint, the client hears what went wrong.
    const connect = (previousFailure?: RuntimeErrorCode): void => {
      const endpoint = cluster.lb.pick(lbContext, tried);
      if (endpoint === undefined) return fail(previousFailure ?? 'no_healthy_upstream');
      endpoint.inFlight++;
      let connected = false;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (endpoint.inFlight > 0) endpoint.inFlight--;
      };
      const upstreamReq = openUpstream(cluster.connection, endpoint, {
        host: endpoint.address,
        port: endpoint.port,
        method: req.method,
        path: draft.path,
        headers: draft.headers,
        setHost: false,
        agent: false,
      });
      const tls = speaksTls(cluster.connection);
      const connectTimer = setTimeout(() => upstreamReq.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), cluster.connection.connectTimeoutMs);
      let answerTimer: NodeJS.Timeout | undefined;
      upstreamReq.on('socket', (s) => {
        // Over TLS the connection counts once the handshake (and certificate check) is done.
        s.once(tls ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearTimeout(connectTimer);
          cluster.health.recordSuccess(endpoint);
          answerTimer = setTimeout(() => {
            upstreamReq.destroy();
            if (!settled) {
              settled = true;
              fail('upstream_timeout');
            }
          }, route.headersTimeoutMs);
        });
      });
      // 101: the upstream switched protocols; from here on both sides speak it, byte for byte.
      upstreamReq.on('upgrade', (res: IncomingMessage, upstream: Duplex, upstreamHead: Buffer) => {
        clearTimeout(answerTimer);
        if (settled || socket.destroyed) {
          upstream.destroy();
          release();
          return;
        }
        settled = true;
        socket.once('close', () => log(101, undefined, ctx, (socket as Socket).bytesWritten));
        socket.write(responseHead(res, true));
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstream.write(head);
        upstream.on('error', () => socket.destroy());
        upstream.on('close', () => {
          release();
          socket.destroy();
        });
        socket.on('close', () => upstream.destroy());
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      // Any other final answer: relay it as a response, then close; nothing else is read.
      upstreamReq.on('response', (res: IncomingMessage) => {
        clearTimeout(answerTimer);
        if (settled || socket.destroyed) {
          res.destroy();
          release();
          return;
        }
        settled = true;
        socket.once('close', () => log(res.statusCode ?? 502, undefined, ctx, (socket as Socket).bytesWritten));
        socket.write(responseHead(res, false));
        res.on('error', () => socket.destroy());
        res.on('close', release);
        res.pipe(socket);
        socket.on('close', () => res.destroy());
      });
      upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        clearTimeout(answerTimer);
        release();
        if (settled) {
          log(502, 'upstream_reset', ctx);
          return socket.destroy();
        }
        if (connected) {
          settled = true;
          return fail('upstream_reset');
        }
        cluster.health.recordFailure(endpoint);
        const reason = err.code === 'ETIMEDOUT' ? 'upstream_connect_timeout' : isUpstreamTlsError(err.code ?? '') ? 'upstream_tls_error' : 'upstream_connect_error';
        // One retry on another endpoint, as for plain requests: nothing was sent yet.
        if (tried === undefined) {
          tried = new Set([endpoint]);
          return connect(reason);
        }
        settled = true;
        fail(reason);
      });
      socket.once('close', () => {
        if (settled) return;
        upstreamReq.destroy();
        log(499, undefined, ctx); // the client left before any answer
      });
      upstreamReq.end();
    };
    connect();
    }
  };
}

function speaksTls(connection: UpstreamConnection): boolean {
  return connection.protocol === 'https' || connection.protocol === 'h2';
}

/** HTTP/1.1 to the endpoint, over TLS checked per the cluster's policy when it speaks TLS. */
function openUpstream(connection: UpstreamConnection, endpoint: EndpointState, options: http.RequestOptions): http.ClientRequest {
  if (!speaksTls(connection)) return http.request(options);
  // Always compiled for TLS protocols; the IR's default (node's CAs) is the safe reading otherwise.
  const policy = connection.tls ?? compileUpstreamTls(undefined);
  const { name, sni } = tlsNamesFor(policy, endpoint.address);
  // servername '' tells node's agent to send no SNI (an IP name).
  return https.request({ ...options, ...tlsConnectOptions(policy, name), servername: sni ?? '' });
}

/**
 * The status line and fields relayed downstream. Node's client has already decoded a chunked body,
 * so Transfer-Encoding goes with the hop-by-hop fields; without a Content-Length the body is
 * delimited by the close that follows it (RFC 9112 §6.3 rule 8). A 101 keeps its Connection/Upgrade.
 */
function responseHead(res: IncomingMessage, switching: boolean): string {
  let text = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage || http.STATUS_CODES[res.statusCode ?? 502] || ''}\r\n`;
  let hasServer = false;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'server') hasServer = true;
    if (!switching && RELAY_DROP.has(lower)) continue;
    text += `${name}: ${raw[i + 1]}\r\n`;
  }
  if (!hasServer) text += `server: ${SERVER_NAME}\r\n`;
  if (!switching) text += 'connection: close\r\n';
  return text + '\r\n';
}

function upgradeEnd(
  req: IncomingMessage,
  listener: string,
  startMs: number,
  requestId: string,
  clientIp: string,
  status: number,
  details: string | undefined,
  ctx: RequestContext | undefined,
  bytesSent: number,
): RequestEndMessage {
  const durationMs = performance.now() - startMs;
  return {
    requestId,
    startTime: Date.now() - durationMs,
    durationMs,
    method: req.method ?? 'GET',
    host: ctx?.host ?? (req.headers.host ?? '').slice(0, 256).toLowerCase(),
    path: ctx ? ctx.path + ctx.query : (req.url ?? '/').slice(0, 256),
    protocol: req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
    listener,
    route: ctx?.route,
    attempts: 0,
    status,
    bytesSent,
    details,
    clientAddress: clientIp,
    userAgent: req.headers['user-agent'],
    upgrade: true,
    ...identityFieldsOf(ctx),
  };
}
