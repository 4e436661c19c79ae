// The processes a benchmark run starts: the origin, nginx as a proxy, the bare Node proxy and
// the gateway under test. Each binds 127.0.0.1 only; each is started with its core pinning.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { findCommand, httpGet, startProcess, stopProcess, waitForStatus } from './processes.mjs';

export const BENCH_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ROOT = resolve(BENCH_DIR, '..');
export const NGINX = findCommand('nginx');

/** Cores: every proxy under test on 1, the load generator and the origin on 0. */
export const PROXY_CPU = 1;
export const LOAD_CPU = 0;

export const ORIGIN_LISTEN = '127.0.0.1:29000';
export const PROXY_LISTEN = '127.0.0.1:29001';

/** Waits for `GET path` to answer 200; a process that never does is stopped, not left behind. */
export async function readyOrStop(handle, wait) {
  try {
    return await waitForStatus({ handle, ...wait });
  } catch (err) {
    await stopProcess(handle);
    throw err;
  }
}

export function adaptConf(file, replacements) {
  let text = readFileSync(join(BENCH_DIR, file), 'utf8');
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`bench/${file} no longer contains ${from}; update bench/lib/targets.mjs`);
    text = text.replaceAll(from, to);
  }
  return text;
}

export function startNginx({ name, workDir, confFile, confText, cpu }) {
  if (!NGINX) throw new Error('nginx is not installed (`apt-get install nginx-light`)');
  // nginx -p needs the prefix to exist with a tmp/ folder (client_body_temp_path tmp).
  mkdirSync(join(workDir, 'tmp'), { recursive: true });
  const confPath = join(workDir, confFile);
  writeFileSync(confPath, confText);
  return startProcess({
    name,
    cmd: NGINX,
    args: ['-p', `${workDir}/`, '-c', confPath, '-e', 'stderr'],
    cpu,
    logPath: join(workDir, `${name}.log`),
  });
}

/** The origin: nginx-upstream.conf when nginx is installed (and allowed), else bench/origin.mjs. */
export async function startOrigin({ workDir, port, useNginx, cpu = LOAD_CPU }) {
  let handle;
  let kind;
  if (useNginx && NGINX) {
    kind = 'nginx (bench/nginx-upstream.conf)';
    const confText = adaptConf('nginx-upstream.conf', [[ORIGIN_LISTEN, `127.0.0.1:${port}`]]);
    handle = startNginx({ name: 'origin', workDir, confFile: 'origin.conf', confText, cpu });
  } else {
    kind = 'node:http (bench/origin.mjs)';
    handle = startProcess({
      name: 'origin',
      cmd: process.execPath,
      args: [join(BENCH_DIR, 'origin.mjs'), '--port', String(port)],
      cpu,
      logPath: join(workDir, 'origin.log'),
    });
  }
  await readyOrStop(handle, { port, path: '/', timeoutMs: 10_000 });
  return { name: 'origin', kind, handle, port };
}

export async function startNginxProxy({ workDir, port, originPort }) {
  const confText = adaptConf('nginx-proxy.conf', [
    [ORIGIN_LISTEN, `127.0.0.1:${originPort}`],
    [PROXY_LISTEN, `127.0.0.1:${port}`],
  ]);
  const handle = startNginx({ name: 'nginx', workDir, confFile: 'nginx-proxy.conf', confText, cpu: PROXY_CPU });
  await readyOrStop(handle, { port, path: '/', timeoutMs: 10_000 });
  return { name: 'nginx', handle, port };
}

export async function startBareProxy({ workDir, port, originPort, cpu = PROXY_CPU }) {
  const handle = startProcess({
    name: 'bare',
    cmd: process.execPath,
    args: [join(BENCH_DIR, 'bare-proxy.mjs'), '--port', String(port), '--upstream', `127.0.0.1:${originPort}`],
    // Several workers pinned to one core would measure one core: by default they run where the kernel puts them.
    cpu,
    cwd: ROOT,
    logPath: join(workDir, 'bare.log'),
  });
  await readyOrStop(handle, { port, path: '/', timeoutMs: 10_000 });
  return { name: 'bare', handle, port };
}

/**
 * The launcher's first line (`#!/usr/bin/env -S [NAME=VALUE ...] node FLAGS`): the environment it
 * sets and the node flags it gives, so the benchmark starts the gateway as `isthmus` and
 * `npm start` do, through this Node binary (docs/memory.md says why each is there).
 */
