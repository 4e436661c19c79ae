// After a request that ends its connection (RFC 9112 §9.6: `Connection: close`, HTTP/1.0 without
// keep-alive, or a request the gateway refused for its framing), nothing more on that connection
// may be read as a request. Node's parser may already have parsed pipelined bytes behind it and
// call the handler again; those requests are dropped here, unanswered and never forwarded, and the
// connection closes once the response in progress has been sent.
import type { IncomingMessage } from 'node:http';

const closing = new WeakSet<object>();

export function markClosing(socket: object): void {
  closing.add(socket);
}

export function isClosing(socket: object): boolean {
  return closing.has(socket);
}

/** Whether an HTTP/1.x request asks for its connection to close after the response. */
export function requestEndsConnection(req: IncomingMessage): boolean {
  const connection = req.headers.connection;
  if (req.httpVersionMinor === 0) return connection === undefined || !hasToken(connection, 'keep-alive');
  return connection !== undefined && hasToken(connection, 'close');
}

function hasToken(list: string, token: string): boolean {
  const lower = list.toLowerCase();
  if (lower === token) return true;
  return lower.split(',').some((t) => t.trim() === token);
}
