// The route retry policy with real clients and upstreams: per-try deadlines (fired by hand through
// ManualTimers, never by sleeping), which statuses each condition retries, backoff waits between
// tries, the whole-request timeout over everything, and bodies that cannot be sent twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream, type SimpleResponse } from './harness.js';
import { ManualTimers, type PendingTimer } from '../../src/core/timers.js';
import type { IrRetryPolicy, IrRoute } from '../../src/ir/types.js';

/** Waits (without asserting on time) until `cond` holds; fails after many polls. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

function retryRoute(name: string, prefix: string, retry: IrRetryPolicy, extra: Partial<IrRoute> = {}): IrRoute {
  return forwardRoute(name, 'c', { path: { kind: 'prefix', value: prefix } }, { retry, ...extra });
}

const PER_TRY_MS = 5_000;
const isPerTry = (t: PendingTimer): boolean => t.ms === PER_TRY_MS;

/** An upstream that never answers the first `hang` requests of each id, then answers 200 with the try number. */
async function hangingUpstream(hang: number) {
  const calls = new Map<string, number>();
  const up = await startUpstream((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    const n = (calls.get(id) ?? 0) + 1;
    calls.set(id, n);
    if (n <= hang) return; // holds the request until the gateway gives up on it
    res.writeHead(200, { 'content-type': 'text/plain', 'x-try': String(n) });
    res.end('ok');
  });
  return { up, calls };
}

test('a try that outlives its per-try deadline is aborted and the next try answers', async (t) => {
  const { up, calls } = await hangingUpstream(1);
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 1, retryOn: [{ kind: 'per-try-timeout' }], backoff: { baseMs: 0 } }, { timeouts: { backendRequestMs: PER_TRY_MS } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });

  const pending = request(gw.httpPort, { path: '/?id=a' });
  await until(() => calls.get('a') === 1, 'the first try reaches the upstream');
  assert.equal(timers.pending.filter(isPerTry).length, 1, 'the first try has its own deadline');
  assert.ok(timers.fire(isPerTry), 'the per-try deadline expires');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-try'], '2', 'the second try answered');
  assert.equal(calls.get('a'), 2);
  assert.equal(timers.pending.filter(isPerTry).length, 0, 'the answered try\'s deadline was cleared');
});

test('per-try deadlines exhausted: 504 upstream_timeout after 1 + attempts tries', async (t) => {
  const { up, calls } = await hangingUpstream(Infinity);
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 2, retryOn: [{ kind: 'gateway-error' }], backoff: { baseMs: 0 } }, { timeouts: { backendRequestMs: PER_TRY_MS } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });

  const pending = request(gw.httpPort, { path: '/?id=b' });
  for (let n = 1; n <= 3; n++) {
    await until(() => calls.get('b') === n, `try ${n} reaches the upstream`);
    assert.ok(timers.fire(isPerTry), `try ${n}'s deadline expires`);
  }
  const res = await pending;
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).reason, 'upstream_timeout');
  assert.equal(calls.get('b'), 3, 'one try and two retries, no more');
});

test('a per-try deadline without a per-try-timeout condition answers 504 at once', async (t) => {
  const { up, calls } = await hangingUpstream(Infinity);
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 3, retryOn: [{ kind: 'retriable-status-codes', codes: [503] }] }, { timeouts: { backendRequestMs: PER_TRY_MS } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const pending = request(gw.httpPort, { path: '/?id=c' });
  await until(() => calls.get('c') === 1, 'the try reaches the upstream');
  timers.fire(isPerTry);
  assert.equal((await pending).status, 504);
  assert.equal(calls.get('c'), 1);
});

