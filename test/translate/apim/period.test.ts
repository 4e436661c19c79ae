// The duration grammar of API management policies (src/translate/apim/period.ts), and that the
// CRD patterns in deploy/crds/ accept exactly what the parser reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDurationMs, parsePeriodMs } from '../../../src/translate/apim/period.js';

test('one integer and one unit', () => {
  assert.deepEqual(['500ms', '1s', '1m', '90s', '1h', '1d'].map(parsePeriodMs), [500, 1000, 60_000, 90_000, 3_600_000, 86_400_000]);
  for (const bad of ['0s', '1', 'm', '1 m', '1m30s', '1.5m', '-1m', '1w', '1M', '01', '01m']) assert.equal(parsePeriodMs(bad), undefined, bad);
  assert.equal(parseDurationMs('0s'), 0, 'a clock skew may be zero');
});

test('the CRD patterns agree with the parser', () => {
  const text = readFileSync(new URL('../../../../deploy/crds/plan.yaml', import.meta.url), 'utf8');
  const pattern = /period:\n\s+type: string\n\s+pattern: '([^']+)'/.exec(text)?.[1];
  assert.ok(pattern);
  const re = new RegExp(pattern);
  for (const s of ['500ms', '1s', '1m', '1h', '1d', '0s', '1 m', '1m30s', '01', '01m', '1w']) assert.equal(re.test(s), parsePeriodMs(s) !== undefined, s);
});
