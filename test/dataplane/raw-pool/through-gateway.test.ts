// The raw pool behind the real data plane: a client's request through a DataPlane whose transport
// is RawTransport, to hand-written upstreams. What the client sees must be what it sees with
// undici: 502 upstream_protocol_error for a smuggling-shaped response, the body and trailers
// relayed, a keep-alive race invisible, and `--upstream-client` parsed as documented.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { DataPlane } from '../../../src/dataplane/data-plane.js';
import { RawTransport } from '../../../src/dataplane/upstream/raw-pool/raw-transport.js';
import { systemClock } from '../../../src/core/clock.js';
import { seededRandom } from '../../../src/core/random.js';
import { parseRunArgs, UsageError } from '../../../src/cli/args.js';
import type { IrSnapshot } from '../../../src/ir/types.js';
import { cluster, forwardRoute, httpListener, request, snapshot } from '../harness.js';
import { answerEach, OK, startRawServer } from './raw-harness.js';

async function startRawGateway(t: { after(fn: () => unknown): void }, ir: IrSnapshot): Promise<number> {
  const dataPlane = new DataPlane({ trustedProxies: [], transport: new RawTransport(), clock: systemClock, random: seededRandom(7) });
  const result = await dataPlane.apply(ir);
  assert.equal(result.outcome, 'applied');
  t.after(() => dataPlane.drain(100));
  return dataPlane.boundPorts().find((p) => p.protocol === 'http')!.port;
}

test('a response with Content-Length and Transfer-Encoding becomes 502 upstream_protocol_error', async (t) => {
  const up = await startRawServer(t, (s) => answerEach(s, () => 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
  const port = await startRawGateway(t, snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port: up.port }])]));
  const res = await request(port, { path: '/' });
  assert.equal(res.status, 502);
  assert.equal(JSON.parse(res.body).reason, 'upstream_protocol_error');
});

test('chunked body and trailers reach an HTTP/1.1 client', async (t) => {
  const up = await startRawServer(t, (s) => answerEach(s, () => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n'));
  const port = await startRawGateway(t, snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port: up.port }])]));
  const got = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { te: 'trailers' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ body, trailers: res.trailers }));
    }).on('error', reject);
  });
  assert.equal(got.body, 'abc');
  assert.equal(got.trailers['x-sum'], '42');
});

test('a keep-alive race upstream is invisible to the client', async (t) => {
  const up = await startRawServer(t, (s, index) =>
    answerEach(s, (_head, i) => {
      if (index === 0 && i === 1) return void s.destroy();
      return OK;
    }),
  );
  const port = await startRawGateway(t, snapshot([httpListener([forwardRoute('r', 'c')])], [cluster('c', [{ address: '127.0.0.1', port: up.port }])]));
  assert.equal((await request(port, { path: '/' })).status, 200);
  // A GET: no body, so nothing stands in the way of sending it again.
  const second = await request(port, { path: '/', method: 'GET' });
  assert.equal(second.status, 200);
  assert.equal(second.body, 'ok');
  assert.equal(up.sockets.length, 2);
});

test('--upstream-client: raw or undici, default raw, anything else refused', () => {
  assert.equal(parseRunArgs(['--upstream-client', 'raw']).upstreamClient, 'raw');
  assert.equal(parseRunArgs(['--upstream-client', 'undici']).upstreamClient, 'undici');
  assert.equal(parseRunArgs([]).upstreamClient, 'raw');
  assert.throws(() => parseRunArgs(['--upstream-client', 'fast']), UsageError);
});