test('5xx, gateway-error, retriable-4xx and retriable-status-codes each retry their own statuses', async (t) => {
  const calls = new Map<string, number>();
  // Fails once with ?code=, then answers 200.
  const up = await startUpstream((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const id = url.pathname + url.search;
    const n = (calls.get(id) ?? 0) + 1;
    calls.set(id, n);
    res.writeHead(n === 1 ? Number(url.searchParams.get('code')) : 200, { 'content-type': 'text/plain' });
    res.end(n === 1 ? 'failed' : 'ok');
  });
  const policy = (retryOn: IrRetryPolicy['retryOn']): IrRetryPolicy => ({ attempts: 1, retryOn, backoff: { baseMs: 0 } });
  const routes = [
    retryRoute('5xx', '/5xx', policy([{ kind: '5xx' }])),
    retryRoute('gw', '/gw', policy([{ kind: 'gateway-error' }])),
    retryRoute('4xx', '/4xx', policy([{ kind: 'retriable-4xx' }])),
    retryRoute('codes', '/codes', policy([{ kind: 'retriable-status-codes', codes: [418, 500] }])),
  ];
  const gw = await startGateway(snapshot([httpListener(routes)], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const expectations: [string, number, boolean][] = [
    ['/5xx', 500, true],
    ['/5xx', 501, true],
    ['/5xx', 504, true],
    ['/5xx', 409, false],
    ['/gw', 502, true],
    ['/gw', 503, true],
    ['/gw', 504, true],
    ['/gw', 500, false],
    ['/4xx', 409, true],
    ['/4xx', 503, false],
    ['/codes', 418, true],
    ['/codes', 500, true],
    ['/codes', 503, false],
  ];
  for (const [path, code, retried] of expectations) {
    const target = `${path}?code=${code}`;
    const res: SimpleResponse = await request(gw.httpPort, { path: target });
    assert.equal(res.status, retried ? 200 : code, `${target}: ${retried ? 'retried' : 'relayed'}`);
    assert.equal(calls.get(target), retried ? 2 : 1, `${target}: tries`);
  }
});

test('backoff: each retry waits its timer, at least the base, growing up to the cap', async (t) => {
  let tries = 0;
  const up = await startUpstream((_req, res) => {
    tries++;
    res.writeHead(tries <= 3 ? 503 : 200, { 'content-type': 'text/plain', 'x-try': String(tries) });
    res.end();
  });
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 3, retryOn: [{ kind: 'gateway-error' }], backoff: { baseMs: 100, maxMs: 300 } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });

  const pending = request(gw.httpPort, { path: '/' });
  const waits: number[] = [];
  for (let n = 1; n <= 3; n++) {
    await until(() => timers.pending.length === 1, `retry ${n} waits for its backoff`);
    assert.equal(tries, n, `retry ${n} has not gone out before its backoff ends`);
    waits.push(timers.pending[0]!.ms);
    timers.fire();
  }
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-try'], '4');
  assert.equal(waits[0], 100, 'the first retry waits the base');
  assert.ok(waits[1]! >= 100 && waits[1]! <= 200, `the second waits in [base, 2 × base]: ${waits[1]}`);
  assert.ok(waits[2]! >= 100 && waits[2]! <= 300, `the third waits in [base, cap]: ${waits[2]}`);
});

test('the whole-request timeout bounds a retry waiting out its backoff', async (t) => {
  let tries = 0;
  const up = await startUpstream((_req, res) => {
    tries++;
    res.writeHead(503);
    res.end();
  });
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 3, retryOn: [{ kind: 'gateway-error' }], backoff: { baseMs: 60_000 } }, { timeouts: { requestMs: 100 } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, { path: '/' });
  assert.equal(res.status, 504);
  assert.equal(JSON.parse(res.body).reason, 'upstream_timeout');
  assert.equal(tries, 1);
  assert.equal(timers.pending.length, 0, 'the waiting retry was cancelled');
});

test('a POST with a streamed body (no Content-Length) is never retried; one with a small Content-Length is', { timeout: 10_000 }, async (t) => {
  const seen: { path: string; body: string }[] = [];
  const up = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString() });
      res.writeHead(503);
      res.end();
    });
  });
  const route = retryRoute('r', '/', { attempts: 2, retryOn: [{ kind: '5xx' }], allowNonIdempotent: true, backoff: { baseMs: 0 } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });

  const streamed = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.httpPort, method: 'POST', path: '/streamed', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    // No Content-Length: node sends Transfer-Encoding: chunked.
    req.write('part-1,');
    setImmediate(() => req.end('part-2'));
  });
  assert.equal(streamed, 503, 'the first answer is relayed');
  assert.deepEqual(seen.filter((s) => s.path === '/streamed').map((s) => s.body), ['part-1,part-2'], 'one try only');

  const sized = await request(gw.httpPort, { method: 'POST', path: '/sized', body: 'hello', headers: { 'content-length': '5' } });
  assert.equal(sized.status, 503);
  assert.deepEqual(seen.filter((s) => s.path === '/sized').map((s) => s.body), ['hello', 'hello', 'hello'], 'the kept body went out with each of three tries');
});

test('a per-try timeout on a streamed body answers 504 without resending it', { timeout: 10_000 }, async (t) => {
  const { up, calls } = await hangingUpstream(Infinity);
  const timers = new ManualTimers();
  const route = retryRoute('r', '/', { attempts: 2, retryOn: [{ kind: 'per-try-timeout' }], allowNonIdempotent: true, backoff: { baseMs: 0 } }, { timeouts: { backendRequestMs: PER_TRY_MS } });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]), { timers });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const pending = new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.httpPort, method: 'POST', path: '/?id=s', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write('stream'); // no Content-Length: chunked
    setImmediate(() => req.end('ed'));
  });
  await until(() => calls.get('s') === 1, 'the try reaches the upstream');
  timers.fire(isPerTry);
  assert.equal(await pending, 504);
  assert.equal(calls.get('s'), 1);
  assert.equal(timers.pending.length, 0);
});
