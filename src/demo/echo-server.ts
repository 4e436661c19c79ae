// The demo backend: `isthmus echo --listen HOST:PORT --name NAME`, and the pods of the embedded
// demo. Every HTTP/1.1 request gets a JSON description of itself (echo-request.ts); `?status=`,
// `?delay=` and `?size=` shape the answer; a WebSocket upgrade becomes an echo socket.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  describeRequest,
  MAX_ECHOED_BODY_BYTES,
  parseEchoControls,
  type EchoControls,
  type EchoIdentity,
  type EchoServerOptions,
} from './echo-request.js';
import { GrpcEchoServer } from './grpc-echo-server.js';

export type { EchoServerOptions } from './echo-request.js';

/** One chunk of `?size=` filler, reused for every write. */
const FILLER = Buffer.alloc(64 * 1024, 'x');

export class EchoServer {
  readonly #options: EchoServerOptions;
  readonly #identity: EchoIdentity;
  readonly #server: http.Server;
  readonly #webSockets = new WebSocketServer({ noServer: true });
  /** `?delay=` timers, cleared by close() so it does not wait for them. */
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: EchoServerOptions) {
    this.#options = options;
    this.#identity = { name: options.name, namespace: options.namespace ?? 'default', service: options.service ?? null };
    this.#server = http.createServer((req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const client of this.#webSockets.clients) client.terminate();
    this.#webSockets.close();
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parsed = parseEchoControls(req.url ?? '/');
    if (parsed.kind === 'invalid') {
      sendJson(res, 400, { error: 'bad_request', message: parsed.message });
      req.resume();
      return;
    }
    const controls = parsed.controls;
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept >= MAX_ECHOED_BODY_BYTES) return;
      const part = chunk.subarray(0, MAX_ECHOED_BODY_BYTES - kept);
      chunks.push(part);
      kept += part.length;
    });
    // A client that goes away mid-body: nothing to answer, the socket is already gone.
    req.on('error', () => undefined);
    // 'end' comes after the trailers are parsed, so the description includes them.
    req.on('end', () => {
      this.#afterDelay(controls.delayMs, res, () => this.#answer(req, res, controls, Buffer.concat(chunks), total));
    });
  }

  #afterDelay(delayMs: number, res: http.ServerResponse, answer: () => void): void {
    if (delayMs === 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      answer();
    }, delayMs);
    this.#timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, controls: EchoControls, body: Buffer, bodyBytes: number): void {
    if (res.destroyed) return;
    if (controls.sizeBytes !== undefined && !NO_CONTENT_STATUSES.has(controls.status)) {
      res.writeHead(controls.status, {
        'content-type': 'application/octet-stream',
        'content-length': controls.sizeBytes,
      });
      streamFiller(res, controls.sizeBytes);
      return;
    }
    sendJson(res, controls.status, describeRequest(this.#identity, req, body, bodyBytes));
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if ((req.headers.upgrade ?? '').toLowerCase() === 'websocket') {
      this.#webSockets.handleUpgrade(req, socket, head, (ws) => echoWebSocket(ws));
      return;
    }
    // Another protocol (e.g. curl --http2 asking for `Upgrade: h2c`): stay on HTTP/1.1 and
    // answer as for any request, as Go's server (and echo-basic) does. Node hands us the raw
    // socket once an 'upgrade' listener exists, so the reply is written by hand (the body, if
    // any, is not read; `?status=` applies, `?delay=` and `?size=` do not).
    const parsed = parseEchoControls(req.url ?? '/');
    const status = parsed.kind === 'ok' ? parsed.controls.status : 400;
    const data = parsed.kind === 'ok'
      ? describeRequest(this.#identity, req, Buffer.alloc(0), 0)
      : { error: 'bad_request', message: parsed.message };
    const payload = `${JSON.stringify(data)}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
        'content-type: application/json\r\n' +
        'x-content-type-options: nosniff\r\n' +
        `content-length: ${Buffer.byteLength(payload)}\r\n` +
        'connection: close\r\n\r\n' +
        payload,
    );
  }
}

function echoWebSocket(ws: WebSocket): void {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => undefined);
}

/** RFC 9110 §6.4.1: these statuses have no content, and §8.6: 204 has no Content-Length. */
const NO_CONTENT_STATUSES: ReadonlySet<number> = new Set([204, 304]);

function sendJson(res: http.ServerResponse, status: number, data: unknown): void {
  if (NO_CONTENT_STATUSES.has(status)) {
    res.writeHead(status).end();
    return;
  }
  const payload = `${JSON.stringify(data)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-content-type-options': 'nosniff',
  });
  res.end(payload);
}

/** Writes `size` bytes in chunks, waiting for 'drain' so a slow reader is not buffered for. */
function streamFiller(res: http.ServerResponse, size: number): void {
  let remaining = size;
  const writeMore = (): void => {
    while (remaining > 0) {
      const length = Math.min(remaining, FILLER.length);
      remaining -= length;
      const more = res.write(length === FILLER.length ? FILLER : FILLER.subarray(0, length));
      if (!more) {
        res.once('drain', writeMore);
        return;
      }
    }
    res.end();
  };
  writeMore();
}

export interface DemoPod {
  readonly address: string;
  readonly port: number;
  readonly name: string;
  readonly namespace: string;
  readonly service?: string;
  /** `grpc` for container ports named `grpc` or `grpc-*` (a GrpcEchoServer); HTTP otherwise. */
  readonly protocol?: 'http' | 'grpc';
}

/** Starts one echo server per pod (gRPC or HTTP); if one cannot bind, closes the others and rejects. */
export async function startDemoBackends(pods: readonly DemoPod[]): Promise<{ close(): Promise<void> }> {
  const servers: { close(): Promise<void> }[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  };
  for (const pod of pods) {
    const options: EchoServerOptions = {
      host: pod.address,
      port: pod.port,
      name: pod.name,
      namespace: pod.namespace,
      ...(pod.service === undefined ? {} : { service: pod.service }),
    };
    const server = pod.protocol === 'grpc' ? new GrpcEchoServer(options) : new EchoServer(options);
    try {
      await server.listen();
    } catch (error) {
      await closeAll();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`demo backend ${pod.namespace}/${pod.name} cannot listen on ${pod.address}:${pod.port}: ${reason}`, { cause: error });
    }
    servers.push(server);
  }
  return { close: closeAll };
}
