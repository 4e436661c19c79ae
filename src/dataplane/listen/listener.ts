// One bound port. The socket server (net or tls) accepts; each connection is handed to the
// HTTP/1.1 or the HTTP/2 server by protocol: ALPN on TLS, the connection preface on cleartext
// (h2c with prior knowledge, RFC 9113 §3.3). Both HTTP servers share one request handler, which
// reads the listener's slot, so an apply swaps routes without touching open connections.
import net from 'node:net';
import tls from 'node:tls';
import { constants } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { createRequestHandler, type ListenerSlot, type RequestDeps } from '../http/request-handler.js';
import { createUpgradeHandler } from '../http/upgrade-tunnel.js';
import { answerClientError } from './client-error.js';
import { replaySocket } from './replay-socket.js';
import { rememberSessionPeer } from '../http/client-address.js';
import { sendLocalReply } from '../http/local-reply.js';
import type { SniTable } from './sni-table.js';
import type { ClientConnectionLimit } from './client-connection-limit.js';
import { LeanFrontend, type Http1Frontend } from '../http1-frontend/lean-frontend.js';

export interface ListenerLimits {
  readonly maxHeaderBytes: number;
  /** From accept until the first byte (cleartext) or the end of the TLS handshake. */
  readonly firstByteTimeoutMs: number;
  /** HTTP/1.x: from the start of a request (or of the connection) until its head is complete. */
  readonly headersTimeoutMs: number;
  /** HTTP/1.x: from the start of a request until it has been received whole. */
  readonly requestTimeoutMs: number;
  /** Idle between requests: an HTTP/1.1 keep-alive connection, an HTTP/2 session with no open stream. */
  readonly keepAliveTimeoutMs: number;
  /** HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
  /** `--http1-frontend`: who parses cleartext HTTP/1.1 (default, and undefined: the lean front end; docs/http1-frontend.md). */
  readonly http1Frontend?: Http1Frontend;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/**
 * Reads what it needs of a new connection and either takes it, or hands it back to the bind's own
 * TLS with the bytes it read (`toTls`). The data plane builds one where an L4 TLS listener shares
 * the bind (src/dataplane/l4/sni-split.ts).
 */
export type Divert = (socket: net.Socket, toTls: (head: Buffer) => void) => void;

export class Listener {
  private readonly server: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly tls: tls.Server | undefined;
  private readonly lean: LeanFrontend | undefined;
  private sni: SniTable | undefined;
  private divert: Divert | undefined;
  private boundPort = 0;

