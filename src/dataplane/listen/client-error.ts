// Requests Node's HTTP/1.1 parser refuses never reach a handler: they arrive here as `clientError`.
// Answer with the same short JSON local reply as everything else, then close: after a framing
// error the connection's byte stream cannot be trusted (RFC 9112 §11.2).
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { RuntimeErrorCode } from '../../core/errors.js';
import { writeRawLocalReply } from '../http/local-reply.js';
import { channels, type RequestEndMessage } from '../../core/channels.js';

export function clientErrorReason(err: NodeJS.ErrnoException): RuntimeErrorCode {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'request_headers_too_large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 'request_timeout';
    default:
      return 'bad_request';
  }
}

export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, listener: string): void {
  // Bytes after a request that closes the connection (RFC 9112 §9.6): the response in progress is
  // still owed and is sent, then the connection closes; the extra bytes are neither read as a
  // request nor answered.
  if (err.code === 'HPE_CLOSED_CONNECTION' && (socket as { _httpMessage?: unknown })._httpMessage) return;
  if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const details = clientErrorReason(err);
  const requestId = randomUUID();
  const status = writeRawLocalReply(socket, details, requestId);
  if (channels.requestEnd.hasSubscribers) {
    const msg: RequestEndMessage = {
      requestId,
      startTime: Date.now(),
      durationMs: 0,
      method: '',
      host: '',
      path: '',
      protocol: 'HTTP/1.1',
      listener,
      attempts: 0,
      status,
      bytesSent: 0,
      details,
      clientAddress: (socket as { remoteAddress?: string }).remoteAddress ?? '',
    };
    channels.requestEnd.publish(msg);
  }
}
