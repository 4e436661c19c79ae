// formatAccessLogLine writes the access log entry's JSON by hand; it must stay byte for byte what
// JSON.stringify(toAccessLogEntry(m)) writes, for every kind of field value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestEndMessage } from '../../src/core/channels.js';
import { formatAccessLogLine, toAccessLogEntry } from '../../src/observability/access-log-line.js';
import { PROXIED_REQUEST_END } from './request-end-sample.js';

// A start time with a fraction of a millisecond: Date truncates it, and so must the line.
const base: RequestEndMessage = { ...PROXIED_REQUEST_END, startTime: PROXIED_REQUEST_END.startTime + 0.75 };

const variants: RequestEndMessage[] = [
  base,
  // No route, no upstream, a local reply: every optional field absent.
  { requestId: 'r2', startTime: 0, durationMs: 0.25, method: 'GET', host: 'nowhere', path: '/', protocol: 'HTTP/2', listener: 'l', attempts: 0, status: 404, bytesSent: 60, details: 'no_route', clientAddress: '::1' },
  // Strings that need escaping: quotes, backslashes, control characters, non-ASCII, a lone surrogate.
  { ...base, path: '/a"b\\c\u0001\u001f\u007f?q=\u00e9\u4e2d', userAgent: 'x\ty\nz\r\u2028\ud800', host: 'caf\u00e9.example' },
  // Identity fields, a fractional duration that rounds, big numbers.
  { ...base, consumer: 'partners/acme', plan: 'partners/gold', api: 'api/orders', apiVersion: 'v1', audit: 'rule-1', extAuth: 'check: allowed', durationMs: 0.0004999, bytesSent: 2 ** 40, upstreamHeadersMs: undefined },
  // Two lines in one millisecond, then the next one: the cached time must follow.
  { ...base, startTime: base.startTime + 0.1 },
  { ...base, startTime: base.startTime + 1 },
  { ...base, startTime: base.startTime - 86_400_000 },
];

test('formatAccessLogLine writes exactly JSON.stringify(toAccessLogEntry(m)) and a newline', () => {
  for (const m of variants) assert.equal(formatAccessLogLine(m), `${JSON.stringify(toAccessLogEntry(m))}\n`);
});

test('with a worker id, the line ends with it, as { ...entry, worker } does', () => {
  for (const m of variants) assert.equal(formatAccessLogLine(m, 3), `${JSON.stringify({ ...toAccessLogEntry(m), worker: 3 })}\n`);
});

test('numbers JSON cannot hold are null, as JSON.stringify writes them', () => {
  const odd = { ...base, durationMs: Number.NaN, status: Number.POSITIVE_INFINITY };
  assert.equal(formatAccessLogLine(odd), `${JSON.stringify(toAccessLogEntry(odd))}\n`);
});