export function launcherLine() {
  const first = readFileSync(join(ROOT, 'bin', 'isthmus.js'), 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env(?: -S)?((?: [A-Z_][A-Z0-9_]*=\S*)*) node(.*)$/.exec(first);
  if (!m) throw new Error(`bin/isthmus.js: unexpected first line ${JSON.stringify(first)}`);
  const words = (text) => text.trim().split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(words(m[1]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { env, nodeFlags: words(m[2]) };
}

export function launcherNodeFlags() {
  return launcherLine().nodeFlags;
}

/** The launcher as a command line, for reports: `MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 bin/isthmus.js`. */
export function launcherCommand() {
  const { env, nodeFlags } = launcherLine();
  return [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'node', ...nodeFlags, 'bin/isthmus.js'].join(' ');
}

/**
 * `gatewayCmd` is a command line (by default node with the launcher's flags and bin/isthmus.js;
 * `node` means this Node). `nodeFlags` (e.g. --cpu-prof) go right after the node binary, so
 * they need a node command.
 */
export function gatewayArgv(gatewayCmd, nodeFlags = []) {
  const words = (gatewayCmd ?? ['node', ...launcherNodeFlags(), 'bin/isthmus.js'].join(' ')).trim().split(/\s+/);
  let [cmd, ...rest] = words;
  const isNode = cmd === 'node' || basename(cmd) === 'node' || cmd === process.execPath;
  if (cmd === 'node') cmd = process.execPath;
  if (nodeFlags.length && !isNode) throw new Error(`node flags (${nodeFlags.join(' ')}) need a gateway command that starts with node, not "${gatewayCmd}"`);
  return { cmd, args: [...nodeFlags, ...rest] };
}

/**
 * Starts the gateway on `configDir` and waits for admin /ready. `readyMs` runs from just
 * before spawn to the first 200, so it includes process start and module loading.
 */
export async function startGateway({ name, gatewayCmd, nodeFlags, configDir, ports, originPort, workDir, extraArgs = [], env = {}, readyTimeoutMs = 20_000, workers, cpu = workers === undefined || workers === 1 ? PROXY_CPU : null }) {
  const { cmd, args } = gatewayArgv(gatewayCmd, nodeFlags);
  const runArgs = [
    'run', '--config', configDir,
    '--http-port', String(ports.http), '--https-port', String(ports.https), '--admin-port', String(ports.admin),
    '--listen-address', '127.0.0.1', '--access-log', 'off', ...extraArgs,
    '--workers', String(workers ?? 1),
  ];
  const logPath = join(workDir, `${name}.log`);
  const t0 = performance.now();
  const handle = startProcess({
    name,
    cmd,
    args: [...args, ...runArgs],
    cpu,
    cwd: ROOT,
    // The launcher's environment when the launcher runs, then the caller's; BENCH_UPSTREAM is read
    // only by the bare proxy standing in for the gateway (--gateway-cmd).
    env: { ...(gatewayCmd === undefined ? launcherLine().env : {}), ...env, BENCH_UPSTREAM: `127.0.0.1:${originPort}` },
    logPath,
  });
  await readyOrStop(handle, { port: ports.admin, path: '/ready', timeoutMs: readyTimeoutMs, intervalMs: 10 });
  const readyMs = performance.now() - t0;
  return { name, handle, port: ports.http, adminPort: ports.admin, startedAt: t0, readyMs, logPath, command: [cmd, ...args, ...runArgs] };
}

/**
 * Starts `isthmus sidecar` (explicit mode: requests carry absolute-form targets) on `configDir`
 * and waits for its admin /ready.
 */
export async function startSidecar({ name, configDir, port, adminPort, workDir, readyTimeoutMs = 20_000 }) {
  const { cmd, args } = gatewayArgv(undefined);
  const sidecarArgs = ['sidecar', '--config', configDir, '--listen', `127.0.0.1:${port}`, '--admin-port', String(adminPort), '--namespace', 'bench', '--access-log', 'off'];
  const logPath = join(workDir, `${name}.log`);
  const t0 = performance.now();
  const handle = startProcess({ name, cmd, args: [...args, ...sidecarArgs], cpu: PROXY_CPU, cwd: ROOT, env: launcherLine().env, logPath });
  await readyOrStop(handle, { port: adminPort, path: '/ready', timeoutMs: readyTimeoutMs, intervalMs: 10 });
  return { name, handle, port, adminPort, startedAt: t0, readyMs: performance.now() - t0, logPath, command: [cmd, ...args, ...sidecarArgs] };
}

/** One request through `target`; throws unless it is the origin's 200 "hello world". */
export async function checkProxied(target, { host, path = '/', headers = [] }) {
  const res = await httpGet({ port: target.port, path, host, headers: headerObject(headers), timeoutMs: 5000 });
  if (res.status !== 200 || res.body !== 'hello world\n') {
    const log = target.handle.logPath && existsSync(target.handle.logPath) ? tail(target.handle.logPath) : '';
    throw new Error(`${target.name}: GET ${path} (Host: ${host}) answered ${res.status} ${JSON.stringify(res.body.slice(0, 300))}, expected 200 "hello world"${log ? `\n--- ${target.handle.logPath} (tail)\n${log}` : ''}`);
  }
  return res;
}

/** ["Name: value"] (wrk's -H form) → { name: value }. */
export function headerObject(lines) {
  return Object.fromEntries(lines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }));
}

export function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** `GET /api/diagnostics` → counts by severity; null when it cannot be read. */
export async function diagnosticsCount(adminPort) {
  try {
    const res = await httpGet({ port: adminPort, path: '/api/diagnostics', timeoutMs: 5000 });
    if (res.status !== 200) return null;
    const json = JSON.parse(res.body);
    const list = Array.isArray(json) ? json : Array.isArray(json?.diagnostics) ? json.diagnostics : null;
    if (!list) return null;
    const bySeverity = {};
    for (const d of list) {
      const severity = String(d?.severity ?? d?.level ?? 'unknown');
      bySeverity[severity] = (bySeverity[severity] ?? 0) + 1;
    }
    return { total: list.length, bySeverity };
  } catch {
    return null;
  }
}

/** The gateway's own log line about applying a configuration, if it writes one. */
export function applyLogLine(logPath) {
  try {
    const lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => /appl(y|ied)/i.test(l));
    const line = lines[0];
    return line ? line.slice(0, 300) : null;
  } catch {
    return null;
  }
}

