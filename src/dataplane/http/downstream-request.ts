// A request as the data plane receives it: an HTTP/1 message or an HTTP/2 stream's compatibility object.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;

/**
 * Whether the request arrived as HTTP/2 frames. Decided by the object, never by the version the
 * client wrote: an HTTP/1 request line may claim `HTTP/2.0`, and must not be taken for a stream.
 */
export function isHttp2Request(req: DownstreamRequest): req is Http2ServerRequest {
  return 'stream' in req && (req as Http2ServerRequest).stream !== undefined;
}
