// The set-up every attack test shares: a gateway whose only route is `site.example.com` + `/public`
// in front of a backend that records every request it parses (method, target, Host), so a test can
// assert both what the attacker got back and that nothing smuggled reached the backend. Each attack
// ends by checking that the gateway still serves an ordinary request.
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DataPlaneLimits } from '../../src/dataplane/data-plane.js';
import { cluster, forwardRoute, httpListener, snapshot, startGateway, startUpstream, type Gateway, type Upstream } from '../dataplane/harness.js';
import type { IrListener, IrVirtualHost } from '../../src/ir/types.js';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly host: string;
  readonly httpVersion: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface AttackBed {
  readonly gw: Gateway;
  readonly backend: Upstream;
  /** Every request the backend parsed, in order. */
  readonly seen: SeenRequest[];
}

export const SITE = 'site.example.com';

/** A backend that records each request; `respond` may answer differently (default 200 "ok"). */
export async function startAttackBed(
  t: TestContext,
  options: { respond?: http.RequestListener; limits?: Partial<DataPlaneLimits>; extraHosts?: readonly IrVirtualHost[] } = {},
): Promise<AttackBed> {
  const seen: SeenRequest[] = [];
  const backend = await startUpstream((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', httpVersion: req.httpVersion, headers: req.headers });
    if (options.respond) return options.respond(req, res);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
  });
  const site: IrVirtualHost = { name: 'site', hostnames: [SITE], routes: [forwardRoute('public', 'backend', { path: { kind: 'prefix', value: '/public' } })] };
  const listener: IrListener = { ...httpListener([]), virtualHosts: [site, ...(options.extraHosts ?? [])] };
  const gw = await startGateway(snapshot([listener], [cluster('backend', [backend])]), options.limits ? { limits: options.limits } : {});
  t.after(async () => {
    await gw.close();
    await backend.close();
  });
  return { gw, backend, seen };
}

/** The gateway still answers an ordinary request on the public route. */
export async function assertServing(port: number): Promise<void> {
  const answer = await rawExchange(port, `GET /public/health HTTP/1.1\r\nHost: ${SITE}\r\nConnection: close\r\n\r\n`);
  assert.match(answer, /^HTTP\/1\.1 200 /, `the gateway should still serve; got ${JSON.stringify(answer.slice(0, 120))}`);
}

/**
 * Writes `payload` (then each of `later`, one per `gapMs`), and collects everything the gateway
 * sends until it closes the connection or `waitMs` pass.
 */
export function rawExchange(port: number, payload: string, options: { later?: readonly string[]; gapMs?: number; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('connect', () => {
      socket.write(payload);
      let delay = 0;
      for (const next of options.later ?? []) {
        delay += options.gapMs ?? 200;
        setTimeout(() => {
          if (!socket.destroyed && socket.writable) socket.write(next);
        }, delay);
      }
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? done() : reject(err)));
    socket.on('close', done);
    const timer = setTimeout(done, options.waitMs ?? 2000);
  });
}

/** How many HTTP/1.x status lines a raw answer holds. */
export function statusLines(answer: string): string[] {
  return answer.match(/HTTP\/1\.[01] \d{3}/g) ?? [];
}

/** Resolves with the time (ms) until the server closed the socket, or -1 if still open after `maxMs`. */
export function timeUntilClosed(socket: net.Socket, maxMs: number): Promise<number> {
  const start = performance.now();
  // Read (and drop) what arrives: a paused socket never sees the server's FIN, so never 'close'.
  socket.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), maxMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - start);
    });
  });
}

export function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
  });
}
