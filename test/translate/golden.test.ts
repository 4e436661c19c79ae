import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GOLDEN_DIR, listGoldenInputs, renderGolden, snapshotOf } from './golden-harness.js';

const update = process.env.UPDATE_GOLDEN === '1';
const inputs = listGoldenInputs();

test('golden inputs exist', () => {
  assert.ok(inputs.length >= 10, `expected golden inputs in ${GOLDEN_DIR}`);
});

for (const input of inputs) {
  test(`golden ${input}`, () => {
    const inPath = path.join(GOLDEN_DIR, input);
    const outPath = inPath.replace(/\.in\.yaml$/, '.out.yaml');
    const actual = renderGolden(snapshotOf(readFileSync(inPath, 'utf8'), input), input);
    if (update) {
      writeFileSync(outPath, actual);
      return;
    }
    let expected: string;
    try {
      expected = readFileSync(outPath, 'utf8');
    } catch {
      assert.fail(`${outPath} is missing; run with UPDATE_GOLDEN=1 and review it`);
    }
    assert.equal(actual, expected, `${input}: output differs from ${path.basename(outPath)} (UPDATE_GOLDEN=1 rewrites it)`);
  });
}
