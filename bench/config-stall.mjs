// How long does loading a configuration stall traffic? Starts the real gateway (bin/isthmus.js of
// --root, default this checkout) on a small valid config, sends one GET every --interval-ms to a
// route that never changes, then drops a file or folder into the watched folder and reports the
// longest request latency and the longest gap between answers from the drop until the gateway has
// dealt with it (plus one second). Cases:
//   bomb        the nine-line "billion laughs" YAML (72 aliases, 9^9 leaves once expanded)
//   scale       bench/lib/config-gen.mjs's 10,000 paths: 100 Ingress files, about 2 MB
//   scale-one   the same 10,000 paths in a single 2 MB file
// Usage: node bench/config-stall.mjs [--case bomb|scale|scale-one] [--root DIR] [--timeout-s N]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeScaleConfig } from './lib/config-gen.mjs';
import { freePorts } from './lib/processes.mjs';

const { values: opts } = parseArgs({
  options: {
    case: { type: 'string', default: 'bomb' },
    root: { type: 'string', default: resolve(fileURLToPath(import.meta.url), '../..') },
    'timeout-s': { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '2' },
  },
});
const timeoutMs = Number(opts['timeout-s']) * 1000;
const intervalMs = Number(opts['interval-ms']);

export const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
].join('\n') + '\n';

const work = mkdtempSync(join(tmpdir(), 'isthmus-stall-'));
const watched = join(work, 'config');
mkdirSync(watched);

const origin = http.createServer((req, res) => {
  req.resume();
  res.end('ok');
});
await new Promise((done) => origin.listen(0, '127.0.0.1', done));
const originPort = origin.address().port;

writeFileSync(
  join(watched, 'base.yaml'),
  `apiVersion: v1
kind: Service
metadata: {name: steady, namespace: default}
spec:
  ports: [{name: http, port: 80, targetPort: ${originPort}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: steady, namespace: default}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: ${originPort}}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: steady, namespace: default}
spec:
  rules: [{host: steady.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: steady, port: {number: 80}}}}]}}]
`,
);

const [httpPort, httpsPort, adminPort] = await freePorts(3);
const gateway = spawn(
  process.execPath,
  [join(opts.root, 'bin/isthmus.js'), 'run', '--config', watched, '--http-port', String(httpPort), '--https-port', String(httpsPort),
    '--admin-port', String(adminPort), '--listen-address', '127.0.0.1', '--access-log', 'off', '--workers', '1'],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let stderr = '';
gateway.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
let exit;
gateway.on('exit', (code, signal) => (exit = { code, signal }));

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(port, path, host, useAgent = agent) {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: useAgent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => done({ status: res.statusCode, body }));
    });
    req.on('error', (err) => done({ status: 0, body: err.message }));
  });
}
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

for (let start = performance.now(); ; await sleep(50)) {
  if ((await get(adminPort, '/ready', 'admin', false)).status === 200) break;
  if (exit || performance.now() - start > 15_000) throw new Error(`gateway not ready\n${stderr}`);
}

// The steady client: one request at a time, every intervalMs, on a keep-alive connection.
const samples = [];
let failures = 0;
let running = true;
const client = (async () => {
  while (running) {
    const sent = performance.now();
    const res = await get(httpPort, '/', 'steady.test');
    samples.push({ sent, latencyMs: performance.now() - sent });
    if (res.status !== 200) failures++;
    await sleep(intervalMs);
  }
})();
await sleep(1000);

let label;
const dropped = performance.now();
if (opts.case === 'bomb') {
  label = join(watched, 'laughs.yaml');
  writeFileSync(label, BILLION_LAUGHS);
} else {
  const staging = join(work, 'staging');
  const shape = { upstreamPort: originPort, ingresses: 100, hostsPerIngress: 10, pathsPerHost: 10 };
  const info = opts.case === 'scale-one' ? writeScaleConfig(staging, { ...shape, ingresses: 1, hostsPerIngress: 1000 }) : writeScaleConfig(staging, shape);
  const bytes = readdirSync(staging).reduce((n, f) => n + readFileSync(join(staging, f)).length, 0);
  label = `${info.paths} paths, ${readdirSync(staging).length} files, ${(bytes / 1e6).toFixed(2)} MB`;
  // One rename: the gateway sees the whole folder at once.
  renameSync(staging, join(watched, 'scale'));
  label = { label, host: info.host, path: info.path };
}

// Done when the admin API shows the file's diagnostic (bomb) or the last scale route answers.
let doneAt;
while (!exit && performance.now() - dropped < timeoutMs) {
  if (opts.case === 'bomb') {
    const res = await get(adminPort, '/api/diagnostics', 'admin', false);
    if (res.status === 200 && res.body.includes('laughs.yaml')) doneAt = performance.now();
  } else {
    const res = await get(httpPort, label.path, label.host, false);
    if (res.status === 200) doneAt = performance.now();
  }
  if (doneAt !== undefined) break;
  await sleep(20);
}
if (doneAt !== undefined) await sleep(1000);
running = false;
await Promise.race([client, sleep(1000)]);

const window = samples.filter((s) => s.sent + s.latencyMs >= dropped);
const maxLatency = Math.max(0, ...window.map((s) => s.latencyMs));
const unanswered = performance.now() - (samples.at(-1)?.sent ?? dropped); // a request still pending
const sorted = window.map((s) => s.latencyMs).sort((a, b) => a - b);
const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
const result = {
  case: opts.case,
  root: opts.root,
  input: typeof label === 'string' ? label : label.label,
  handledMs: doneAt === undefined ? null : Math.round(doneAt - dropped),
  requests: window.length,
  failures,
  maxLatencyMs: Number(maxLatency.toFixed(1)),
  p99LatencyMs: Number(p99.toFixed(1)),
  pendingRequestMs: samples.length && running === false && doneAt === undefined ? Math.round(unanswered) : null,
  gatewayAlive: exit === undefined,
  exit: exit ?? null,
  lastLog: stderr.trim().split('\n').slice(-2).map((l) => l.slice(0, 240)),
};
console.log(JSON.stringify(result, null, 2));
agent.destroy();
gateway.kill('SIGKILL');
origin.close();
rmSync(work, { recursive: true, force: true });
process.exit(0);
