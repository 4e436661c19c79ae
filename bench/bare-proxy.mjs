// The fastest fair plain-Node baseline: node:http downstream, one undici Pool upstream driven
// through Pool.dispatch with a minimal handler that streams status, raw headers and body
// chunks back (with backpressure). No routing, no metrics, no logging: what Isthmus is
// measured against "in the same run".
//
//   node bench/bare-proxy.mjs --port 8080 --upstream 127.0.0.1:29000 [--connections 64]
//
// It also accepts the gateway's flags (`run`, `--http-port`, `--admin-port`, `--config`, ...)
// and then serves `GET /ready` on the admin port, so `bench/run.mjs --gateway-cmd` can put it
// in Isthmus' slot to test the harness; the upstream then comes from BENCH_UPSTREAM.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { serveReady, standInTarget } from './lib/stand-in.mjs';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'http-port': { type: 'string' },
    'admin-port': { type: 'string' },
    upstream: { type: 'string' },
    connections: { type: 'string', default: '64' },
  },
  strict: false,
  allowPositionals: true,
});

const { port, upstream } = standInTarget(values, 'bare-proxy');

const pool = new Pool(`http://${upstream}`, {
  connections: Number(values.connections),
  pipelining: 1,
  keepAliveTimeout: 120_000,
  keepAliveMaxTimeout: 120_000,
});

// RFC 9110 §7.6.1: connection-specific fields are not forwarded (undici also rejects some).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
]);

function forwardable(raw, toString) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = toString(raw[i]);
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, toString(raw[i + 1]));
  }
  return out;
}

const asString = (v) => v;
const latin1 = (b) => b.toString('latin1');

function badGateway(res, err) {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('bad gateway\n');
}

const server = createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  let abortUpstream = null;
  let done = false;
  res.on('close', () => {
    if (!done && abortUpstream) abortUpstream(new Error('client went away'));
  });
  pool.dispatch(
    {
      method: req.method,
      path: req.url,
      headers: forwardable(req.rawHeaders, asString),
      body: hasBody ? req : null,
    },
    {
      onConnect(abort) {
        abortUpstream = abort;
      },
      onHeaders(statusCode, rawHeaders, resume) {
        res.writeHead(statusCode, forwardable(rawHeaders, latin1));
        res.on('drain', resume);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        done = true;
        res.end();
      },
      onError(err) {
        done = true;
        badGateway(res, err);
      },
    },
  );
});
server.keepAliveTimeout = 120_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare-proxy on 127.0.0.1:${port} -> ${upstream}\n`);
});

const admin = serveReady(values, server);

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  admin?.close();
  pool.close().finally(() => process.exit(0));
});
