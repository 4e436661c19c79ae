// `isthmus run` flags added with usage metering: --state-dir and its defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseRunArgs, stateDir, UsageError } from '../../src/cli/args.js';

test('--state-dir: the flag, else $ISTHMUS_STATE_DIR, else $XDG_STATE_HOME/isthmus, else ~/.local/state/isthmus', () => {
  assert.equal(parseRunArgs(['--state-dir', 'var/isthmus']).stateDir, path.resolve('var/isthmus'));
  assert.equal(stateDir(undefined, { ISTHMUS_STATE_DIR: '/srv/isthmus' }), '/srv/isthmus');
  assert.equal(stateDir(undefined, { XDG_STATE_HOME: '/home/u/.state' }), '/home/u/.state/isthmus');
  assert.equal(stateDir(undefined, { XDG_STATE_HOME: 'relative' }), path.join(homedir(), '.local', 'state', 'isthmus'), 'XDG: a relative path is ignored');
  assert.equal(stateDir(undefined, {}), path.join(homedir(), '.local', 'state', 'isthmus'));
  assert.throws(() => parseRunArgs(['--state-dir', '']), UsageError);
});
