// End-to-end harness: spawns the real `isthmus` command (bin/isthmus.js → dist/) as a child
// process on free loopback ports, with config folders in os.tmpdir() and in-process echo backends.
// Every process, folder and server is cleaned up in t.after, so a failing test leaks nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EchoServer } from '../../src/demo/echo-server.js';

/** What the harness needs of a test: somewhere to register clean-up (a TestContext, or the fuzzer's own list). */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** The folder holding package.json: this file runs from test/e2e/ or dist/test/e2e/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bin', 'isthmus.js'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no package.json with bin/isthmus.js above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const CLI = path.join(repoRoot(), 'bin', 'isthmus.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a short-lived command (help, validate) to completion; `cwd` defaults to this process's. */
export function runCli(args: readonly string[], timeoutMs = 15_000, options: { readonly cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isthmus ${args.join(' ')} did not exit within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit: a command that drains cleanly exits 0. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a long-running command (`run`, `echo`, `sidecar`) and resolves once its stderr matches
 * `ready`; rejects with what it printed if it exits or times out first. Killed after the test.
 */
export async function startCli(t: Cleanup, args: readonly string[], ready: RegExp, options: { readonly cwd?: string; readonly timeoutMs?: number } = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve((exit = { code, signal }))));
  t.after(async () => {
    if (exit !== undefined) return;
    child.kill('SIGKILL');
    await exited;
  });
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = performance.now() + timeoutMs;
  while (!ready.test(err)) {
    if (exit !== undefined) throw new Error(`isthmus ${args.join(' ')} exited (${exit.code ?? exit.signal}) before it was ready\nstderr:\n${err}`);
    if (performance.now() > deadline) throw new Error(`isthmus ${args.join(' ')} not ready within ${timeoutMs} ms\nstderr:\n${err}`);
    await sleep(20);
  }
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (exit === undefined) child.kill('SIGTERM');
      return await exited;
    },
  };
}

