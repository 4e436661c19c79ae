import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

test('drain: stop accepting, let the in-flight request finish, then resolve', async (t) => {
  const up = await startUpstream((_req, res) => setTimeout(() => res.end('slow but complete'), 400));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(() => up.close());
  const inFlight = request(gw.httpPort, { path: '/slow' });
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  const cut = await gw.dataPlane.drain(5_000);
  assert.equal(cut, 0, 'nothing was cut');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'slow but complete');
  assert.ok(Date.now() - started < 4_000, 'drain returned once the request finished, not at the deadline');
  await assert.rejects(request(gw.httpPort, { path: '/' }), /ECONNREFUSED/, 'new connections are refused');
});

test('drain: requests still running at the deadline are cut', async (t) => {
  const up = await startUpstream((_req, res) => setTimeout(() => res.end('too late'), 3_000));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [up])]));
  t.after(() => up.close());
  const inFlight = request(gw.httpPort, { path: '/slow' }).catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 100));
  const cut = await gw.dataPlane.drain(200);
  assert.equal(cut, 1);
  assert.ok((await inFlight) instanceof Error);
});
