// Child processes for the benchmark: spawn pinned to a core, wait for readiness, and make
// sure nothing outlives the harness (normal exit, failure, Ctrl-C). Node 20+, no deps.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';

/** Every process started here and not yet seen exiting. */
const live = new Set();

/** Finds an executable on PATH, or in the sbin folders a non-root PATH often lacks (nginx). */
export function findCommand(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const TASKSET = findCommand('taskset');
// Pinning needs two cores (proxy on 1, load generator and origin on 0); on one core we
// cannot separate them, so we do not pin at all rather than pin everything to core 0.
const CAN_PIN = TASKSET !== null && availableParallelism() >= 2;

export function pinningAvailable() {
  return CAN_PIN;
}

/** The argv that runs `cmd args` on `cpu` (taskset execs, so the pid stays the command's). */
export function pinnedArgv(cpu, cmd, args) {
  if (cpu === undefined || cpu === null || !CAN_PIN) return [cmd, args];
  return [TASKSET, ['-c', String(cpu), cmd, ...args]];
}

/** Reserves `n` distinct free loopback ports (all held open until every one is chosen). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/**
 * Starts a process in its own process group (so nginx's worker and anything a gateway forks
 * go down with it), output appended to `logPath`. Returns a handle with `exited`, a promise of
 * `{ code, signal }`, and `exitInfo` once it has exited.
 */
export function startProcess({ name, cmd, args = [], cpu, env, cwd, logPath }) {
  const [file, argv] = pinnedArgv(cpu, cmd, args);
  const fd = logPath ? openSync(logPath, 'a') : 'ignore';
  let child;
  try {
    child = spawn(file, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
  const handle = { name, child, pid: child.pid, logPath, exitInfo: null, exited: null };
  handle.exited = new Promise((resolve) => {
    child.once('error', (err) => {
      handle.exitInfo = { code: null, signal: null, error: err };
      live.delete(handle);
      resolve(handle.exitInfo);
    });
    child.once('exit', (code, signal) => {
      handle.exitInfo = { code, signal };
      live.delete(handle);
      resolve(handle.exitInfo);
    });
  });
  live.add(handle);
  return handle;
}

function signalGroup(handle, signal) {
  try {
    process.kill(handle.group === false ? handle.pid : -handle.pid, signal);
  } catch {
    // group already gone
  }
}

/** Registers a short-lived child (wrk) so that the exit handlers kill it too. */
export function trackChild(child, name) {
  const handle = { name, pid: child.pid, group: false };
  live.add(handle);
  child.once('exit', () => live.delete(handle));
  child.once('error', () => live.delete(handle));
  return child;
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves with the exit info. */
export async function stopProcess(handle, graceMs = 3000) {
  if (!handle) return null;
  if (!handle.exitInfo) {
    signalGroup(handle, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(handle, 'SIGKILL'), graceMs);
    await handle.exited;
    clearTimeout(timer);
  }
  // Whatever the leader left behind in its group goes too.
  signalGroup(handle, 'SIGKILL');
  return handle.exitInfo;
}

function killAllNow() {
  for (const handle of live) signalGroup(handle, 'SIGKILL');
  live.clear();
}

let cleanupInstalled = false;

/** Kills every child on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      killAllNow();
      process.exit(code);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAllNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** One HTTP/1.1 request on a fresh connection; resolves `{ status, headers, body }`. */
export function httpGet({ port, path = '/', host, headers: extra = {}, timeoutMs = 2000 }) {
  return new Promise((resolve, reject) => {
    const headers = { ...extra, ...(host ? { host } : {}) };
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `GET path` on `port` every `intervalMs` until it answers `status`; resolves with the
 * milliseconds waited. Fails early when `handle` exits, and after `timeoutMs`.
 */
export async function waitForStatus({ port, path = '/', host, status = 200, timeoutMs = 20000, intervalMs = 20, handle }) {
  const start = performance.now();
  let last = 'no answer yet';
  while (performance.now() - start < timeoutMs) {
    if (handle?.exitInfo) {
      throw new Error(`${handle.name} exited (${describeExit(handle.exitInfo)}) before ${path} answered ${status}; log: ${handle.logPath}`);
    }
    try {
      const res = await httpGet({ port, path, host, timeoutMs: 1000 });
      if (res.status === status) return performance.now() - start;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${handle?.name ?? 'server'}: ${path} on port ${port} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

export function describeExit(info) {
  if (!info) return 'running';
  if (info.error) return info.error.message;
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

/** VmRSS of a live process in MiB, from /proc (Linux only); null when unreadable. */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

let clockTicks = null;

/**
 * CPU seconds (user, sys) used so far by every live process in process group `pgid`, from
 * /proc (Linux only; nginx's worker is a child of its master, so the group is what counts).
 * Null when /proc cannot be read.
 */
export function groupCpuSeconds(pgid) {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  let user = 0;
  let sys = 0;
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    user += Number(fields[11]);
    sys += Number(fields[12]);
  }
  return { user: user / clockTicks, sys: sys / clockTicks };
}
