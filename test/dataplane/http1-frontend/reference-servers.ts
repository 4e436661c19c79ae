// The two sides of the differential tests: node's own HTTP/1.1 server, configured as a listener
// configures it (src/dataplane/listen/listener.ts: strict parser, 16 KiB heads, an upgrade and a
// connect handler), and the lean front end's parser behind a plain net.Server. Each is sent the
// same raw bytes over a loopback socket and reports what it understood: the requests it read whole
// (method, target, version, header lines, body, trailers), then how the connection ended.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RequestParser, type ParsedRequestHead } from '../../../src/dataplane/http1-frontend/request-parser.js';
import { checkServerRules } from '../../../src/dataplane/http1-frontend/server-rules.js';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly rawHeaders: readonly string[];
  readonly body: string;
  readonly trailers: readonly string[];
}

export interface Observation {
  readonly requests: SeenRequest[];
  /** clean: the client's end found no request in progress; refused: an error or a 4xx from the server itself. */
  end: 'clean' | 'refused' | 'upgrade';
  detail: string;
}

export interface ReferenceServer {
  observe(payload: Buffer): Promise<Observation>;
  close(): Promise<void>;
}

export const MAX_HEADER_BYTES = 16 * 1024;

const INCOMPLETE: SeenRequest = { method: '', url: '', version: '', rawHeaders: [], body: '', trailers: [] };

/** Resolves once the server side of the connection has closed and queued stream events have run. */
async function exchange(port: number, payload: Buffer, closed: Promise<void>): Promise<string> {
  const answer = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    setTimeout(() => socket.destroy(), 3000).unref();
  });
  await closed;
  await new Promise((r) => setTimeout(r, 5));
  return answer;
}

export async function startNodeReference(): Promise<ReferenceServer> {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, insecureHTTPParser: false });
  // A client's FIN must not abort requests whose 'end' is still queued (node's default aborts them).
  (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  let current: Observation = { requests: [], end: 'clean', detail: '' };
  let onClosed: () => void = () => undefined;
  server.on('connection', (socket: net.Socket) => socket.once('close', () => onClosed()));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const obs = current;
    const chunks: Buffer[] = [];
    // In the order node parsed them: a later upgrade is seen before this request's 'end'.
    const index = obs.requests.length;
    obs.requests.push(INCOMPLETE);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      obs.requests[index] = { method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('latin1'), trailers: req.rawTrailers };
      // With a length, node keeps an HTTP/1.0 keep-alive connection open, so what follows is parsed.
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    });
    req.on('error', () => undefined);
  });
  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket): void => {
    current.requests.push({ method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, rawHeaders: req.rawHeaders, body: '', trailers: [] });
    current.end = 'upgrade';
    socket.destroy();
  };
  server.on('upgrade', onUpgrade);
  server.on('connect', onUpgrade);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    current.end = 'refused';
    current.detail = err.code ?? err.message;
    // Late enough for the 'end' of a request parsed just before the error to be seen.
    setTimeout(() => socket.destroy(), 10);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    async observe(payload) {
      const obs: Observation = { requests: [], end: 'clean', detail: '' };
      current = obs;
      const closed = new Promise<void>((r) => (onClosed = r));
      const answer = await exchange(port, payload, closed);
      // Requests whose body never ended (the connection failed first) were not read whole.
      for (let i = obs.requests.length - 1; i >= 0; i--) if (obs.requests[i] === INCOMPLETE) obs.requests.splice(i, 1);
      // node answers some requests itself (no Host: 400, an unknown Expect: 417); the handler only says 200.
      // Node still runs requests pipelined behind its own 400/417 (it answers, closes, and calls the
      // handler for what it had parsed); the lean front end stops at the refusal, as the data plane
      // does after any refusal that closes the connection. Compared here: what came before it.
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d\d\d) /g)].map((m) => m[1]!).filter((s) => !s.startsWith('1'));
      const own = statuses.findIndex((s) => s.startsWith('4'));
      if (own >= 0 && obs.end !== 'upgrade') {
        obs.end = 'refused';
        obs.detail = statuses[own]!;
        obs.requests.splice(own);
      }
      return obs;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Feeds `payload` to a RequestParser in pieces of `step` bytes (0: all at once) and reports as the socket side does. */
export function parseLean(payload: Buffer, step: number): Observation {
  const session = leanSession();
  if (step <= 0) session.parser.execute(payload);
  else for (let i = 0; i < payload.length; i += step) session.parser.execute(payload.subarray(i, i + step));
  session.parser.finish();
  return session.obs;
}

function leanSession(): { parser: RequestParser; obs: Observation } {
  const obs: Observation = { requests: [], end: 'clean', detail: '' };
  let head: ParsedRequestHead | undefined;
  let body: Buffer[] = [];
  let done = false;
  const seen = (h: ParsedRequestHead, b: string, trailers: readonly string[]): SeenRequest => ({
    method: h.method, url: h.url, version: `${h.versionMajor}.${h.versionMinor}`, rawHeaders: h.rawHeaders, body: b, trailers,
  });
  const parser: RequestParser = new RequestParser(
    {
      onHead(h) {
        if (done) return;
        const verdict = checkServerRules(h);
        if (verdict.kind === 'refuse') {
          done = true;
          obs.end = 'refused';
          obs.detail = String(verdict.status);
          parser.pause();
          return;
        }
        head = h;
        body = [];
      },
      onBody(chunk) {
        if (!done) body.push(Buffer.from(chunk));
      },
      onEnd(trailers) {
        if (done || head === undefined) return;
        obs.requests.push(seen(head, Buffer.concat(body).toString('latin1'), trailers));
        head = undefined;
      },
      onUpgrade(h) {
        if (done) return;
        done = true;
        obs.requests.push(seen(h, '', []));
        obs.end = 'upgrade';
      },
      onError(error) {
        if (done) return;
        done = true;
        obs.end = 'refused';
        obs.detail = error.code;
      },
    },
    { maxHeaderBytes: MAX_HEADER_BYTES },
  );
  return { parser, obs };
}

/** The lean parser behind a real socket: the bytes arrive as the kernel delivers them. */
export async function startLeanReference(): Promise<ReferenceServer> {
  let current = leanSession();
  let onClosed: () => void = () => undefined;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const session = current;
    socket.on('data', (chunk: Buffer) => session.parser.execute(chunk));
    socket.on('end', () => {
      session.parser.finish();
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => onClosed());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    async observe(payload) {
      current = leanSession();
      const obs = current.obs;
      const closed = new Promise<void>((r) => (onClosed = r));
      await exchange(port, payload, closed);
      return obs;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
