import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_ERRORS, RUNTIME_ERRORS } from '../../src/core/errors.js';

// docs/errors.md is the user's copy of the registry: every code documented, nothing stale.
test('docs/errors.md lists exactly the codes of src/core/errors.ts', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Za-z0-9_]+)` \|/gm)].map((m) => m[1]));
  const registry = new Set([...Object.keys(CONFIG_ERRORS), ...Object.keys(RUNTIME_ERRORS)]);
  for (const code of registry) assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  for (const code of documented) assert.ok(registry.has(code!), `${code} is documented but not in the registry`);
});
