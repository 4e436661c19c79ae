// A WebSocket through the real command stays open and working across configuration reloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocket, type RawData } from 'ws';
import { appliedGeneration, configDir, get, ingressYaml, pollUntil, serviceYaml, startEcho, startGateway } from './cli-harness.js';

const HOST = 'ws.test';

function nextMessage(ws: WebSocket): Promise<{ data: RawData; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => reject(new Error('the WebSocket closed while a message was awaited'));
    ws.once('message', (data, isBinary) => {
      ws.off('close', onClose);
      resolve({ data, isBinary });
    });
    ws.once('close', onClose);
  });
}

async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(text);
  const { data, isBinary } = await reply;
  assert.equal(isBinary, false);
  return data.toString();
}

test('a WebSocket through the gateway survives two config reloads', async (t) => {
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const beta = await startEcho(t, '127.0.0.3', 'beta');
  const dir = configDir(t, {
    'services.yaml': `${serviceYaml(alpha)}---\n${serviceYaml(beta)}`,
    'ingress.yaml': ingressYaml('ws', HOST, [{ path: '/ws', service: 'alpha' }]),
  });
  const gateway = await startGateway(t, { config: [dir] });

  const ws = new WebSocket(`ws://127.0.0.1:${gateway.httpPort}/ws`, { headers: { host: HOST } });
  t.after(() => ws.terminate());
  let closed: { code: number; reason: string } | undefined;
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  await once(ws, 'open');
  assert.equal(await roundTrip(ws, 'before'), 'before');

  // Reload 1: /ws now goes to beta and a new path appears. Reload 2: /ws is removed altogether.
  const reloads: ReadonlyArray<Parameters<typeof ingressYaml>[2]> = [
    [{ path: '/ws', service: 'beta' }, { path: '/new', service: 'beta' }],
    [{ path: '/new', service: 'alpha' }],
  ];
  for (const [i, paths] of reloads.entries()) {
    const generation = await appliedGeneration(gateway.adminPort);
    writeFileSync(path.join(dir, 'ingress.yaml'), ingressYaml('ws', HOST, paths));
    await pollUntil(`reload ${i + 1} to apply`, async () => ((await appliedGeneration(gateway.adminPort)) > generation ? true : undefined), 3000);
    const probe = await get(gateway.httpPort, '/new', HOST);
    assert.equal(probe.status, 200, 'the new configuration serves');
    assert.equal(ws.readyState, WebSocket.OPEN, `closed by reload ${i + 1}: ${JSON.stringify(closed)}`);
    assert.equal(await roundTrip(ws, `after reload ${i + 1}`), `after reload ${i + 1}`);
  }

  // Binary frames still flow both ways on the old tunnel.
  const reply = nextMessage(ws);
  ws.send(Buffer.from([0, 1, 2, 255]));
  const { data, isBinary } = await reply;
  assert.equal(isBinary, true);
  assert.deepEqual([...(data as Buffer)], [0, 1, 2, 255]);

  // A new upgrade follows the new configuration: /ws no longer has a route.
  const refused = new WebSocket(`ws://127.0.0.1:${gateway.httpPort}/ws`, { headers: { host: HOST } });
  refused.on('error', () => undefined); // terminate() before the handshake completes reports an error
  const [request, response] = (await once(refused, 'unexpected-response')) as [http.ClientRequest, http.IncomingMessage];
  assert.equal(response.statusCode, 404);
  request.destroy();
  assert.equal(closed, undefined);
  ws.close(1000, 'done');
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1000);
});
