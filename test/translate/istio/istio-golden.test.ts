import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderGolden, snapshotOf } from '../golden-harness.js';

// Istio goldens: input YAML → IR + statuses + diagnostics. Read from the source tree (this
// file runs as dist/test/translate/gateway-api/*.js, four levels below the repository root).
const DIR = fileURLToPath(new URL('../../../../test/translate/istio/golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
const inputs = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml')).sort();

test('istio golden inputs exist', () => {
  assert.ok(inputs.length >= 2, `expected golden inputs in ${DIR}`);
});

for (const input of inputs) {
  test(`istio golden ${input}`, () => {
    const inPath = path.join(DIR, input);
    const outPath = inPath.replace(/\.in\.yaml$/, '.out.yaml');
    const actual = renderGolden(snapshotOf(readFileSync(inPath, 'utf8'), input), input);
    if (update) {
      writeFileSync(outPath, actual);
      return;
    }
    assert.equal(actual, readFileSync(outPath, 'utf8'), `${input} differs (UPDATE_GOLDEN=1 rewrites it)`);
  });
}
