// Shared by the nftables tests: the kube-proxy model of a fixture, and a throw-away network
// namespace to check a script in (`nft -c -f`) or to apply it. A helper module: running it
// alone does nothing.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { collectServicePorts, type KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { repoRoot, type Cleanup } from '../e2e/cli-harness.js';
import { snapshotOf } from '../translate/golden-harness.js';

export const run = promisify(execFile);
export const FIXTURES = path.join(repoRoot(), 'test', 'kubeproxy', 'fixtures-nft');

export function portsOfFixture(name: string): KpServicePort[] {
  const snapshot = snapshotOf(readFileSync(path.join(FIXTURES, name), 'utf8'), name);
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  const { ports, diagnostics } = collectServicePorts(indexResources(snapshot.resources));
  assert.deepEqual(diagnostics.map(formatDiagnostic), []);
  return [...ports];
}

/** Fails loudly (never skips) without root, ip or nft. */
export async function requireNft(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the nftables tests need root (ip netns, nft); run them as root');
  for (const [tool, flag, pkg] of [['nft', '--version', 'nftables'], ['ip', '-V', 'iproute2']] as const) {
    await run(tool, [flag]).catch(() => {
      throw new Error(`the nftables tests need ${tool} (Debian package ${pkg})`);
    });
  }
}

/** A fresh namespace named with this process's pid, removed in t.after even when the test fails. */
export async function scratchNamespace(t: Cleanup, tag: string): Promise<string> {
  const ns = `isthmus-${tag}-${process.pid}`;
  await run('ip', ['netns', 'add', ns]);
  t.after(() => run('ip', ['netns', 'del', ns]).catch(() => undefined));
  return ns;
}

/** `nft -c -f -` inside `ns` with the script on stdin: resolves with nft's error text, '' when accepted. */
export function checkScript(ns: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? '' : stderr.trim() || `nft exited ${code}`));
    child.stdin.on('error', () => undefined); // EPIPE when nft exits early: its status says why
    child.stdin.end(script);
  });
}
