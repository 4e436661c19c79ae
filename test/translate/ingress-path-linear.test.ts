// An Ingress path is user input: checking it must take time linear in its length. The trailing-slash
// trim was a /\/+$/ regex, quadratic on a long run of slashes followed by another character
// (40,000 slashes took a second; a 400 KB path, well under the file limit, would take minutes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIngressPath } from '../../src/translate/ingress/ingress-path.js';

test('a path with a 400,000-slash run is checked at once (the test times out otherwise)', { timeout: 5000 }, () => {
  const result = checkIngressPath(`/a${'/'.repeat(400_000)}x`, 'ImplementationSpecific');
  assert.equal(result.kind, 'ok');
  assert.deepEqual(checkIngressPath('/a///', 'ImplementationSpecific'), { kind: 'ok', match: { kind: 'prefix', value: '/a' } });
  assert.deepEqual(checkIngressPath('///', 'ImplementationSpecific'), { kind: 'ok', match: { kind: 'prefix', value: '/' } });
});
