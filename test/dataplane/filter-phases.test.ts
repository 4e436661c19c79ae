// The filter phases (src/dataplane/filters/filter-types.ts) with real clients: CORS answers
// preflights in the request phase and adds its headers in the response phase, also to local
// replies; an upgrade runs the same phases (a header filter reaches a WebSocket backend); every
// request, upgrades included, is logged exactly once; the request phase is synchronous unless a
// filter returns a Promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net, { type AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { channels, type RequestEndMessage } from '../../src/core/channels.js';
import type { IrCors, IrRoute } from '../../src/ir/types.js';
import { runRequestPhase } from '../../src/dataplane/http/request-handler.js';
import { CONTINUE, type FilterOutcome, type RequestPhaseFilter } from '../../src/dataplane/filters/filter-types.js';
import type { RequestContext } from '../../src/dataplane/filters/request-context.js';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

const CORS: IrCors = {
  allowOrigins: ['https://app.example.com', 'https://*.partner.example'],
  allowMethods: ['GET', 'PUT'],
  allowHeaders: ['x-token'],
  exposeHeaders: ['x-total'],
  maxAgeSeconds: 600,
  allowCredentials: true,
};

function recordingBackend(seen: string[]): http.RequestListener {
  return (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-total': '7' });
    res.end('ok');
  };
}

