// The stream benchmark's client: connects, reads until the FIN into one reused buffer (no
// allocation per read), and prints `{"bytes":N,"ms":T}` timed from the connect call to the FIN.
// Exits 1 when the connection fails or ends with fewer than `--expect` bytes.
//   node bench/lib/l4-stream-client.mjs --port P --expect N
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, expect: { type: 'string' } } });
const port = Number(values.port);
const expect = Number(values.expect);
let bytes = 0;
const start = performance.now();
const socket = connect({
  host: '127.0.0.1',
  port,
  onread: { buffer: Buffer.allocUnsafe(256 * 1024), callback: (n) => void (bytes += n) },
});
socket.on('end', () => {
  const ms = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ bytes, ms })}\n`);
  process.exitCode = bytes === expect ? 0 : 1;
  socket.destroy();
});
socket.on('error', (err) => {
  process.stderr.write(`l4-stream-client: ${err.message} after ${bytes} bytes\n`);
  process.exit(1);
});
