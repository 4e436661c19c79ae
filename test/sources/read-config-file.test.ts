// readBoundedSync (the one-shot loader's and the parse worker's read) against readBounded (the
// promise read OpenAPI documents still use): the same text, the same refusals, and no hang on a
// FIFO put where a config file was named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadDirs } from '../../src/sources/file/load-dirs.js';
import { readBounded, readBoundedSync, readConfigFile } from '../../src/sources/file/read-config-file.js';

const root = mkdtempSync(path.join(tmpdir(), 'isthmus-read-'));
after(() => rmSync(root, { recursive: true, force: true }));

function mkfifo(file: string): void {
  try {
    execFileSync('mkfifo', [file]);
  } catch (err) {
    throw new Error(`mkfifo failed (Debian package coreutils): ${(err as Error).message}`);
  }
}

test('the same text and the same refusals as the promise read', async () => {
  const small = path.join(root, 'small.yaml');
  writeFileSync(small, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: é}\n');
  const big = path.join(root, 'big.yaml');
  writeFileSync(big, 'x'.repeat(200_000));
  for (const [file, max] of [[small, 1000], [big, 150_000], [big, 200_000], [root, 1000]] as const) {
    assert.deepEqual(readBoundedSync(file, max), await readBounded(file, max), `${path.basename(file)} at most ${max}`);
  }
  assert.deepEqual(readBoundedSync(big, 150_000), { kind: 'too-large', bytes: 200_000, exact: true });
  assert.throws(() => readBoundedSync(path.join(root, 'missing.yaml'), 1000), /ENOENT/);
});

test('a FIFO named as a config file is refused at once, not waited on; a vanished file is no contribution', async () => {
  const fifo = path.join(root, 'pipe.yaml');
  mkfifo(fifo);
  assert.deepEqual(readBoundedSync(fifo, 1000), { kind: 'not-a-file' });
  const snapshot = await loadDirs([fifo]);
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), [`error: ${fifo}: cannot read: not a regular file [ERR_CONFIG_READ]`]);
  assert.equal(readConfigFile({ path: path.join(root, 'gone.yaml'), label: 'gone.yaml', format: 'yaml' }), undefined);
});
