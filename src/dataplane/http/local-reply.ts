// Replies the gateway answers itself: a short JSON body naming the reason and the request id, so a
// client, a log line and a metric all carry the same `details` string.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Http2ServerResponse } from 'node:http2';
import { RUNTIME_ERRORS, type RuntimeErrorCode } from '../../core/errors.js';
import { SERVER_NAME } from './upstream-headers.js';

export type DownstreamResponse = ServerResponse | Http2ServerResponse;

export function sendLocalReply(res: DownstreamResponse, details: RuntimeErrorCode, requestId: string, closeConnection = false): number {
  const { status } = RUNTIME_ERRORS[details];
  sendBody(res, status, localReplyBody(details, requestId), 'application/json', requestId, closeConnection);
  return status;
}

/** `{"status":404,"reason":"no_route","message":"...","request_id":"..."}` */
export function localReplyBody(details: RuntimeErrorCode, requestId: string): string {
  const { status, text } = RUNTIME_ERRORS[details];
  return JSON.stringify({ status, reason: details, message: text, request_id: requestId });
}

/** The default body of a filter's answer (CORS preflight aside, filters usually set their own): the same shape. */
export function filterReplyBody(status: number, reason: string, requestId: string): string {
  return JSON.stringify({ status, reason, message: 'Answered by a filter of the route.', request_id: requestId });
}

/**
 * The same reply written straight to a socket that no HTTP response object owns (a refused
 * upgrade, a request Node's parser rejected); the connection closes after it. A peer that never
 * reads (and so never sees our FIN and closes its side) is cut after DELAYED_CLOSE_MS, as Envoy's
 * delayed_close_timeout does: a half-closed connection must not outlive the timeout that closed it.
 */
export function writeRawLocalReply(socket: Duplex, details: RuntimeErrorCode, requestId: string): number {
  const { status } = RUNTIME_ERRORS[details];
  const body = localReplyBody(details, requestId);
  writeRawReply(socket, status, localReplyHeaders(body, 'application/json', requestId), body);
  return status;
}

/** Any whole reply (a filter's answer to an upgrade request) written to a socket, then closed. */
export function writeRawReply(socket: Duplex, status: number, headers: readonly string[], body: string): void {
  if (socket.destroyed) return;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.end(`${head}connection: close\r\n\r\n${body}`);
  closeSoon(socket);
}

const DELAYED_CLOSE_MS = 1000;

/** After our FIN, give the peer a moment to read the reply and close; then destroy the socket. */
export function closeSoon(socket: Duplex): void {
  const timer = setTimeout(() => socket.destroy(), DELAYED_CLOSE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

export function sendBody(res: DownstreamResponse, status: number, body: string, contentType: string, requestId: string, closeConnection = false, extra?: Record<string, string>): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    server: SERVER_NAME,
    ...extra,
  };
  // HTTP/2 forbids connection-specific fields (RFC 9113 §8.2.2).
  if (closeConnection && !isHttp2(res)) headers['connection'] = 'close';
  (res as ServerResponse).writeHead(status, headers);
  res.end(body);
}

/** The fields of every gateway-written reply, as a flat list the response-header filters can edit. */
export function localReplyHeaders(body: string, contentType: string, requestId: string, extra?: readonly string[]): string[] {
  const headers = ['content-type', contentType, 'content-length', String(Buffer.byteLength(body)), 'x-request-id', requestId, 'server', SERVER_NAME];
  if (extra !== undefined) headers.push(...extra);
  return headers;
}

/** Writes a whole reply from a flat header list (after the response-header phase edited it). */
export function sendHeaderList(res: DownstreamResponse, status: number, headers: string[], body: string, closeConnection = false): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  if (isHttp2(res)) {
    const object = toHeaderObject(headers);
    // A gRPC answer of the gateway's own (a fault abort) carries its status as trailers.
    const trailers = takeGrpcStatus(object);
    res.writeHead(status, object);
    if (trailers !== undefined) res.addTrailers(trailers);
  } else {
    if (closeConnection) headers.push('connection', 'close');
    res.writeHead(status, headers);
  }
  res.end(body);
}

/** node:http2's compatibility API takes an object; repeated names become arrays. */
export function toHeaderObject(headers: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

export function isHttp2(res: DownstreamResponse): res is Http2ServerResponse {
  return (res as Http2ServerResponse).stream !== undefined;
}

/** The fields of a gRPC status (gRPC over HTTP/2, "Responses"). */
const GRPC_STATUS_HEADERS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'] as const;

/**
 * A trailers-only gRPC response (grpc-status in its only HEADERS frame, END_STREAM set) cannot be
 * relayed as one through node's compat API, which sends headers and the end of the stream
 * separately; a gRPC client then sees headers with no status and a stream that ends without one.
 * The status fields move to the trailers instead (gRPC over HTTP/2: a status is read from
 * trailers whenever the headers did not end the stream). Removed from `headers` in place.
 */
export function takeGrpcStatus(headers: Record<string, string | string[]>): Record<string, string | string[]> | undefined {
  // gRPC proper only: gRPC-Web (application/grpc-web) keeps a trailers-only status in the headers,
  // where browsers can read it.
  if (headers['grpc-status'] === undefined || !/^application\/grpc($|[+;])/.test(String(headers['content-type'] ?? ''))) return undefined;
  const moved: Record<string, string | string[]> = {};
  for (const name of GRPC_STATUS_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    moved[name] = value;
    delete headers[name];
  }
  return moved;
}
