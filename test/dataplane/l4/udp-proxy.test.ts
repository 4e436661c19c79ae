// UDP flows with real dgram sockets: DNS-style request/response from two clients, replies to the
// right client, a flow per client pinned to its endpoint, idle expiry.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { backend, l4Listener, local, recordConnectionEnds } from './l4-harness.js';

const ends = recordConnectionEnds();
after(() => ends.stop());

/**
 * A DNS-like server: a 2-byte query id, then a name; it answers with the same id, its own name and
 * the question, as a resolver echoes the id so the client can match answers to questions.
 */
async function dnsLikeServer(name: string): Promise<{ port: number; queries: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const state = { port: 0, queries: 0, close: () => new Promise<void>((r) => socket.close(() => r())) };
  socket.on('message', (msg, rinfo) => {
    state.queries++;
    const id = msg.subarray(0, 2);
    socket.send(Buffer.concat([id, Buffer.from(`${name} answers ${msg.subarray(2).toString()}`)]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  state.port = socket.address().port;
  return state;
}

async function udpClient(): Promise<{ ask(port: number, id: number, q: string): Promise<string>; port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: socket.address().port,
    ask: (port, id, q) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to query ${id}`)), 2_000);
        const onMessage = (msg: Buffer): void => {
          if (msg.readUInt16BE(0) !== id) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(msg.subarray(2).toString());
        };
        socket.on('message', onMessage);
        const head = Buffer.alloc(2);
        head.writeUInt16BE(id);
        socket.send(Buffer.concat([head, Buffer.from(q)]), port, '127.0.0.1');
      }),
    close: () => socket.close(),
  };
}

test('two clients exchange DNS-style datagrams; each gets its own answers from its own endpoint', async (t) => {
  const ns1 = await dnsLikeServer('ns1');
  const ns2 = await dnsLikeServer('ns2');
  const server = new L4Server();
  const c1 = await udpClient();
  const c2 = await udpClient();
  t.after(async () => (c1.close(), c2.close(), await server.close(), await ns1.close(), await ns2.close()));
  await server.apply([{ ...l4Listener('udp/dns', [backend('svc/dns', [local(ns1.port), local(ns2.port)])]), protocol: 'UDP', idleTimeoutMs: 5_000 }]);
  const port = server.portOf('udp/dns')!;
  // rr over two endpoints: the first flow takes ns1, the second ns2; each flow stays on its endpoint.
  const a1 = await c1.ask(port, 1, 'shop.example.');
  const a2 = await c2.ask(port, 2, 'cart.example.');
  assert.notEqual(a1.slice(0, 3), a2.slice(0, 3), 'two flows on two endpoints');
  const answers = await Promise.all([c1.ask(port, 3, 'a.'), c2.ask(port, 4, 'b.'), c1.ask(port, 5, 'c.')]);
  assert.deepEqual(answers, [`${a1.slice(0, 3)} answers a.`, `${a2.slice(0, 3)} answers b.`, `${a1.slice(0, 3)} answers c.`]);
  assert.equal(ns1.queries + ns2.queries, 5);
  assert.equal(server.openConnectionsOf('udp/dns'), 2);
});

test('a flow is forgotten after idleTimeoutMs without datagrams, and the end is reported', async (t) => {
  const ns = await dnsLikeServer('ns');
  const server = new L4Server();
  const c = await udpClient();
  t.after(async () => (c.close(), await server.close(), await ns.close()));
  await server.apply([{ ...l4Listener('udp/idle', [backend('svc/dns', [local(ns.port)])]), protocol: 'UDP', idleTimeoutMs: 200 }]);
  assert.equal(await c.ask(server.portOf('udp/idle')!, 7, 'x.'), 'ns answers x.');
  assert.equal(server.openConnectionsOf('udp/idle'), 1);
  const m = await ends.waitFor((x) => x.listener === 'udp/idle');
  assert.equal(m.reason, 'idle_timeout');
  assert.equal(m.clientPort, c.port);
  assert.equal(m.bytesIn, 4);
  assert.equal(m.bytesOut, 'ns answers x.'.length + 2);
  assert.equal(server.openConnectionsOf('udp/idle'), 0);
  // A new datagram opens a new flow.
  assert.equal(await c.ask(server.portOf('udp/idle')!, 8, 'y.'), 'ns answers y.');
});

test('a UDP flow to a removed endpoint drains: answered until the grace, then the client moves', async (t) => {
  const ns1 = await dnsLikeServer('ns1');
  const ns2 = await dnsLikeServer('ns2');
  const server = new L4Server();
  const c = await udpClient();
  t.after(async () => (c.close(), await server.close(), await ns1.close(), await ns2.close()));
  const make = (port: number) => ({ ...l4Listener('udp/drain', [backend('svc/dns', [local(port)])]), protocol: 'UDP' as const, idleTimeoutMs: 5_000, drainTimeoutMs: 300 });
  await server.apply([make(ns1.port)]);
  const port = server.portOf('udp/drain')!;
  assert.equal(await c.ask(port, 1, 'a.'), 'ns1 answers a.');
  await server.apply([make(ns2.port)]);
  assert.equal(await c.ask(port, 2, 'b.'), 'ns1 answers b.', 'the flow keeps its endpoint within the grace');
  assert.equal((await ends.waitFor((x) => x.listener === 'udp/drain')).reason, 'drained');
  assert.equal(await c.ask(port, 3, 'c.'), 'ns2 answers c.');
});
