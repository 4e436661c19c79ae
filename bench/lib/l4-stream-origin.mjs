// The stream benchmark's origin: every connection gets `--bytes` bytes (default 1 GiB) written
// from one reused 1 MiB buffer as fast as the peer takes them, then a FIN. What the client sends
// is read and dropped. Run pinned with the client on the load core (bench/l4.mjs).
//   node bench/lib/l4-stream-origin.mjs --port P [--bytes N]
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, bytes: { type: 'string', default: String(1 << 30) } } });
const port = Number(values.port);
const total = Number(values.bytes);
if (!Number.isInteger(port) || port <= 0 || !Number.isSafeInteger(total) || total <= 0) {
  process.stderr.write('usage: l4-stream-origin.mjs --port P [--bytes N]\n');
  process.exit(2);
}
// Filled once, so the payload costs no allocation per write.
const block = Buffer.alloc(1 << 20, 'isthmus-l4-bench ');

const server = createServer((socket) => {
  socket.on('error', () => {});
  socket.resume();
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      const more = socket.write(n === block.length ? block : block.subarray(0, n));
      if (!more) return void socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`stream origin on 127.0.0.1:${port}, ${total} bytes per connection\n`));
process.on('SIGTERM', () => process.exit(0));
