// Opens one upstream connection: TCP for http1, TLS for https with exactly the options the undici
// connector gets (upstream-tls.ts: the policy's CA bundle and client certificate, verification on
// unless the policy says otherwise, the policy's name for the identity check, SNI only for a DNS
// name) plus ALPN http/1.1, resuming the pool's last TLS session as undici's session cache does.
// The connect timeout covers the TLS handshake, as undici's does.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { EndpointState } from '../endpoint-state.js';
import type { UpstreamConnection } from '../transport.js';
import { compileUpstreamTls, tlsConnectOptions, tlsNamesFor } from '../upstream-tls.js';
import { upstreamError } from './upstream-error.js';

/** TCP keep-alive probes on pooled sockets, as undici sets them. */
const TCP_KEEPALIVE_MS = 60_000;

/** The pool's TLS session: the last one the upstream handed out, offered on the next connection. */
export interface TlsSessionSlot {
  session: Buffer | undefined;
}

/**
 * `sessions` is per pool, and pools are per TLS policy digest: node skips the identity check on a
 * resumed session, so a session must never cross policies (upstream-tls.ts).
 */
export function connectSocket(endpoint: EndpointState, connection: UpstreamConnection, sessions: TlsSessionSlot, done: (err: Error | null, socket?: Socket) => void): void {
  const host = endpoint.address;
  const port = endpoint.port;
  let socket: Socket;
  let readyEvent: string;
  if (connection.protocol === 'https') {
    // One policy is always compiled for https; should it be missing, the IR's default (verify
    // against node's CAs) is the safe reading, as in undici-transport.ts.
    const policy = connection.tls ?? compileUpstreamTls(undefined);
    const { name, sni } = tlsNamesFor(policy, host);
    socket = tls.connect({ host, port, servername: sni ?? '', ALPNProtocols: ['http/1.1'], ...tlsConnectOptions(policy, name), ...(sessions.session === undefined ? {} : { session: sessions.session }) });
    socket.on('session', (session: Buffer) => {
      sessions.session = session;
    });
    readyEvent = 'secureConnect';
  } else {
    socket = net.connect({ host, port });
    readyEvent = 'connect';
  }
  let settled = false;
  const timer = connection.connectTimeoutMs > 0
    ? setTimeout(() => fail(upstreamError('UND_ERR_CONNECT_TIMEOUT', `connect timeout after ${connection.connectTimeoutMs} ms`)), connection.connectTimeoutMs)
    : undefined;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.destroy();
    done(err);
  };
  socket.once('error', fail);
  const onClose = (): void => fail(upstreamError('UND_ERR_SOCKET', 'closed while connecting'));
  socket.once('close', onClose);
  socket.once(readyEvent, () => {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.off('error', fail);
    socket.off('close', onClose);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    done(null, socket);
  });
}
