// What the plain-Node proxies of bench/ (bare-proxy.mjs, raw-ceiling-proxy.mjs) share to stand
// in for the gateway: `--port`/`--http-port` and `--upstream` (or BENCH_UPSTREAM, when
// `bench/run.mjs --gateway-cmd` starts them with the gateway's flags), and `GET /ready` on
// `--admin-port` once the proxy listens.
import { createServer } from 'node:http';

/** The listen port and the upstream `host:port`; exits 2 with a line naming `name` when no upstream is given. */
export function standInTarget(values, name) {
  const port = Number(values.port ?? values['http-port'] ?? 8080);
  const upstream = values.upstream ?? process.env.BENCH_UPSTREAM;
  if (!upstream) {
    process.stderr.write(`${name}: --upstream HOST:PORT (or BENCH_UPSTREAM) is required\n`);
    process.exit(2);
  }
  return { port, upstream };
}

/** Serves `GET /ready` (200 once `server` listens) on `--admin-port` when given; the admin server or null. */
export function serveReady(values, server) {
  if (!values['admin-port']) return null;
  const admin = createServer((req, res) => {
    res.writeHead(req.url === '/ready' && server.listening ? 200 : 404);
    res.end();
  });
  admin.listen(Number(values['admin-port']), '127.0.0.1');
  return admin;
}
