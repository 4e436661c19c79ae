// `--http1-frontend node|lean` (default lean, or $ISTHMUS_HTTP1_FRONTEND) reaches the listener
// limits, and anything else is a usage error naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunArgs, UsageError } from '../../../src/cli/args.js';

test('--http1-frontend picks the HTTP/1.1 front end of plain-HTTP listeners', () => {
  const saved = process.env.ISTHMUS_HTTP1_FRONTEND;
  delete process.env.ISTHMUS_HTTP1_FRONTEND;
  try {
    assert.equal(parseRunArgs([]).limits.http1Frontend, 'lean');
    assert.equal(parseRunArgs(['--http1-frontend', 'lean']).limits.http1Frontend, 'lean');
    assert.equal(parseRunArgs(['--http1-frontend', 'node']).limits.http1Frontend, 'node');
    process.env.ISTHMUS_HTTP1_FRONTEND = 'node';
    assert.equal(parseRunArgs([]).limits.http1Frontend, 'node', 'the environment gives the default');
    assert.equal(parseRunArgs(['--http1-frontend', 'lean']).limits.http1Frontend, 'lean', 'the flag wins');
    assert.throws(() => parseRunArgs(['--http1-frontend', 'fast']), (err: unknown) => err instanceof UsageError && /--http1-frontend: expected node or lean, got "fast"/.test(err.message));
  } finally {
    if (saved === undefined) delete process.env.ISTHMUS_HTTP1_FRONTEND;
    else process.env.ISTHMUS_HTTP1_FRONTEND = saved;
  }
});
