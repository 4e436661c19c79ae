// apply() with real connections: an endpoint that goes away drains (open connections keep working
// until the grace, new ones go elsewhere), active counts survive a reload, a removed listener
// unbinds and drains.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { backend, connect, echoServer, exchange, l4Listener, local, readAll, recordConnectionEnds } from './l4-harness.js';

const ends = recordConnectionEnds();
after(() => ends.stop());

test('an endpoint removed by apply: its connection works until drainTimeoutMs, new ones go elsewhere', async (t) => {
  const a = await echoServer('a');
  const b = await echoServer('b');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close(), await b.close()));
  const make = (port: number) => l4Listener('tcp/drain', [backend('svc/d', [local(port)])], { drainTimeoutMs: 500 });
  await server.apply([make(a.port)]);
  const port = server.portOf('tcp/drain')!;
  const old = await connect(port);
  assert.equal(await exchange(old, '1', 3), 'a:1');
  const applied = Date.now();
  const result = await server.apply([make(b.port)]);
  assert.deepEqual(result.updated, ['tcp/drain']);
  assert.equal(server.portOf('tcp/drain'), port, 'the same bind is kept');
  // The old connection still works within the grace...
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await exchange(old, '2', 3), 'a:2');
  // ...a new one goes to the new endpoint...
  const fresh = await connect(port);
  assert.equal(await exchange(fresh, '3', 3), 'b:3');
  // ...and the old one is closed once the grace is over.
  await readAll(old);
  assert.ok(Date.now() - applied >= 450, `closed after ${Date.now() - applied} ms`);
  const m = await ends.waitFor((x) => x.listener === 'tcp/drain' && x.reason === 'drained');
  assert.equal(m.endpoint, `127.0.0.1:${a.port}`);
  assert.equal(await exchange(fresh, '4', 3), 'b:4', 'the connection to the kept endpoint is untouched');
  fresh.destroy();
});

test('active connection counts survive a reload: lc keeps steering away from the busy endpoint', async (t) => {
  const a = await echoServer('a');
  const b = await echoServer('b');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close(), await b.close()));
  const config = [l4Listener('tcp/lc', [backend('svc/lc', [local(a.port), local(b.port)])], { scheduler: 'lc' })];
  await server.apply(config);
  const port = server.portOf('tcp/lc')!;
  const first = await connect(port);
  assert.equal(await exchange(first, 'x', 3), 'a:x');
  await server.apply(config.map((l) => ({ ...l })));
  const second = await connect(port);
  assert.equal(await exchange(second, 'y', 3), 'b:y', 'a still counts one active connection after the reload');
  first.destroy();
  await ends.waitFor((x) => x.listener === 'tcp/lc');
  const third = await connect(port);
  assert.equal(await exchange(third, 'z', 3), 'a:z');
  second.destroy();
  third.destroy();
});

test('a listener removed by apply stops accepting and its connections drain', async (t) => {
  const a = await echoServer('a');
  const server = new L4Server();
  t.after(async () => (await server.close(), await a.close()));
  await server.apply([l4Listener('tcp/gone', [backend('svc/g', [local(a.port)])], { drainTimeoutMs: 300 })]);
  const port = server.portOf('tcp/gone')!;
  const open = await connect(port);
  assert.equal(await exchange(open, '1', 3), 'a:1');
  const result = await server.apply([]);
  assert.deepEqual(result.removed, ['tcp/gone']);
  await assert.rejects(connect(port), /ECONNREFUSED/);
  assert.equal(await exchange(open, '2', 3), 'a:2');
  await readAll(open);
  assert.equal((await ends.waitFor((x) => x.listener === 'tcp/gone')).reason, 'drained');
});
