// Misbehaving upstreams for the raw pool's tests: plain `net` (or `tls`) servers on loopback whose
// every byte the test writes by hand, and a small driver that sends one request through the real
// RawTransport and collects what its handler saw.
import { once } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { createEndpointState } from '../../../src/dataplane/upstream/endpoint-state.js';
import { connectionKeyOf, type UpstreamConnection, type UpstreamHandler, type UpstreamProtocol, type UpstreamTransport } from '../../../src/dataplane/upstream/transport.js';
import type { UpstreamTls } from '../../../src/dataplane/upstream/upstream-tls.js';
import { classifyUpstreamError } from '../../../src/dataplane/http/classify-upstream-error.js';

export interface RawServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly sockets: Socket[];
  /** Sockets the client (or the server) closed. */
  readonly closed: Set<Socket>;
}

interface Afterable {
  after(fn: () => unknown): void;
}

/** `onConnection(socket, index)` drives each accepted connection by hand. */
export async function startRawServer(t: Afterable, onConnection: (socket: Socket, index: number) => void, tlsOptions?: tls.TlsOptions): Promise<RawServer> {
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  const accept = (s: Socket): void => {
    const index = sockets.length;
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('close', () => closed.add(s));
    onConnection(s, index);
  };
  const server = tlsOptions === undefined ? net.createServer(accept) : tls.createServer(tlsOptions, accept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, sockets, closed };
}

/**
 * Calls `onRequest(head, index)` for every request head that arrives on `socket` (requests without
 * a body, or whose body the test ignores); its return is written back.
 */
export function answerEach(socket: Socket, onRequest: (head: string, index: number) => string | Buffer | undefined): void {
  let pending = '';
  let index = 0;
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const out = onRequest(head, index++);
      if (out !== undefined && !socket.destroyed) socket.write(out);
    }
  });
}

export function connectionFor(protocol: UpstreamProtocol = 'http1', extra: { idleTimeoutMs?: number; maxRequestsPerConnection?: number; tls?: UpstreamTls } = {}): UpstreamConnection {
  return {
    protocol,
    connectTimeoutMs: 2000,
    tls: extra.tls,
    ...(extra.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: extra.idleTimeoutMs }),
    ...(extra.maxRequestsPerConnection === undefined ? {} : { maxRequestsPerConnection: extra.maxRequestsPerConnection }),
    key: connectionKeyOf(protocol, 2000, extra.tls, extra.maxRequestsPerConnection, extra.idleTimeoutMs),
  };
}

export type Outcome =
  | { readonly kind: 'ok'; readonly status: number; readonly headers: string[]; readonly body: Buffer; readonly trailers: string[] | null; readonly connects: number }
  | { readonly kind: 'error'; readonly code: string; readonly reason: string; readonly message: string; readonly headersSeen: boolean };

export interface SendOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: string[];
  readonly body?: Readable | Buffer | null;
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  readonly connection?: UpstreamConnection;
  /** Return false from onData (the handler's backpressure); the test gets `resume` through `onPaused`. */
  readonly pauseOnData?: (resume: () => void, received: number) => boolean;
}

/** One request through `transport`; resolves with what the handler saw (never rejects). */
export function send(transport: UpstreamTransport, port: number, options: SendOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    let status = 0;
    let headers: string[] = [];
    const chunks: Buffer[] = [];
    let received = 0;
    let connects = 0;
    let resumeFn: () => void = () => undefined;
    let headersSeen = false;
    const handler: UpstreamHandler = {
      onConnect: () => {
        connects++;
      },
      onHeaders: (s, raw, resume) => {
        status = s;
        headersSeen = true;
        resumeFn = resume;
        headers = raw.map((b: Buffer | string) => (typeof b === 'string' ? b : b.toString('latin1')));
        return true;
      },
      onData: (chunk) => {
        chunks.push(chunk);
        received += chunk.length;
        return options.pauseOnData === undefined ? true : options.pauseOnData(resumeFn, received);
      },
      onComplete: (trailers) => {
        const t = trailers === null ? null : Array.isArray(trailers) ? trailers.map((b: Buffer | string) => (typeof b === 'string' ? b : b.toString('latin1'))) : null;
        resolve({ kind: 'ok', status, headers, body: Buffer.concat(chunks), trailers: t, connects });
      },
      onError: (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        resolve({ kind: 'error', code, reason: classifyUpstreamError(err, headersSeen), message: err.message, headersSeen });
      },
    };
    transport.send(
      createEndpointState('127.0.0.1', port),
      options.connection ?? connectionFor(),
      {
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers ?? ['host', 'upstream.test'],
        body: options.body ?? null,
        headersTimeoutMs: options.headersTimeoutMs ?? 5000,
        bodyTimeoutMs: options.bodyTimeoutMs ?? 5000,
      },
      handler,
    );
  });
}

/** Polls `condition` every 10 ms; fails (rather than hangs) after `limitMs`. */
export async function eventually(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= limitMs) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
