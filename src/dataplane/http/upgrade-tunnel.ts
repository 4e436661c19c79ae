// HTTP/1.1 Upgrade (WebSocket and friends): route like any request, then splice the two sockets.
// The upstream's own `101 Switching Protocols` flows back byte for byte. The tunnel holds only the
// two sockets, not the route table, so a config reload never cuts it.
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { RuntimeErrorCode } from '../../core/errors.js';
import { writeRawLocalReply } from './local-reply.js';
import { buildUpstreamHeaders } from './upstream-headers.js';
import { splitHost, type ListenerSlot, type RequestDeps } from './request-handler.js';
import { clientIpOf } from './client-address.js';
import { EMPTY_LB_CONTEXT, RequestLbContext } from './lb-context.js';
import { decodeAndMatch } from './match-request.js';
import type { EndpointState } from '../upstream/endpoint-state.js';

export function createUpgradeHandler(slot: ListenerSlot, deps: RequestDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return function onUpgrade(req, socket, head) {
    const runtime = slot.runtime;
    const requestId = randomUUID();
    socket.on('error', () => socket.destroy());
    const fail = (details: RuntimeErrorCode): void => void writeRawLocalReply(socket, details, requestId);

    const { host } = splitHost(req.headers.host ?? '');
    const matched = decodeAndMatch(req, runtime, deps.maxUriBytes, host, req.method ?? 'GET');
    if (typeof matched === 'string') return fail(matched);
    const { route, path, query } = matched;
    if (route.action.kind !== 'forward') return fail('bad_request');
    const backend = route.action.pickBackend();
    const cluster = backend?.cluster;
    if (cluster === undefined) return fail('no_healthy_upstream');
    const clientIp = clientIpOf(req);
    const built = buildUpstreamHeaders(req.rawHeaders, { clientIp, trusted: deps.isTrustedProxy(clientIp), scheme: runtime.scheme, requestId }, true);
    const draft = { headers: built.headers, path: path + query, matchedPath: path };
    for (const f of route.requestFilters) f(draft);
    for (const f of backend!.requestFilters) f(draft);
    const lbContext = cluster.needsLbContext ? new RequestLbContext(req.headers, clientIp) : EMPTY_LB_CONTEXT;

    let tried: Set<EndpointState> | undefined;
    const connect = (): void => {
      const endpoint = cluster.lb.pick(lbContext, tried);
      if (endpoint === undefined) return fail('no_healthy_upstream');
      endpoint.inFlight++;
      const upstream = net.connect({ host: endpoint.address, port: endpoint.port });
      const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), cluster.connectTimeoutMs);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        cluster.health.recordSuccess(endpoint);
        let headText = `${req.method} ${draft.path} HTTP/1.1\r\n`;
        for (let i = 0; i < draft.headers.length; i += 2) headText += `${draft.headers[i]}: ${draft.headers[i + 1]}\r\n`;
        upstream.write(headText + '\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (connected) return socket.destroy();
        cluster.health.recordFailure(endpoint);
        // One retry on another endpoint, as for plain requests: nothing was sent yet.
        if (tried === undefined) {
          tried = new Set([endpoint]);
          return connect();
        }
        fail(err.code === 'ETIMEDOUT' ? 'upstream_connect_timeout' : 'upstream_connect_error');
      });
      upstream.on('close', () => {
        if (endpoint.inFlight > 0) endpoint.inFlight--;
        if (connected) socket.destroy();
      });
      socket.on('close', () => upstream.destroy());
    };
    connect();
  };
}
