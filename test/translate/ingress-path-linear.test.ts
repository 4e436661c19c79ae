// An Ingress path is user input: checking it must take time linear in its length. The trailing-slash
// trim was a /\/+$/ regex, quadratic on a long run of slashes followed by another character
// (40,000 slashes took a second; a 400 KB path, well under the file limit, would take minutes).
// The check runs in a child process with a deadline: a blocked event loop here could not time out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkIngressPath } from '../../src/translate/ingress/ingress-path.js';

test('a path with a 400,000-slash run is checked at once, not in quadratic time', () => {
  const module = fileURLToPath(new URL('../../src/translate/ingress/ingress-path.js', import.meta.url));
  const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(m.checkIngressPath('/a' + '/'.repeat(400000) + 'x', 'ImplementationSpecific').kind))`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(child.signal, null, 'the check finished before the deadline');
  assert.equal(child.stdout, 'ok');
  assert.deepEqual(checkIngressPath('/a///', 'ImplementationSpecific'), { kind: 'ok', match: { kind: 'prefix', value: '/a' } });
  assert.deepEqual(checkIngressPath('///', 'ImplementationSpecific'), { kind: 'ok', match: { kind: 'prefix', value: '/' } });
});
