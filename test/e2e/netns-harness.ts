// Network namespaces for the sidecar tests: namespaces with their loopback up, veth pairs between
// them, commands run inside them (`ip netns exec`). Names carry the test's pid, so concurrent
// runs never meet; everything is removed in t.after, even when the test fails. Needs root, `ip`,
// `iptables` and `setpriv`: without them the test fails with a message saying so, never skips.
// A helper module: running it alone does nothing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import type { Cleanup } from './cli-harness.js';

const run = promisify(execFile);

const TOOLS = ['ip', 'iptables', 'setpriv', 'curl'] as const;

function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return `${dir}/${tool}`;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Throws (the test fails) unless this process is root and every tool the lab uses is installed. */
export function requireNetnsTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the sidecar network-namespace tests need root (ip netns, iptables); run them as root');
  const missing = TOOLS.filter((t) => which(t) === undefined);
  if (missing.length > 0) throw new Error(`the sidecar network-namespace tests need ${missing.join(', ')} (Debian packages iproute2, iptables, util-linux, curl)`);
}

export interface LabProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

export class NetnsLab {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  /** A prefix unique to this test process. */
  readonly prefix: string;

  constructor(t: Cleanup, tag: string) {
    this.prefix = `isthmus-${tag}-${process.pid}`;
    t.after(() => this.close());
  }

  /** A namespace `<prefix>-<name>` with loopback up; returns its full name. */
  async namespace(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair from `a` (interface `ifA`, address `addrA/len`) to `b`; both ends up. */
  async link(a: string, ifA: string, addrA: string, b: string, ifB: string, addrB: string): Promise<void> {
    // Created straight inside the namespaces, so the names never touch the host's interfaces.
    await run('ip', ['link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
    await run('ip', ['-n', a, 'addr', 'add', addrA, 'dev', ifA]);
    await run('ip', ['-n', b, 'addr', 'add', addrB, 'dev', ifB]);
    await run('ip', ['-n', a, 'link', 'set', ifA, 'up']);
    await run('ip', ['-n', b, 'link', 'set', ifB, 'up']);
  }

  /** Runs a command to completion inside `ns`; rejects on a non-zero exit. */
  async exec(ns: string, argv: readonly string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string }> {
    return run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  }

  /** Starts a long-running command inside `ns` (killed in close()). */
  spawn(ns: string, argv: readonly string[]): LabProcess {
    // `ip netns exec` execs the command, so the child's pid is the command's own.
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    this.children.push(child);
    return { child, stdout: () => out, stderr: () => err };
  }

  /** Polls `probe` until it holds (a process is listening, a file exists), or fails with `what`. */
  async waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async close(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const fallback = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(fallback);
    }
    // Deleting a namespace removes its veth ends and its iptables rules with it.
    for (const ns of this.namespaces.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}