async function corsBed(t: import('node:test').TestContext): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const up = await startUpstream(recordingBackend(seen));
  const routes: IrRoute[] = [
    forwardRoute('api', 'api', { path: { kind: 'prefix', value: '/api' } }, { filters: [{ kind: 'cors', cors: CORS }] }),
    { ...forwardRoute('gone', 'api', { path: { kind: 'prefix', value: '/gone' } }), action: { kind: 'respond', status: 404, body: 'gone' }, filters: [{ kind: 'cors', cors: CORS }] },
    forwardRoute('broken', 'missing', { path: { kind: 'prefix', value: '/broken' } }, { filters: [{ kind: 'cors', cors: CORS }] }),
  ];
  const gw = await startGateway(snapshot([httpListener(routes)], [cluster('api', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  return { port: gw.httpPort, seen };
}

test('CORS: a preflight from an allowed origin is answered by the gateway and never reaches the backend', async (t) => {
  const { port, seen } = await corsBed(t);
  const res = await request(port, {
    method: 'OPTIONS',
    path: '/api/items',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-token' },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  assert.equal(res.headers['access-control-allow-methods'], 'GET, PUT');
  assert.equal(res.headers['access-control-allow-headers'], 'x-token');
  assert.equal(res.headers['access-control-max-age'], '600');
  assert.deepEqual(seen, []);

  // A wildcard origin, through curl (asynchronously: the gateway answers from this process).
  const { stdout: out } = await promisify(execFile)('curl', ['-s', '-i', '-X', 'OPTIONS', `http://127.0.0.1:${port}/api/x`, '-H', 'Origin: https://eu.shop.partner.example', '-H', 'Access-Control-Request-Method: GET'], { encoding: 'utf8', timeout: 10_000 });
  assert.match(out, /^HTTP\/1\.1 200/);
  assert.match(out, /access-control-allow-origin: https:\/\/eu\.shop\.partner\.example\r\n/i);
  assert.deepEqual(seen, []);
});

test('CORS: other origins pass through untouched; actual requests, local 404s and 500s all carry the allow headers', async (t) => {
  const { port, seen } = await corsBed(t);
  const foreign = await request(port, { method: 'OPTIONS', path: '/api/x', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
  assert.equal(foreign.status, 200);
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  assert.deepEqual(seen, ['OPTIONS /api/x'], 'a preflight from another origin goes to the backend like any request');

  const origin = { origin: 'https://app.example.com' };
  const actual = await request(port, { path: '/api/list', headers: origin });
  assert.equal(actual.status, 200);
  assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(actual.headers['access-control-expose-headers'], 'x-total');
  assert.equal(actual.headers['vary'], 'Origin');

  const gone = await request(port, { path: '/gone/x', headers: origin });
  assert.equal(gone.status, 404);
  assert.equal(gone.headers['access-control-allow-origin'], 'https://app.example.com', 'a respond action passes the response phase');
  const broken = await request(port, { path: '/broken/x', headers: origin });
  assert.equal(broken.status, 500);
  assert.equal(broken.headers['access-control-allow-origin'], 'https://app.example.com', 'a local error reply passes the response phase');
  assert.equal(JSON.parse(broken.body).reason, 'backend_not_found');
  const noOrigin = await request(port, { path: '/api/list' });
  assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
});

test('an upgrade runs the route filters (a header modifier reaches the WebSocket backend) and is logged exactly once', async (t) => {
  const server = http.createServer((_req, res) => res.end('http'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => ws.send(`tenant=${String(req.headers['x-tenant'])} removed=${String(req.headers['x-drop'])}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const route = forwardRoute('ws', 'ws', { path: { kind: 'prefix', value: '/ws' } }, {
    filters: [{ kind: 'request-header-modifier', modifier: { set: [{ name: 'x-tenant', value: 'blue' }], remove: ['x-drop'] } }],
  });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('ws', [{ address: '127.0.0.1', port }])]));
  const ends: RequestEndMessage[] = [];
  const onEnd = (m: unknown): void => void ends.push(m as RequestEndMessage);
  channels.requestEnd.subscribe(onEnd);
  t.after(async () => {
    channels.requestEnd.unsubscribe(onEnd);
    await gw.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
  });
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/ws/room`, { headers: { 'x-drop': 'secret' } });
  const [greeting] = (await once(ws, 'message')) as [Buffer];
  assert.equal(greeting.toString(), 'tenant=blue removed=undefined');
  ws.close();
  await once(ws, 'close');
  // The log line is written when the tunnel closes on the gateway's side.
  for (let i = 0; i < 50 && ends.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  const mine = ends.filter((m) => m.path === '/ws/room');
  assert.equal(mine.length, 1, `one log message per upgrade: ${JSON.stringify(mine)}`);
  assert.equal(mine[0]!.status, 101);
  assert.equal(mine[0]!.route, 'ws');
  assert.equal(mine[0]!.upgrade, true);
});

test('local replies are logged with their start time and their HTTP version', async (t) => {
  const route: IrRoute = { ...forwardRoute('static', 'none'), action: { kind: 'respond', status: 204, body: '' } };
  const gw = await startGateway(snapshot([httpListener([route])], []));
  const ends: RequestEndMessage[] = [];
  const onEnd = (m: unknown): void => void ends.push(m as RequestEndMessage);
  channels.requestEnd.subscribe(onEnd);
  t.after(async () => {
    channels.requestEnd.unsubscribe(onEnd);
    await gw.close();
  });
  const before = Date.now();
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(gw.httpPort, '127.0.0.1', () => socket.write('GET /x HTTP/1.0\r\nHost: a\r\n\r\n'));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 204/);
  assert.equal(ends.length, 1);
  assert.equal(ends[0]!.protocol, 'HTTP/1.0');
  assert.ok(ends[0]!.startTime >= before - 1 && ends[0]!.startTime + ends[0]!.durationMs <= Date.now() + 1, 'startTime is when the request arrived');
});

test('the request phase stays synchronous without async filters, waits for one that returns a Promise, and stops at the first answer', async () => {
  const ctx = { attributes: new Map() } as unknown as RequestContext;
  const order: string[] = [];
  const sync = (name: string): RequestPhaseFilter => () => {
    order.push(name);
    return CONTINUE;
  };
  assert.equal(runRequestPhase([sync('a'), sync('b')], ctx), CONTINUE, 'no Promise when no filter returns one');
  assert.deepEqual(order, ['a', 'b']);

  order.length = 0;
  const lookup: RequestPhaseFilter = (c) => {
    order.push('lookup');
    return new Promise<FilterOutcome>((resolve) => setTimeout(() => {
      c.attributes.set('consumer', 'acme');
      resolve(CONTINUE);
    }, 10));
  };
  const deny: RequestPhaseFilter = (c) => {
    order.push(`deny for ${String(c.attributes.get('consumer'))}`);
    return { kind: 'respond', status: 429, details: 'rate_limited', headers: ['retry-after', '1'] };
  };
  const pending = runRequestPhase([sync('a'), lookup, deny, sync('never')], ctx);
  assert.ok(pending instanceof Promise);
  const outcome = await pending;
  assert.equal(outcome.kind, 'respond');
  assert.deepEqual(order, ['a', 'lookup', 'deny for acme']);
});
