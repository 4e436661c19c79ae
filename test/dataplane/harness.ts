// Test harness: a DataPlane on port 0 in front of real upstream servers, driven by hand-written IR.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataPlane, type DataPlaneOptions } from '../../src/dataplane/data-plane.js';
import { UndiciTransport } from '../../src/dataplane/upstream/undici-transport.js';
import { RawTransport } from '../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { seededRandom } from '../../src/core/random.js';
import type { Timers } from '../../src/core/timers.js';
import { bindListeners, type BindOptions } from '../../src/translate/binds/bind-listeners.js';
import type { IrCluster, IrListener, IrRoute, IrSnapshot } from '../../src/ir/types.js';

export interface Upstream {
  readonly server: http.Server;
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** A real node:http upstream on a loopback address and port 0. */
export async function startUpstream(handler: http.RequestListener, address = '127.0.0.1'): Promise<Upstream> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with JSON describing the request, like the demo echo backend. */
export function echoHandler(name: string): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}

export function cluster(name: string, endpoints: readonly { address: string; port: number }[], extra: Partial<IrCluster> = {}): IrCluster {
  return {
    name,
    origin: { group: '', kind: 'Service', namespace: 'default', name },
    protocol: 'http1',
    lb: { kind: 'round-robin' },
    endpoints,
    ...extra,
  };
}

export function forwardRoute(name: string, clusterName: string, match: IrRoute['match'] = { path: { kind: 'prefix', value: '/' } }, extra: Partial<IrRoute> = {}): IrRoute {
  return {
    name,
    origin: { group: 'networking.k8s.io', kind: 'Ingress', namespace: 'default', name },
    match,
    action: { kind: 'forward', backends: [{ cluster: clusterName, weight: 1 }] },
    filters: [],
    ...extra,
  };
}

export function httpListener(routes: readonly IrRoute[], hostnames: readonly string[] = ['*'], extra: Partial<IrListener> = {}): IrListener {
  return { name: 'test/http', protocol: 'http', port: 80, virtualHosts: [{ name: 'vh', hostnames, routes }], ...extra };
}

/** What the CLI's bind options would be in these tests: loopback, logical 80/443 on free ports. */
export const TEST_BINDS: BindOptions = {
  listenAddress: '127.0.0.1',
  portMap: new Map([
    [80, 0],
    [443, 0],
  ]),
};

/** Hand-written logical listeners, grouped into binds by the translator's own bind step. */
export function snapshot(listeners: readonly IrListener[], clusters: readonly IrCluster[], generation = 1, certificates: IrSnapshot['certificates'] = []): IrSnapshot {
  const bound = bindListeners(listeners, TEST_BINDS);
  return { generation, listeners: bound.listeners, binds: bound.binds, clusters, certificates };
}

export interface Gateway {
  readonly dataPlane: DataPlane;
  /** Real port of the logical port 80 (and 443). */
  readonly httpPort: number;
  readonly httpsPort: number;
  close(): Promise<void>;
}

export async function startGateway(
  ir: IrSnapshot,
  options: { clock?: Clock; trustedProxies?: string[]; limits?: DataPlaneOptions['limits']; timers?: Timers } = {},
): Promise<Gateway> {
  const dataPlane = new DataPlane({
    trustedProxies: options.trustedProxies ?? [],
    // The gateway's default upstream client (raw pool); ISTHMUS_UPSTREAM_CLIENT=undici runs the tests on the other one.
    transport: process.env.ISTHMUS_UPSTREAM_CLIENT === 'undici' ? new UndiciTransport() : new RawTransport(),
    clock: options.clock ?? systemClock,
    random: seededRandom(42),
    // The lean HTTP/1.1 front end is the default; ISTHMUS_HTTP1_FRONTEND=node runs every gateway test on node:http's.
    ...(options.limits || process.env.ISTHMUS_HTTP1_FRONTEND === 'node'
      ? { limits: { ...(process.env.ISTHMUS_HTTP1_FRONTEND === 'node' ? { http1Frontend: 'node' as const } : {}), ...options.limits } }
      : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  const result = await dataPlane.apply(ir);
  if (result.outcome !== 'applied') throw new Error(`apply failed: ${JSON.stringify(result.diagnostics)}`);
  const ports = dataPlane.boundPorts();
  const find = (proto: string): number => ports.find((p) => p.protocol === proto)?.port ?? 0;
  return {
    dataPlane,
    httpPort: find('http'),
    httpsPort: find('https'),
    close: async () => {
      await dataPlane.drain(100);
    },
  };
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function request(port: number, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
