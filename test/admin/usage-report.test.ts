// GET /api/usage's query and formats: [from, to) on hour starts, RFC 3339 or a date; filters; CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUsageQuery, usageCsv, usageJson, usageRows, type UsageQuery } from '../../src/admin/usage-report.js';
import type { UsageEntry } from '../../src/state/usage-meter.js';

function parse(q: string): UsageQuery {
  const parsed = parseUsageQuery(new URLSearchParams(q));
  assert.equal(parsed.kind, 'ok', JSON.stringify(parsed));
  return (parsed as { query: UsageQuery }).query;
}

test('from is inclusive, to exclusive, both on hour starts; a date is its UTC midnight', () => {
  assert.deepEqual(parse('').range, {});
  assert.deepEqual(parse('from=2030-05-01&to=2030-06-01').range, { fromHour: '2030-05-01T00:00:00Z', toHour: '2030-06-01T00:00:00Z' });
  // Not on the hour: the hours that start at or after it.
  assert.deepEqual(parse('from=2030-05-17T18:30:00Z&to=2030-05-17T20:00:01Z').range, { fromHour: '2030-05-17T19:00:00Z', toHour: '2030-05-17T21:00:00Z' });
  assert.deepEqual(parse('from=2030-05-17T20:00:00%2B02:00').range, { fromHour: '2030-05-17T18:00:00Z' });
  for (const bad of ['from=yesterday', 'to=2030-05-17T18:00:00', 'from=1716000000', 'format=xml']) {
    assert.equal(parseUsageQuery(new URLSearchParams(bad)).kind, 'invalid', bad);
  }
});

const entries: UsageEntry[] = [
  { hour: '2030-05-17T19:00:00Z', consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: 'default/gold', statusClass: '2xx', count: 2 },
  { hour: '2030-05-17T18:00:00Z', consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: 'default/gold', statusClass: '2xx', count: 5 },
  { hour: '2030-05-17T18:00:00Z', consumer: 'anonymous', api: 'api/default/orders', version: 'v2', plan: '', statusClass: '4xx', count: 1 },
  { hour: '2030-05-17T18:00:00Z', consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: 'default/gold', statusClass: '2xx', count: 1 },
];

test('rows: filtered, summed per cell, in order; JSON with the total', () => {
  const all = usageRows(entries, parse(''));
  assert.deepEqual(all.map((r) => `${r.hour} ${r.consumer} ${r.version} ${r.count}`), [
    '2030-05-17T18:00:00Z anonymous v2 1',
    '2030-05-17T18:00:00Z default/acme v1 6',
    '2030-05-17T19:00:00Z default/acme v1 2',
  ]);
  assert.deepEqual(usageRows(entries, parse('consumer=anonymous')).length, 1);
  assert.deepEqual(usageRows(entries, parse('api=api/default/orders&version=v1')).length, 2);
  assert.deepEqual(usageRows(entries, parse('api=api/default/other')).length, 0);
  const json = usageJson(all, parse('from=2030-05-17')) as { from: string; to: null; total: number };
  assert.deepEqual([json.from, json.to, json.total], ['2030-05-17T00:00:00Z', null, 9]);
});

test('CSV: RFC 4180 with a header row; fields quoted when needed, formulas defused', () => {
  const rows = usageRows(entries, parse('consumer=anonymous'));
  assert.equal(usageCsv(rows), 'hour,consumer,api,version,plan,status_class,count\r\n2030-05-17T18:00:00Z,anonymous,api/default/orders,v2,,4xx,1\r\n');
  assert.equal(usageCsv([]), 'hour,consumer,api,version,plan,status_class,count\r\n');
  const odd = usageCsv([{ hour: 'h', consumer: 'a,"b"', api: '=cmd', version: 'v', plan: '', statusClass: '2xx', count: 1 }]);
  assert.equal(odd.split('\r\n')[1], `h,"a,""b""",'=cmd,v,,2xx,1`);
});
