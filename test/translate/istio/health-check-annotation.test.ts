// The isthmus.dev/health-check annotation: both spellings read the same, defaults fill the rest,
// and anything unreadable drops the whole check with a message naming the setting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHealthCheckAnnotation } from '../../../src/translate/istio/health-check-annotation.js';

test('key=value and JSON give the same check; defaults fill what is left out', () => {
  const kv = parseHealthCheckAnnotation('path=/healthz; interval=5s; timeout=250ms; statuses=200-299,418');
  const json = parseHealthCheckAnnotation('{"path": "/healthz", "interval": "5s", "timeout": "250ms", "statuses": ["200-299", 418]}');
  assert.deepEqual(kv, json);
  assert.deepEqual(kv, {
    kind: 'ok',
    check: { path: '/healthz', intervalMs: 5000, timeoutMs: 250, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [{ min: 200, max: 299 }, { min: 418, max: 418 }] },
    warnings: [],
  });
  const minimal = parseHealthCheckAnnotation('path=/ready?deep=1');
  assert.equal(minimal.kind === 'ok' && minimal.check.intervalMs, 10_000);
});

test('unreadable settings drop the check and say which; unknown keys are warnings', () => {
  const cases: [string, RegExp][] = [
    ['interval=5s', /path: missing/],
    ['path=healthz', /not an origin-form path/],
    ['path=/h; interval=0s', /interval: "0s" is not a positive duration/],
    ['path=/h; unhealthyThreshold=0', /unhealthyThreshold: "0" is not a whole number/],
    ['path=/h; statuses=2xx', /statuses: "2xx"/],
    ['path=/h; statuses=299-200', /statuses: "299-200"/],
    ['path=/h; host=a b', /host: "a b"/],
    ['{"path": ', /not valid JSON/],
    ['path', /"path" is not key=value/],
  ];
  for (const [text, message] of cases) {
    const parsed = parseHealthCheckAnnotation(text);
    assert.equal(parsed.kind, 'invalid', text);
    assert.match(parsed.kind === 'invalid' ? parsed.message : '', message, text);
  }
  const unknown = parseHealthCheckAnnotation('path=/h; colour=blue');
  assert.equal(unknown.kind, 'ok');
  assert.match(unknown.kind === 'ok' ? unknown.warnings.join() : '', /unknown setting "colour"/);
});
