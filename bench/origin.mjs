// The benchmark origin when nginx is not installed: answers every request with 200 and the
// same 12-byte body as bench/nginx-upstream.conf. Usage: node bench/origin.mjs --port N
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '29000' } }, strict: false });
const BODY = Buffer.from('hello world\n');

const server = createServer((req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
// The proxies keep their upstream connections open between rounds.
server.keepAliveTimeout = 120_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`origin listening on 127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
