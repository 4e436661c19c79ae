// The client's TLS certificate as a filter may see it (request-context.ts `PeerCertificate`):
// whether the listener verified it, its SHA-256 fingerprint and its subject. Read from the
// connection only when a filter asks (the client-certificate authentication method), so requests
// on routes that do not care pay nothing.
import { X509Certificate } from 'node:crypto';
import type { Http2Session } from 'node:http2';
import { TLSSocket } from 'node:tls';
import type { PeerCertificate } from '../filters/request-context.js';
import { isHttp2Request, type DownstreamRequest } from './downstream-request.js';

/** The TLS socket a request arrived on: HTTP/1's own socket, or the HTTP/2 session's. */
function tlsSocketOf(req: DownstreamRequest): TLSSocket | undefined {
  const socket = isHttp2Request(req) ? (req.stream.session as Http2Session | undefined)?.socket : req.socket;
  return socket instanceof TLSSocket ? socket : undefined;
}

/** A reader for the request's peer certificate; undefined for cleartext requests. */
export function peerCertificateReader(req: DownstreamRequest): (() => PeerCertificate | undefined) | undefined {
  const socket = tlsSocketOf(req);
  if (socket === undefined) return undefined;
  return () => {
    const cert = socket.getPeerCertificate(false);
    // No certificate: node returns an empty object (or null once the socket is gone).
    if (cert === null || cert === undefined || cert.raw === undefined) return undefined;
    return {
      authorized: socket.authorized,
      sha256Fingerprint: cert.fingerprint256,
      // node prints the subject one RDN per line, most significant first, with RFC 2253 escaping;
      // RFC 4514 (and `openssl x509 -subject -nameopt RFC2253`) lists them the other way round.
      subject: new X509Certificate(cert.raw).subject.split('\n').reverse().join(','),
    };
  };
}
