// `--workers N|auto`: parsed into a count of processes; 1 (today's default) is the single process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { DEFAULT_WORKERS, parseRunArgs, UsageError, workerCount } from '../../src/cli/args.js';

test('--workers: a count, auto is one per core, the default is the DEFAULT_WORKERS constant', () => {
  assert.equal(parseRunArgs(['--workers', '3']).workers, 3);
  assert.equal(parseRunArgs(['--workers', 'auto']).workers, availableParallelism());
  assert.equal(parseRunArgs([]).workers, workerCount(DEFAULT_WORKERS));
});

test('--workers: anything but auto or 1-256 is a usage error naming the flag', () => {
  for (const bad of ['0', '-1', '1.5', 'two', '', '257']) {
    assert.throws(() => parseRunArgs([`--workers=${bad}`]), (err: unknown) => err instanceof UsageError && /--workers: expected auto or an integer 1-256/.test(err.message), bad);
  }
});
