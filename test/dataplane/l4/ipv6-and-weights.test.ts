// An IPv6 listener and endpoint on ::1 with a PROXY v2 header of the IPv6 form, and backend
// weights (Gateway API backendRef weights) splitting connections between two backends.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { seededRandom } from '../../../src/core/random.js';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { parseProxyHeader } from '../../../src/dataplane/l4/proxy-protocol.js';
import { backend, connect, echoServer, exchange, l4Listener, local } from './l4-harness.js';

test('IPv6: a listener on ::1 proxies to an endpoint on ::1 and writes a v2 header with IPv6 addresses', async (t) => {
  let header: ReturnType<typeof parseProxyHeader> | undefined;
  const upstream = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const h = parseProxyHeader(buf);
      if (h.kind === 'header' && buf.length > h.consumed) {
        header = h;
        s.end(`six:${buf.subarray(h.consumed).toString()}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    upstream.once('error', (e) => reject(new Error(`cannot listen on ::1 (is IPv6 loopback enabled?): ${e.message}`)));
    upstream.listen(0, '::1', resolve);
  });
  const server = new L4Server();
  t.after(async () => (await server.close(), await new Promise((r) => upstream.close(r))));
  const port = (upstream.address() as net.AddressInfo).port;
  const result = await server.apply([{ ...l4Listener('tcp/v6', [backend('svc/v6', [{ address: '::1', port }], { proxyProtocol: 'v2' })]), address: '::1' }]);
  assert.deepEqual(result.failed, []);
  const client = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '::1', port: server.portOf('tcp/v6')! }, () => resolve(s));
    s.once('error', reject);
  });
  assert.equal(await exchange(client, 'hi', 1000), 'six:hi');
  assert.ok(header?.kind === 'header');
  assert.deepEqual(header.source, { address: '::1', port: client.localPort });
  assert.deepEqual(header.destination, { address: '::1', port: server.portOf('tcp/v6') });
});

test('backend weights 3:1 split connections about 3:1', async (t) => {
  const heavy = await echoServer('h');
  const light = await echoServer('l');
  const server = new L4Server({ random: seededRandom(7) });
  t.after(async () => (await server.close(), await heavy.close(), await light.close()));
  await server.apply([l4Listener('tcp/weights', [backend('svc/h', [local(heavy.port)], { weight: 3 }), backend('svc/l', [local(light.port)], { weight: 1 })])]);
  const port = server.portOf('tcp/weights')!;
  const counts = { h: 0, l: 0 };
  for (let i = 0; i < 200; i++) {
    const c = await connect(port);
    const answer = await exchange(c, '.', 3);
    counts[answer[0] as 'h' | 'l']++;
    c.destroy();
  }
  assert.ok(counts.h > 120 && counts.h < 180, JSON.stringify(counts));
  assert.equal(counts.h + counts.l, 200);
});