  constructor(
    readonly protocol: 'http' | 'https',
    readonly address: string,
    readonly port: number,
    readonly slot: ListenerSlot,
    deps: RequestDeps,
    private readonly limits: ListenerLimits,
    private readonly connections: ClientConnectionLimit,
  ) {
    const onRequest = createRequestHandler(slot, deps);
    const guarded = (req: Parameters<typeof onRequest>[0], res: Parameters<typeof onRequest>[1]): void => {
      try {
        onRequest(req, res);
      } catch (err) {
        // One catch at the boundary: a bug becomes a 500 and a log line, never a dead process.
        process.emitWarning(`isthmus: request handler failed: ${(err as Error).stack ?? String(err)}`);
        try {
          sendLocalReply(res, 'internal_error', 'none');
        } catch {
          res.destroy();
        }
      }
    };
    this.h1 = http.createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often node sweeps connections for the header and request timeouts: the slack on both.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      insecureHTTPParser: false,
    });
    // This server never listens itself (the socket server below hands it connections), and node
    // starts tracking connections for headersTimeout/requestTimeout on 'listening' only: without
    // this, a client trickling header bytes is never cut off, and closeIdleConnections() finds
    // nothing to close. test/attacks/http-slow-clients.test.ts keeps the behaviour honest.
    this.h1.emit('listening');
    this.h1.on('request', guarded);
    const onUpgrade = createUpgradeHandler(slot, deps);
    this.h1.on('upgrade', onUpgrade);
    // The lean front end hands the same handlers objects with the parts of IncomingMessage and
    // ServerResponse the data plane uses (src/dataplane/http1-frontend/lean-request.ts, lean-response.ts).
    this.lean = protocol === 'http' && limits.http1Frontend !== 'node'
      ? new LeanFrontend({
          onRequest: (req, res) => guarded(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse),
          onUpgrade: (req, socket, head) => onUpgrade(req as unknown as http.IncomingMessage, socket, head),
          listenerName: () => slot.runtime.name,
          maxHeaderBytes: limits.maxHeaderBytes,
          headersTimeoutMs: limits.headersTimeoutMs,
          requestTimeoutMs: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
          keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
          checkIntervalMs: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
        })
      : undefined;
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, slot.runtime.name));
    this.h1.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    // Without a stream cap one connection could open thousands of slow streams, each holding an
    // upstream connection; 100 is the edge value Envoy recommends and what most clients expect.
    this.h2 = http2.createServer({
      maxHeaderListSize: limits.maxHeaderBytes,
      settings: { maxConcurrentStreams: limits.maxConcurrentStreams },
    } as http2.ServerOptions);
    this.h2.on('request', guarded);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => session.destroy());
      this.closeWhenIdle(session);
    });
    this.h2.on('sessionError', () => undefined);

    if (protocol === 'https') {
      const secure = tls.createServer({
        ALPNProtocols: ['h2', 'http/1.1'],
        SNICallback: (servername, cb) => cb(null, this.sni?.select(servername)),
        // A client that opens TCP and never completes the handshake is cut off here.
        handshakeTimeout: limits.firstByteTimeoutMs,
      });
      this.tls = secure;
      secure.on('secureConnection', (socket: tls.TLSSocket) => {
        // AllowValidOnly: a client whose certificate did not verify against the CA of the name it
        // asked for is cut before a byte of HTTP is read. A resumed session is refused too: it
        // may have been established under another name's (or no) client validation.
        const validation = this.sni?.entryFor(socket.servername)?.clientValidation;
        if (validation?.mode === 'allow-valid-only' && (!socket.authorized || socket.isSessionReused())) {
          socket.destroy();
          return;
        }
        // VerifyIfPresented (Istio OPTIONAL_MUTUAL): no certificate is fine, one that did not verify is not.
        if (validation?.mode === 'verify-if-presented' && !socket.authorized && (socket.isSessionReused() || Object.keys(socket.getPeerCertificate()).length > 0)) {
          socket.destroy();
          return;
        }
        this.track(socket);
        if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
        else this.h1.emit('connection', socket);
      });
      secure.on('tlsClientError', (_err, socket) => socket.destroy());
      // The TLS server never listens: this plain socket server accepts, admits (before any TLS
      // work is spent) and, where a TLS passthrough listener shares the port, lets the divert read
      // the ClientHello and take the connection or give it back with the bytes it read.
      this.server = net.createServer((socket) => {
        if (!this.connections.admit(socket)) {
          socket.destroy();
          return;
        }
        const divert = this.divert;
        if (divert === undefined) secure.emit('connection', socket);
        else divert(socket, (head) => this.terminate(socket, head));
      });
    } else {
      this.server = net.createServer((socket) => {
        if (!this.connections.admit(socket)) {
          socket.destroy();
          return;
        }
        this.track(socket);
        this.dispatchCleartext(socket);
      });
    }
    this.server.on('error', () => undefined);
  }

  /** HTTPS only: install the certificates of a new configuration. */
  setSniTable(table: SniTable): void {
    this.sni = table;
    if (this.tls === undefined) return;
    // requestCert is per bind in node (read when a connection is accepted), not per SNI context:
    // if any name on the bind validates clients, every handshake asks for a certificate, and
    // names without validation simply do not look at it. When every name requires one, the
    // handshake itself fails without a certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT); otherwise
    // the secureConnection check above refuses per name.
    const server = this.tls as tls.Server & { requestCert: boolean; rejectUnauthorized: boolean };
    server.requestCert = table.requestsClientCertificates;
    server.rejectUnauthorized = table.requiresClientCertificates;
    const def = table.defaultEntry;
    if (def === undefined) return;
    this.tls.setSecureContext({
      cert: def.certificate.certPem,
      key: def.certificate.keyPem,
      ...(def.clientValidation ? { ca: def.clientValidation.caPem } : {}),
      // No session tickets where clients are validated: a ticket is decrypted with the bind's
      // keys whichever name issued it, so it could carry a session into a name it was not
      // verified for. Without tickets (and without node's session cache) every handshake is full.
      ...(table.requestsClientCertificates ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
    });
  }

  /** HTTPS only: who else may take this port's connections by SNI (a TLS passthrough listener), or none. */
  setDivert(divert: Divert | undefined): void {
    this.divert = divert;
  }

  /** A connection for this bind's own TLS, with the bytes a divert read from it put back first. */
  private terminate(socket: net.Socket, head: Buffer): void {
    // The TLS socket feeds what the plain socket has buffered to its engine before it reads the
    // handle (test/dataplane/l4/shared-port.test.ts shows the ClientHello survives the trip).
    if (head.length > 0) socket.unshift(head);
    this.tls!.emit('connection', socket);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.address, port: this.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : this.port;
        resolve(this.boundPort);
      });
    });
  }

  get localPort(): number {
    return this.boundPort;
  }

  /** Stop accepting; ask HTTP/2 clients to go away and idle HTTP/1.1 connections to close. */
  stopAccepting(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close();
    // Closes idle connections and stops node's timeout sweep (the server itself never listened).
    this.h1.close(() => undefined);
    this.lean?.close();
    return closed;
  }

  /** After the grace period: whatever is still open is cut. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    for (const session of this.sessions) session.destroy();
  }

  /** Idle keep-alive connections are closed again while draining (they may have become idle). */
  closeIdle(): void {
    this.h1.closeIdleConnections();
    this.lean?.closeIdle();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  /**
   * An HTTP/2 session with no open stream for keepAliveTimeoutMs (or that never opens one) is
   * closed with GOAWAY. A stream opens only when its HEADERS are complete, so a client trickling a
   * header block is idle here too.
   */
  private closeWhenIdle(session: http2.ServerHttp2Session): void {
    let open = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        session.close();
        // close() waits for open streams; there are none, but a peer that ignores GOAWAY is cut.
        setTimeout(() => session.destroy(), 1000).unref();
      }, this.limits.keepAliveTimeoutMs);
      timer.unref();
    };
    arm();
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      open++;
      clearTimeout(timer);
      stream.once('close', () => {
        if (--open === 0 && !session.closed && !session.destroyed) arm();
      });
    });
    session.once('close', () => clearTimeout(timer));
  }

  private dispatchCleartext(socket: net.Socket): void {
    let buffered: Buffer = Buffer.alloc(0);
    // Until the first bytes arrive no HTTP server owns the connection, so this timer is its bound.
    const firstByte = setTimeout(() => socket.destroy(), this.limits.firstByteTimeoutMs);
    socket.once('close', () => clearTimeout(firstByte));
    const onData = (chunk: Buffer): void => {
      clearTimeout(firstByte);
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Wait until the first line can tell h2 from HTTP/1.x: "PRI * HTTP/2.0" is no valid h1 method.
      if (buffered.length < H2_PREFACE.length && H2_PREFACE.subarray(0, buffered.length).equals(buffered)) return;
      socket.off('data', onData);
      const isH2 = buffered.length >= H2_PREFACE.length && buffered.subarray(0, H2_PREFACE.length).equals(H2_PREFACE);
      if (isH2) {
        // The session is created synchronously inside emit('connection').
        const remember = (session: http2.ServerHttp2Session): void => rememberSessionPeer(session, socket.remoteAddress);
        this.h2.once('session', remember);
        this.h2.emit('connection', replaySocket(socket, buffered));
        this.h2.off('session', remember);
        return;
      }
      if (this.lean !== undefined) return this.lean.accept(socket, buffered);
      // The HTTP/1.1 parser reads through the JS stream, so putting the bytes back is enough.
      socket.pause();
      socket.unshift(buffered);
      this.h1.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
  }
}
