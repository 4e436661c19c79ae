// One bound port. The socket server (net or tls) accepts; each connection is handed to the
// HTTP/1.1 or the HTTP/2 server by protocol: ALPN on TLS, the connection preface on cleartext
// (h2c with prior knowledge, RFC 9113 §3.3). Both HTTP servers share one request handler, which
// reads the listener's slot, so an apply swaps routes without touching open connections.
import net from 'node:net';
import tls from 'node:tls';
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

export interface ListenerLimits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

export class Listener {
  private readonly server: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private sni: SniTable | undefined;
  private boundPort = 0;

  constructor(
    readonly protocol: 'http' | 'https',
    readonly address: string,
    readonly port: number,
    readonly slot: ListenerSlot,
    deps: RequestDeps,
    limits: ListenerLimits,
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
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      insecureHTTPParser: false,
    });
    this.h1.on('request', guarded);
    this.h1.on('upgrade', createUpgradeHandler(slot, deps));
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, slot.runtime.name));
    this.h1.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
      socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    this.h2 = http2.createServer({ maxHeaderListSize: limits.maxHeaderBytes } as http2.ServerOptions);
    this.h2.on('request', guarded);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => session.destroy());
    });
    this.h2.on('sessionError', () => undefined);

    if (protocol === 'https') {
      this.server = tls.createServer({
        ALPNProtocols: ['h2', 'http/1.1'],
        SNICallback: (servername, cb) => cb(null, this.sni?.select(servername)),
      });
      this.server.on('secureConnection', (socket: tls.TLSSocket) => {
        this.track(socket);
        if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
        else this.h1.emit('connection', socket);
      });
      this.server.on('tlsClientError', (_err, socket) => socket.destroy());
    } else {
      this.server = net.createServer((socket) => {
        this.track(socket);
        this.dispatchCleartext(socket);
      });
    }
    this.server.on('error', () => undefined);
  }

  /** HTTPS only: install the certificates of a new configuration. */
  setSniTable(table: SniTable, defaultContext: { cert: string; key: string } | undefined): void {
    this.sni = table;
    if (defaultContext && this.server instanceof tls.Server) this.server.setSecureContext(defaultContext);
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
    this.h1.closeIdleConnections();
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
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private dispatchCleartext(socket: net.Socket): void {
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
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
      // The HTTP/1.1 parser reads through the JS stream, so putting the bytes back is enough.
      socket.pause();
      socket.unshift(buffered);
      this.h1.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
  }
}
