// Errors of the raw pool carry the codes undici and llhttp use for the same failures, so
// classify-upstream-error.ts maps them to the same local replies (502/503/504) and the same retry
// conditions whichever upstream client is running.

/** An Error with a stable `code` (read by classifyUpstreamError). */
export function upstreamError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The upstream closed the connection before the response was complete (undici's SocketError). */
export function socketClosed(): Error {
  return upstreamError('UND_ERR_SOCKET', 'other side closed');
}

/** A malformed response: llhttp's HPE_* codes, mapped to upstream_protocol_error. */
export function protocolError(code: string, message: string): Error {
  return upstreamError(`HPE_${code}`, `upstream response: ${message}`);
}

export const ABORTED_CODE = 'UND_ERR_ABORTED';
