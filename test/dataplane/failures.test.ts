import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';
import { ManualClock } from '../../src/core/clock.js';
import type { IrRoute } from '../../src/ir/types.js';

/** A port on which nothing listens (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A gateway whose one cluster has a refusing endpoint and a live one (round robin meets both). */
async function deadAndLiveEndpoints(t: { after(fn: () => Promise<void>): void }) {
  const up = await startUpstream(echoHandler('alive'));
  const dead = await deadPort();
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port: dead }, { address: '127.0.0.1', port: up.port }])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  return gw;
}

test('connect failure: an idempotent request is retried once on another endpoint', async (t) => {
  const gw = await deadAndLiveEndpoints(t);
  for (let i = 0; i < 4; i++) {
    const res = await request(gw.httpPort, { path: '/' });
    assert.equal(res.status, 200, `request ${i} reaches the live endpoint`);
  }
});

test('a PUT with a small body is kept and retried on another endpoint after a connect failure', async (t) => {
  const gw = await deadAndLiveEndpoints(t);
  for (let i = 0; i < 4; i++) {
    const res = await request(gw.httpPort, { method: 'PUT', path: '/item', body: `payload-${i}`, headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200, `PUT ${i} reaches the live endpoint`);
    assert.equal(JSON.parse(res.body).body, `payload-${i}`, 'the retried request carries the whole body');
  }
});

test('every endpoint refusing gives 502 upstream_connect_error; POST with a body is not retried', async (t) => {
  const dead = await deadPort();
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port: dead }])]));
  t.after(() => gw.close());
  const res = await request(gw.httpPort, { path: '/' });
  assert.equal(res.status, 502);
  assert.equal(JSON.parse(res.body).reason, 'upstream_connect_error');
  const post = await request(gw.httpPort, { method: 'POST', path: '/', body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(post.status, 502);
});

test('an upstream that resets mid-response cuts the downstream response; the gateway keeps serving', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (req.url === '/reset-early') {
      req.socket.resetAndDestroy();
      return;
    }
    res.end('fine');
  });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  await assert.rejects(request(gw.httpPort, { path: '/reset' }), /aborted|socket hang up|ECONNRESET/);
  const early = await request(gw.httpPort, { path: '/reset-early', method: 'POST', body: 'x' });
  assert.equal(early.status, 502);
  assert.equal(JSON.parse(early.body).reason, 'upstream_reset');
  const ok = await request(gw.httpPort, { path: '/ok' });
  assert.equal(ok.body, 'fine');
});

test('a route timeout answers 504 upstream_timeout', async (t) => {
  const up = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 1500));
  const route = forwardRoute('r', 'c', { path: { kind: 'prefix', value: '/' } }, { timeouts: { requestMs: 200 } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, { path: '/slow' });
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).reason, 'upstream_timeout');
});

test('passive health ejects an endpoint after consecutive failures and brings it back after the back-off', async (t) => {
  const clock = new ManualClock(0, 0);
  let failing = true;
  const bad = await startUpstream((_req, res) => {
    res.writeHead(failing ? 503 : 200);
    res.end(failing ? 'bad' : 'bad-recovered');
  });
  const good = await startUpstream((_req, res) => res.end('good'));
  const c = cluster('c', [bad, good], { passiveHealth: { consecutiveFailures: 2, baseEjectionMs: 10_000, maxEjectionMs: 60_000 } });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [c]), { clock });
  t.after(async () => {
    await gw.close();
    await bad.close();
    await good.close();
  });
  const bodies: string[] = [];
  for (let i = 0; i < 6; i++) bodies.push((await request(gw.httpPort, { path: '/' })).body);
  assert.equal(bodies.filter((b) => b === 'bad').length, 2, 'two 503s, then the endpoint is ejected');
  const upstreams = gw.dataPlane.upstreams() as { clusters: { endpoints: { port: number; healthy: boolean }[] }[] };
  assert.equal(upstreams.clusters[0]!.endpoints.find((e) => e.port === bad.port)!.healthy, false);
  failing = false;
  clock.advance(10_001);
  const after: string[] = [];
  for (let i = 0; i < 4; i++) after.push((await request(gw.httpPort, { path: '/' })).body);
  assert.ok(after.includes('bad-recovered'), `the endpoint is back after the back-off: ${after.join(',')}`);
});