export const REDIS_SERVER = findCommand('redis-server');

/**
 * redis-server on 127.0.0.1:`port`, no persistence (no RDB, no AOF), pinned with the origin and
 * wrk on the load core: it stands for a Redis the gateway reaches over the network.
 */
export async function startRedis({ workDir, port }) {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (`apt-get install redis-server`): the API-management part needs it');
  const handle = startProcess({
    name: 'redis',
    cmd: REDIS_SERVER,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', workDir],
    cpu: LOAD_CPU,
    logPath: join(workDir, 'redis.log'),
  });
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (handle.exitInfo) throw new Error(`redis-server exited before accepting connections; log: ${handle.logPath}\n${tail(handle.logPath)}`);
    try {
      if ((await redisCommand(port, ['PING'])) === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stopProcess(handle);
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s; log: ${handle.logPath}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { name: 'redis', handle, port, url: `redis://127.0.0.1:${port}` };
}

/** One command on a fresh connection; resolves a simple or bulk string reply (enough for PING and INFO). */
export function redisCommand(port, args, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (err, value) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`redis ${args[0]}: timeout`)));
    socket.on('error', (err) => done(err));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.subarray(0, eol).toString();
      if (head[0] === '+') return done(null, head.slice(1));
      if (head[0] === '-') return done(new Error(`redis ${args[0]}: ${head.slice(1)}`));
      if (head[0] === '$') {
        const len = Number(head.slice(1));
        if (buf.length >= eol + 2 + len + 2) done(null, buf.subarray(eol + 2, eol + 2 + len).toString());
        return;
      }
      done(new Error(`redis ${args[0]}: unexpected reply ${JSON.stringify(head)}`));
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
  });
}

/** Calls of each command so far (INFO commandstats): { evalsha: 123, eval: 1, ... }. */
export async function redisCommandCalls(port) {
  const info = await redisCommand(port, ['INFO', 'commandstats']);
  const calls = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
  return calls;
}

/** The value of an unlabelled counter in the gateway's admin /metrics; null when absent or unreadable. */
export async function metricValue(adminPort, name) {
  try {
    const res = await httpGet({ port: adminPort, path: '/metrics', timeoutMs: 5000 });
    const m = new RegExp(`^${name}(?:\\{\\})?\\s+([\\d.e+-]+)\\s*$`, 'm').exec(res.body);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
