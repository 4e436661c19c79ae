// The client address of a request. Cleartext HTTP/2 sessions run over a replay stream (see
// listen/replay-socket.ts) that Node wraps in a socket object of its own, which has no
// remoteAddress: the listener records the real peer per session here.
import type { Http2Session } from 'node:http2';
import { isHttp2Request, type DownstreamRequest } from './downstream-request.js';

const sessionPeers = new WeakMap<Http2Session, string>();

export function rememberSessionPeer(session: Http2Session, address: string | undefined): void {
  if (address !== undefined) sessionPeers.set(session, stripMappedV4(address));
}

export function clientIpOf(req: DownstreamRequest): string {
  if (isHttp2Request(req)) {
    const session = req.stream.session as Http2Session | undefined;
    const peer = session === undefined ? undefined : sessionPeers.get(session);
    if (peer !== undefined) return peer;
  }
  return stripMappedV4(req.socket?.remoteAddress ?? '');
}

function stripMappedV4(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
