// Fault injection (IR `fault` filter, from Istio's HTTPFaultInjection): aborts for a share of
// requests, gRPC aborts as trailers-only responses, and delays that hold one request without
// holding any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrRoute } from '../../src/ir/types.js';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

test('an abort for 30 % of requests: about that share answered by the gateway, the rest forwarded', async (t) => {
  let forwarded = 0;
  const up = await startUpstream((req, res) => {
    forwarded++;
    echoHandler('up')(req, res);
  });
  const route: IrRoute = forwardRoute('r', 'c', undefined, { filters: [{ kind: 'fault', fault: { abort: { httpStatus: 418, percent: 30 } } }] });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const N = 400;
  let aborted = 0;
  for (let i = 0; i < N; i++) {
    const res = await request(gw.httpPort, { path: `/${i}` });
    if (res.status === 418) {
      aborted++;
      assert.equal(res.body, 'fault filter abort');
    } else assert.equal(res.status, 200);
  }
  assert.ok(aborted > N * 0.2 && aborted < N * 0.4, `aborted ${aborted} of ${N}`);
  assert.equal(forwarded, N - aborted, 'an aborted request never reaches the backend');
});

test('a gRPC abort is a trailers-only answer: HTTP 200 with grpc-status', async (t) => {
  const up = await startUpstream(echoHandler('up'));
  const route: IrRoute = forwardRoute('r', 'c', undefined, { filters: [{ kind: 'fault', fault: { abort: { grpcStatus: 14, percent: 100 } } }] });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const res = await request(gw.httpPort, { path: '/pkg.Svc/Call', method: 'POST' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['grpc-status'], '14');
  assert.equal(res.headers['grpc-message'], 'UNAVAILABLE');
  assert.equal(res.headers['content-type'], 'application/grpc');
});

test('a delay holds its request (not answered before the delay) while another route answers at once', async (t) => {
  const up = await startUpstream(echoHandler('up'));
  const slow: IrRoute = forwardRoute('slow', 'c', { path: { kind: 'prefix', value: '/slow' } }, { filters: [{ kind: 'fault', fault: { delay: { ms: 600, percent: 100 } } }] });
  const fast: IrRoute = forwardRoute('fast', 'c', { path: { kind: 'prefix', value: '/' } });
  const gw = await startGateway(snapshot([httpListener([slow, fast])], [cluster('c', [up])]));
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  let slowDone = false;
  const pending = request(gw.httpPort, { path: '/slow/x' }).then((r) => {
    slowDone = true;
    return r;
  });
  const quick = await request(gw.httpPort, { path: '/fast' });
  assert.equal(quick.status, 200);
  assert.equal(slowDone, false, 'the delayed request is still waiting when the other is answered');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(slowDone, false, 'not answered 200 ms in');
  assert.equal((await pending).status, 200, 'then forwarded');
});