/** A port that was free a moment ago: bind port 0, read it, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/** Distinct free ports (two calls may otherwise hand back the same one). */
/** A port another listener holds (a plain TCP server in this process, on 127.0.0.1) until the test ends. */
export async function takenPort(t: Cleanup): Promise<number> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  return (holder.address() as net.AddressInfo).port;
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A temporary config folder with the given files; removed after the test. */
export function configDir(t: Cleanup, files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

export interface RunningGateway {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  readonly config?: readonly string[];
  readonly demo?: boolean;
  /** Default `off`. */
  readonly accessLog?: string;
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** Added to the process environment (POD_NAME, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Spawns `isthmus run` on free ports and waits until GET /ready answers 200. */
export async function startGateway(t: Cleanup, options: StartOptions): Promise<RunningGateway> {
  const [httpPort, httpsPort, adminPort] = (await freePorts(3)) as [number, number, number];
  const args = [CLI, 'run'];
  for (const dir of options.config ?? []) args.push('--config', dir);
  if (options.demo === true) args.push('--demo');
  args.push(
    '--http-port', String(httpPort),
    '--https-port', String(httpsPort),
    '--admin-port', String(adminPort),
    '--listen-address', '127.0.0.1',
    '--access-log', options.accessLog ?? 'off',
    ...(options.extraArgs ?? []),
  );
  // One serving process unless the test asks for workers: tests read one process's stderr and log
  // lines in order, and a cluster per test would double every start-up. The default (auto) is
  // covered by workers.test.ts, doc-commands.test.ts and startup-failure.test.ts.
  if (!(options.extraArgs ?? []).includes('--workers')) args.push('--workers', '1');
  // Usage counts go to a folder of this test's own (not the user's ~/.local/state/isthmus), unless
  // the test chose one.
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  let stateDir: string | undefined;
  if (options.env?.ISTHMUS_STATE_DIR === undefined && !(options.extraArgs ?? []).includes('--state-dir')) {
    stateDir = mkdtempSync(path.join(tmpdir(), 'isthmus-state-'));
    env.ISTHMUS_STATE_DIR = stateDir;
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  t.after(async () => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const fallback = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(fallback);
  });
  // After the process is gone: its last flush on SIGTERM writes into the folder.
  if (stateDir !== undefined) t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const gateway: RunningGateway = { child, httpPort, httpsPort, adminPort, stdout: () => out, stderr: () => err, exited };
  const deadline = performance.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (hasExited) throw new Error(`isthmus exited before it was ready\nstderr:\n${err}`);
    const status = await httpRequest({ port: adminPort, path: '/ready' }).then((r) => r.status, () => 0);
    if (status === 200) return gateway;
    if (performance.now() > deadline) throw new Error(`isthmus not ready within ${options.readyTimeoutMs ?? 15_000} ms\nstderr:\n${err}`);
    await sleep(25);
  }
}

export interface EchoBackend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** The demo echo backend, in this process, on a loopback address and a port the OS picks. */
export async function startEcho(t: Cleanup, address: string, name: string): Promise<EchoBackend> {
  const server = new EchoServer({ host: address, port: 0, name });
  const bound = await server.listen();
  t.after(() => server.close());
  return { name, address, port: bound.port };
}

/** A Service named like the backend, port 80 → container port `http`, and one ready Pod. */
export function serviceYaml(backend: EchoBackend, namespace = 'default'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${backend.name}, namespace: ${namespace}}
spec:
  selector: {app: ${backend.name}}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: ${backend.name}-pod, namespace: ${namespace}, labels: {app: ${backend.name}}}
spec:
  containers: [{name: echo, image: echo, ports: [{name: http, containerPort: ${backend.port}}]}]
status:
  podIP: ${backend.address}
  conditions: [{type: Ready, status: "True"}]
`;
}

export interface IngressPath {
  readonly path: string;
  readonly service: string;
  readonly pathType?: 'Prefix' | 'Exact';
}

/** An Ingress with one host rule (or a host-less one when host is undefined), Service port 80. */
export function ingressYaml(name: string, host: string | undefined, paths: readonly IngressPath[], namespace = 'default'): string {
  const lines = paths.map(
    (p) => `          - {path: ${p.path}, pathType: ${p.pathType ?? 'Prefix'}, backend: {service: {name: ${p.service}, port: {number: 80}}}}`,
  );
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  rules:
    - ${host === undefined ? '' : `host: ${host}\n      `}http:
        paths:
${lines.join('\n')}
`;
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function httpRequest(options: http.RequestOptions & { readonly port: number }): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET through the gateway; `name` is the echo backend that answered (undefined for local replies). */
export async function get(port: number, urlPath: string, host: string, agent?: http.Agent): Promise<SimpleResponse & { name?: string }> {
  const res = await httpRequest({ port, path: urlPath, headers: { host }, ...(agent === undefined ? {} : { agent }) });
  let name: string | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body);
    if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string') name = parsed.name;
  } catch {
    // A local reply or a non-JSON body: no backend name.
  }
  return name === undefined ? res : { ...res, name };
}

export async function adminJson(adminPort: number, urlPath: string): Promise<unknown> {
  const res = await httpRequest({ port: adminPort, path: urlPath });
  if (res.status !== 200) throw new Error(`GET ${urlPath}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as unknown;
}

export async function appliedGeneration(adminPort: number): Promise<number> {
  const config = (await adminJson(adminPort, '/api/config')) as { generation?: unknown } | null;
  return typeof config?.generation === 'number' ? config.generation : -1;
}

/** The value of one series in GET /metrics, e.g. `isthmus_config_applies_total{outcome="applied"}`; undefined if absent. */
export async function metricValue(adminPort: number, series: string): Promise<number | undefined> {
  const res = await httpRequest({ port: adminPort, path: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000, intervalMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
