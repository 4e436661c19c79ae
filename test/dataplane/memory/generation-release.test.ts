// A superseded configuration generation must be collectable once no request uses it: the gateway's
// memory after a reload is one generation, not two (docs/memory.md). The check runs in a child
// process under --expose-gc (generation-release-child.ts), so full GCs are explicit and this test
// process's own heap plays no part; it asserts reachability, never sizes or times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./generation-release-child.js', import.meta.url));

interface Report {
  readonly current: number;
  readonly statuses: readonly number[];
  readonly superseded: Readonly<Record<string, boolean>>;
  readonly serving: Readonly<Record<string, boolean>>;
  readonly connections: number;
}

function runChild(dir: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`child exited with ${signal ?? code}\nstdout: ${out}\nstderr: ${err}`));
        return;
      }
      resolve(JSON.parse(line) as Report);
    });
  });
}

test('after a reload, generation 1 (snapshot, IR, runtime, router, cluster) is collectable; generation 2 is not', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-generation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = await runChild(dir);
  assert.equal(report.current, 2);
  assert.deepEqual(report.statuses, Array.from({ length: 40 }, () => 200), 'every request before and after the reload was proxied');
  assert.equal(report.connections, 1, 'one keep-alive connection carried the requests across the reload');
  // The control: what serves now is reachable, so a collected generation 1 means released, not lost.
  assert.deepEqual(report.serving, { snapshot: true, ir: true, runtime: true, router: true, cluster: true });
  assert.deepEqual(report.superseded, { snapshot: false, ir: false, runtime: false, router: false, cluster: false });
});
