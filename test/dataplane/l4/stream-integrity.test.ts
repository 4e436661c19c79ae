// The upstream → client direction reads into a reused buffer (upstream-reads.ts). These tests
// would catch the buffer being reused while a write still points into it: 48 MiB of bytes that
// differ per offset go through to a client that stops reading for a while (so writes back up and
// the proxy must pause the upstream), and the client's digest must equal the server's. A
// server-first protocol (a greeting before the client says anything) must also arrive intact.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { L4Server } from '../../../src/dataplane/l4/l4-server.js';
import { backend, connect, l4Listener, local, tcpServer } from './l4-harness.js';

/** 1 MiB blocks whose bytes depend on the block number and offset. */
function block(i: number): Buffer {
  const b = Buffer.allocUnsafe(1 << 20);
  for (let j = 0; j < b.length; j += 4) b.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
  return b;
}

test('a large upstream stream to a client that pauses arrives byte for byte (the read buffer is never reused under a pending write)', async (t) => {
  const BLOCKS = 48;
  const sent = createHash('sha256');
  const upstream = await tcpServer((s) => {
    let i = 0;
    const next = (): void => {
      while (i < BLOCKS) {
        const b = block(i++);
        sent.update(b);
        if (!s.write(b)) {
          s.once('drain', next);
          return;
        }
      }
      s.end();
    };
    next();
  });
  const server = new L4Server();
  t.after(async () => (await server.close(), await upstream.close()));
  await server.apply([l4Listener('tcp/stream', [backend('svc/s', [local(upstream.port)])])]);
  const client = await connect(server.portOf('tcp/stream')!);
  const got = createHash('sha256');
  let bytes = 0;
  let paused = 0;
  await new Promise<void>((resolve, reject) => {
    client.on('data', (d: Buffer) => {
      got.update(d);
      bytes += d.length;
      // Stop reading three times for a while, so the proxy's writes to us back up.
      if (paused < 3 && bytes > (paused + 1) * 12 * (1 << 20)) {
        paused++;
        client.pause();
        setTimeout(() => client.resume(), 150);
      }
    });
    client.on('end', resolve);
    client.on('error', reject);
  });
  client.destroy();
  assert.equal(bytes, BLOCKS << 20);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  assert.equal(paused, 3);
});

test('a greeting the upstream sends before the client speaks arrives first and intact', async (t) => {
  const upstream = await tcpServer((s) => {
    s.write('220 hello from upstream\r\n');
    s.on('data', (d: Buffer) => s.end(`echo ${d.toString()}`));
  });
  const server = new L4Server();
  t.after(async () => (await server.close(), await upstream.close()));
  await server.apply([l4Listener('tcp/greet', [backend('svc/g', [local(upstream.port)])])]);
  const client: net.Socket = await connect(server.portOf('tcp/greet')!);
  let text = '';
  await new Promise<void>((resolve) => {
    client.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.endsWith('\r\n') && !text.includes('echo')) client.write('hi');
    });
    client.on('end', resolve);
  });
  client.destroy();
  assert.equal(text, '220 hello from upstream\r\necho hi');
});

test('small reads while the client is not reading: queued writes keep their bytes (each read goes to a fresh buffer while one is pending)', async (t) => {
  // Lines written in small bursts a turn apart, so the proxy reads them in small chunks; the
  // client does not read at first, so its socket fills and the proxy's writes queue below the
  // high-water mark (write() still says true), each holding a view of a read buffer.
  const LINES = 600_000;
  const upstream = await tcpServer((s) => {
    let i = 0;
    const burst = (): void => {
      let text = '';
      for (let k = 0; k < 100 && i < LINES; k++) text += `line ${i++} of the upstream stream\n`;
      s.write(text);
      if (i < LINES) setImmediate(burst);
      else s.end();
    };
    burst();
  });
  const server = new L4Server();
  t.after(async () => (await server.close(), await upstream.close()));
  await server.apply([l4Listener('tcp/small', [backend('svc/s', [local(upstream.port)])])]);
  const client = await connect(server.portOf('tcp/small')!);
  client.pause();
  await new Promise((r) => setTimeout(r, 1500));
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    client.on('data', (d: Buffer) => chunks.push(d));
    client.on('end', resolve);
    client.on('error', reject);
    client.resume();
  });
  client.destroy();
  const lines = Buffer.concat(chunks).toString().split('\n');
  assert.equal(lines.length, LINES + 1);
  for (let i = 0; i < LINES; i++) if (lines[i] !== `line ${i} of the upstream stream`) assert.fail(`line ${i}: ${JSON.stringify(lines[i])}`);
});
