// Smoke test (CI runs it on Node 24): start the embedded demo, wait for /ready, send one
// proxied request, SIGTERM, expect exit 0. Runs the gateway with the Node running this
// script. Plain ESM, builtins only, Node 20+.   node bench/smoke.mjs
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const [httpPort, httpsPort, adminPort] = await freePorts(3);
  const args = [
    join(ROOT, 'bin', 'isthmus.js'), 'run', '--demo',
    '--http-port', String(httpPort), '--https-port', String(httpsPort), '--admin-port', String(adminPort),
    '--listen-address', '127.0.0.1', '--access-log', 'off',
  ];
  console.log(`smoke: Node ${process.version}: ${process.execPath} ${args.join(' ')}`);
  let output = '';
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  let exitInfo = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exitInfo = { code, signal }))));
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);

  const fail = (why) => {
    console.log(`--- gateway output (last 40 lines)\n${output.trimEnd().split('\n').slice(-40).join('\n')}`);
    console.log(`smoke: FAIL (Node ${process.version}): ${why}`);
    killGroup();
    process.exit(1);
  };

  const start = Date.now();
  let last = 'no answer';
  for (;;) {
    if (exitInfo) fail(`gateway exited before /ready (code ${exitInfo.code}, signal ${exitInfo.signal})`);
    if (Date.now() - start > READY_TIMEOUT_MS) fail(`GET /ready did not answer 200 within ${READY_TIMEOUT_MS} ms (last: ${last})`);
    try {
      const res = await get(adminPort, '/ready');
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await sleep(100);
  }
  console.log(`smoke: ready after ${Date.now() - start} ms`);

  let res;
  try {
    res = await get(httpPort, '/', { host: 'shop.localhost' });
  } catch (err) {
    fail(`GET / (Host: shop.localhost) failed: ${err.message}`);
  }
  if (res.status !== 200) fail(`GET / (Host: shop.localhost) answered ${res.status}: ${res.body.slice(0, 300)}`);
  let body;
  try {
    body = JSON.parse(res.body);
  } catch {
    fail(`GET / answered a body that is not JSON: ${res.body.slice(0, 300)}`);
  }
  const backend = body?.name ?? body?.pod;
  if (typeof backend !== 'string' || backend === '') fail(`the echo body names no backend (no "name"/"pod"): ${res.body.slice(0, 300)}`);
  console.log(`smoke: GET / (Host: shop.localhost) → 200 from ${backend}`);

  child.kill('SIGTERM');
  const timer = setTimeout(() => fail(`gateway did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM`), EXIT_TIMEOUT_MS);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (code !== 0) fail(`gateway exited with code ${code}, signal ${signal} after SIGTERM (expected 0)`);
  killGroup();
  console.log(`smoke: PASS (Node ${process.version}): demo ready, one proxied request, clean exit on SIGTERM`);
}

main().catch((err) => {
  console.log(`smoke: FAIL (Node ${process.version}): ${err.stack ?? err}`);
  process.exit(1);
});
