// A ceiling probe, not a proxy: raw `net` sockets on both sides, one upstream keep-alive socket
// per client connection, requests without a body forwarded as they came, responses framed by
// Content-Length only. No routing, no header edits, no validation, no metrics: what JavaScript on
// this machine's kernel can reach for the bench's request, so that a ratio of Isthmus against
// the bare proxy can be read against the most any Node proxy could add (docs/performance.md).
//
//   node bench/raw-ceiling-proxy.mjs --port 8080 --upstream 127.0.0.1:29000
//
// Like bare-proxy.mjs it also takes the gateway's flags (`--http-port`, `--admin-port`, with the
// upstream from BENCH_UPSTREAM) so `bench/run.mjs --gateway-cmd` can put it in Isthmus' slot.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { serveReady, standInTarget } from './lib/stand-in.mjs';

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'http-port': { type: 'string' }, 'admin-port': { type: 'string' }, upstream: { type: 'string' } },
  strict: false,
  allowPositionals: true,
});
const { port, upstream } = standInTarget(values, 'raw-ceiling-proxy');
const [upstreamHost, upstreamPort] = upstream.split(':');

const server = net.createServer({ noDelay: true }, (client) => {
  const origin = net.connect({ host: upstreamHost, port: Number(upstreamPort), noDelay: true });
  let request = '';
  let response = Buffer.alloc(0);
  let responseBytes = -1;
  client.on('data', (chunk) => {
    request += chunk.toString('latin1');
    const end = request.indexOf('\r\n\r\n');
    if (end === -1) return;
    origin.write(request.slice(0, end + 4), 'latin1');
    request = request.slice(end + 4);
  });
  origin.on('data', (chunk) => {
    response = response.length > 0 ? Buffer.concat([response, chunk]) : chunk;
    if (responseBytes === -1) {
      const end = response.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = /content-length:\s*(\d+)/i.exec(response.toString('latin1', 0, end));
      if (length === null) return client.destroy();
      responseBytes = end + 4 + Number(length[1]);
    }
    if (response.length < responseBytes) return;
    client.write(response.subarray(0, responseBytes));
    response = response.subarray(responseBytes);
    responseBytes = -1;
  });
  client.on('close', () => origin.destroy());
  origin.on('close', () => client.destroy());
  client.on('error', () => undefined);
  origin.on('error', () => undefined);
});
server.listen(port, '127.0.0.1');

const admin = serveReady(values, server);
process.on('SIGTERM', () => {
  server.close();
  admin?.close();
  process.exit(0);
});
