// Shared by the nftables tests: the kube-proxy model of a fixture, and a throw-away network
// namespace to check a script in (`nft -c -f`) or to apply it. A helper module: running it
// alone does nothing.
import { execFile } from 'node:child_process';
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