test('panic mode: when every endpoint is ejected, requests still go to them rather than all getting 503', async (t) => {
  const clock = new ManualClock(0, 0);
  let calls = 0;
  const only = await startUpstream((_req, res) => {
    calls++;
    res.writeHead(calls <= 2 ? 503 : 200);
    res.end(calls <= 2 ? 'down' : 'up');
  });
  const c = cluster('c', [only], { passiveHealth: { consecutiveFailures: 2, baseEjectionMs: 60_000, maxEjectionMs: 60_000 } });
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [c]), { clock });
  t.after(async () => {
    await gw.close();
    await only.close();
  });
  assert.equal((await request(gw.httpPort, { path: '/' })).status, 503);
  assert.equal((await request(gw.httpPort, { path: '/' })).status, 503);
  const upstreams = gw.dataPlane.upstreams() as { clusters: { endpoints: { healthy: boolean }[] }[] };
  assert.equal(upstreams.clusters[0]!.endpoints[0]!.healthy, false, 'the only endpoint is ejected');
  const after = await request(gw.httpPort, { path: '/' });
  assert.equal(after.status, 200, 'and still reached');
  assert.equal(after.body, 'up');
});

test('no endpoints at all gives 503 no_healthy_upstream', async (t) => {
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [])]));
  t.after(() => gw.close());
  const res = await request(gw.httpPort, { path: '/' });
  assert.equal(res.status, 503);
  assert.equal(JSON.parse(res.body).reason, 'no_healthy_upstream');
});

void http;

test('an upstream that stalls mid-body is cut after the idle timeout; slow headers hit the backend timeout', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('start');
      return; // never finishes
    }
    setTimeout(() => res.end('late'), 2000);
  });
  const idle = forwardRoute('idle', 'c', { path: { kind: 'exact', value: '/stall' } }, { timeouts: { idleMs: 300 } });
  const slow = forwardRoute('slow', 'c', { path: { kind: 'prefix', value: '/' } }, { timeouts: { backendRequestMs: 300 } });
  const gw = await startGateway(snapshot([httpListener([idle, slow])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const started = Date.now();
  await assert.rejects(request(gw.httpPort, { path: '/stall' }), /aborted|socket hang up|ECONNRESET/);
  assert.ok(Date.now() - started < 1500, 'cut by the idle timeout, not by anything longer');
  const res = await request(gw.httpPort, { path: '/headers-late' });
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).reason, 'upstream_timeout');
});

/**
 * An address where TCP connects hang: a listener in a stopped child process never accepts, so once
 * its accept queue is full the kernel drops further SYNs (the way a firewall black-holes traffic).
 */
async function blackHole(t: { after(fn: () => void): void }): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ host: '127.0.0.1', port: 0, backlog: 1 }, function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  process.kill(child.pid!, 'SIGSTOP');
  // Fill the accept queue; a connect that does not complete within 300 ms means it is full.
  for (let i = 0; i < 16; i++) {
    const connected = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      t.after(() => s.destroy());
      const timer = setTimeout(() => resolve(false), 300);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (!connected) return port;
  }
  throw new Error('could not fill the accept queue');
}

test('a connect that hangs ends in 504 upstream_connect_timeout after the cluster connect timeout', async (t) => {
  const port = await blackHole(t);
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port }], { connectTimeoutMs: 300 })]));
  t.after(() => gw.close());
  const started = Date.now();
  const res = await request(gw.httpPort, { path: '/' });
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).reason, 'upstream_connect_timeout');
  assert.ok(Date.now() - started < 3000, 'answered after the connect timeout, not a longer one');
});

test('a route the configuration cannot serve answers with the documented local-reply shape', async (t) => {
  const broken: IrRoute = { ...forwardRoute('broken', 'none', { path: { kind: 'prefix', value: '/b' } }), action: { kind: 'reject', reason: 'invalid_backend' } };
  const unsupported: IrRoute = { ...forwardRoute('unsupported', 'none', { path: { kind: 'prefix', value: '/u' } }), action: { kind: 'reject', reason: 'invalid_route' } };
  const gw = await startGateway(snapshot([httpListener([broken, unsupported])], []));
  t.after(() => gw.close());
  for (const [path, status, reason] of [['/b', 503, 'invalid_backend'], ['/u', 500, 'invalid_route']] as const) {
    const res = await request(gw.httpPort, { path });
    assert.equal(res.status, status);
    assert.equal(res.headers['content-type'], 'application/json');
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['status', 'reason', 'message', 'request_id']);
    assert.equal(body.status, status);
    assert.equal(body.reason, reason);
    assert.equal(body.request_id, res.headers['x-request-id']);
  }
});
