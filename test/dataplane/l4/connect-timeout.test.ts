// A connect that hangs (the endpoint's accept queue is full, so its SYNs are dropped) is given up
// after connectTimeoutMs and another endpoint is tried. The hanging endpoint is a real listening
// socket that never accepts: python3 with a backlog of 0 (node always accepts, so it cannot be one).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { backend, connect, echoServer, exchange, l4Listener, local, recordConnectionEnds } from './l4-harness.js';

const NEVER_ACCEPTS = 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)\n';

async function neverAcceptingPort(t: { after(fn: () => void): void }): Promise<number> {
  let child: ChildProcess;
  try {
    child = spawn('python3', ['-c', NEVER_ACCEPTS], { stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (err) {
    throw new Error(`this test needs python3 (Debian package python3-minimal): ${(err as Error).message}`);
  }
  t.after(() => child.kill());
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`this test needs python3 (Debian package python3-minimal): ${err.message}`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  // Fill the accept queue: connections that complete stay queued; once one hangs, so will ours.
  const fillers: net.Socket[] = [];
  t.after(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      s.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 300);
    });
    if (!connected) return port;
  }
  throw new Error('could not fill the accept queue of the never-accepting socket');
}

test('a hanging connect times out after connectTimeoutMs and the next endpoint serves the client', async (t) => {
  const stuck = await neverAcceptingPort(t);
  const echo = await echoServer('live');
  const ends = recordConnectionEnds();
  const server = new L4Server();
  t.after(async () => (ends.stop(), await server.close(), await echo.close()));
  await server.apply([l4Listener('tcp/timeout', [backend('svc/t', [local(stuck), local(echo.port)])], { scheduler: 'rr', connectTimeoutMs: 250 })]);
  const started = Date.now();
  const client = await connect(server.portOf('tcp/timeout')!);
  assert.equal(await exchange(client, 'x', 6), 'live:x');
  const took = Date.now() - started;
  assert.ok(took >= 240 && took < 2_000, `served after ${took} ms: one timed-out attempt first`);
  client.end();
  const m = await ends.waitFor((x) => x.listener === 'tcp/timeout');
  assert.equal(m.endpoint, `127.0.0.1:${echo.port}`);
});
