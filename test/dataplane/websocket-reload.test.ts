import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { cluster, echoHandler, forwardRoute, httpListener, request, snapshot, startGateway, startUpstream } from './harness.js';

async function startWsUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(echoHandler('ws-http'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.headers['x-forwarded-for']} ${req.url}`);
    ws.on('message', (data) => ws.send(`echo:${data.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (d) => resolve(d.toString()));
    ws.once('error', reject);
  });
}

test('WebSocket upgrade is proxied both ways and survives a configuration reload', async (t) => {
  const wsUp = await startWsUpstream();
  const other = await startUpstream(echoHandler('other'));
  const ir1 = snapshot([httpListener([forwardRoute('ws', 'ws', { path: { kind: 'prefix', value: '/ws' } })])], [cluster('ws', [{ address: '127.0.0.1', port: wsUp.port }])], 1);
  const gw = await startGateway(ir1);
  t.after(async () => {
    await gw.close();
    await wsUp.close();
    await other.close();
  });
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/ws/chat`);
  const greeting = nextMessage(ws);
  await once(ws, 'open');
  assert.equal(await greeting, 'hello 127.0.0.1 /ws/chat');
  ws.send('one');
  assert.equal(await nextMessage(ws), 'echo:one');

  // Reload: /ws now goes elsewhere and a new route appears. The open tunnel must not notice.
  const ir2 = snapshot(
    [httpListener([forwardRoute('new', 'other', { path: { kind: 'prefix', value: '/' } })])],
    [cluster('other', [{ address: '127.0.0.1', port: other.port }])],
    2,
  );
  const applied = await gw.dataPlane.apply(ir2);
  assert.equal(applied.outcome, 'applied');
  const fresh = await request(gw.httpPort, { path: '/ws/chat' });
  assert.equal(JSON.parse(fresh.body).name, 'other', 'new requests see the new configuration');
  ws.send('two');
  assert.equal(await nextMessage(ws), 'echo:two', 'the WebSocket opened before the reload still works');
  ws.close();
  await once(ws, 'close');
});

test('an upgrade with no route gets a JSON 404 on the raw socket', async (t) => {
  const gw = await startGateway(snapshot([httpListener([])], []));
  t.after(() => gw.close());
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/nothing`);
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
  assert.equal(res.statusCode, 404);
  res.resume();
});

test('a long streaming response survives a reload that removes its route and cluster', async (t) => {
  const streamer = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: ${n}\n\n`);
      if (++n === 10) {
        clearInterval(timer);
        res.end();
      }
    }, 50);
  });
  const other = await startUpstream(echoHandler('other'));
  const gw = await startGateway(snapshot([httpListener([forwardRoute('sse', 'sse', { path: { kind: 'prefix', value: '/events' } })])], [cluster('sse', [{ address: '127.0.0.1', port: streamer.port }])], 1));
  t.after(async () => {
    await gw.close();
    await streamer.close();
    await other.close();
  });
  const body = new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.httpPort, path: '/events', agent: false }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c));
      res.on('end', () => resolve(s));
      res.on('error', reject);
    }).on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 150));
  const applied = await gw.dataPlane.apply(snapshot([httpListener([forwardRoute('new', 'other')])], [cluster('other', [{ address: '127.0.0.1', port: other.port }])], 2));
  assert.equal(applied.outcome, 'applied');
  const text = await body;
  assert.equal(text.split('\n\n').filter(Boolean).length, 10, 'all ten events arrived after the reload');
});
