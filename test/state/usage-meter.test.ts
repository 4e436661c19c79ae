// Usage metering: counts per consumer, API, version, plan, status class and UTC hour; flushed to a JSON state file
// (summed across flushes, replaced atomically) or to Redis hashes (summed across replicas); a sink
// that fails keeps the counts for the next flush.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/core/clock.js';
import { UsageMeter, type UsageEntry, type UsageKey, type UsageSink } from '../../src/state/usage-meter.js';
import { FileUsageSink, MemoryUsageSink } from '../../src/state/usage-file-sink.js';
import { RedisUsageSink } from '../../src/state/usage-redis-sink.js';
import { RedisServer } from '../support/redis-server.js';

const ACME_V1: UsageKey = { consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: 'default/gold' };
const ANON_V1: UsageKey = { consumer: 'anonymous', api: 'api/default/orders', version: 'v1', plan: '' };

test('JSON file sink: counts by hour, consumer, API, version, plan and status class, summed over flushes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'isthmus-usage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'usage.json');
  const clock = new ManualClock(Date.UTC(2030, 4, 17, 18, 59, 59), 0);
  const sink = new FileUsageSink(file);
  const meter = new UsageMeter(clock, sink);
  meter.record(ACME_V1, 200);
  meter.record(ACME_V1, 201);
  meter.record(ACME_V1, 429);
  meter.record(ANON_V1, 401);
  clock.advance(1_000); // the next hour
  meter.record(ACME_V1, 500);
  await meter.flush();
  meter.record(ACME_V1, 204);
  await meter.close();
  assert.deepEqual(await sink.readFile(), {
    '2030-05-17T18:00:00Z': {
      'default/acme|api/default/orders|v1|default/gold|2xx': 2,
      'default/acme|api/default/orders|v1|default/gold|4xx': 1,
      'anonymous|api/default/orders|v1||4xx': 1,
    },
    '2030-05-17T19:00:00Z': { 'default/acme|api/default/orders|v1|default/gold|5xx': 1, 'default/acme|api/default/orders|v1|default/gold|2xx': 1 },
  });
  // Only the file itself: the temporary file was renamed over it.
  assert.deepEqual(await readdir(dir), ['usage.json']);
  // Reading back: hours whose start lies in [from, to).
  const later = await new FileUsageSink(file).read({ fromHour: '2030-05-17T19:00:00Z' });
  assert.deepEqual(later.map((e) => [e.hour, e.consumer, e.version, e.plan, e.statusClass, e.count]).sort(), [
    ['2030-05-17T19:00:00Z', 'default/acme', 'v1', 'default/gold', '2xx', 1],
    ['2030-05-17T19:00:00Z', 'default/acme', 'v1', 'default/gold', '5xx', 1],
  ]);
  assert.equal((await sink.read({ toHour: '2030-05-17T19:00:00Z' })).length, 3);
  assert.equal((await sink.read({ fromHour: '2030-05-17T20:00:00Z' })).length, 0);
});

test('a failing sink keeps the counts; the next flush delivers them once', async () => {
  const delivered: UsageEntry[] = [];
  let fail = true;
  const sink: UsageSink = {
    async add(entries) {
      if (fail) throw new Error('sink down');
      delivered.push(...entries);
    },
    async read() {
      return delivered;
    },
    async close() {},
  };
  const meter = new UsageMeter(new ManualClock(Date.UTC(2030, 0, 1), 0), sink);
  const key: UsageKey = { consumer: 'c', api: 'a', version: 'v', plan: '' };
  meter.record(key, 200);
  await assert.rejects(meter.flush(), /sink down/);
  meter.record(key, 200);
  fail = false;
  await meter.flush();
  await meter.flush();
  assert.deepEqual(delivered, [{ hour: '2030-01-01T00:00:00Z', consumer: 'c', api: 'a', version: 'v', plan: '', statusClass: '2xx', count: 2 }]);
});

test('Redis sink: two replicas flushing add up in one hash per hour, with an expiry', async (t) => {
  const server = await RedisServer.start();
  const inspect = new Redis(server.url);
  const sinks = [new RedisUsageSink({ url: server.url }), new RedisUsageSink({ url: server.url })];
  t.after(async () => {
    inspect.disconnect();
    await server.stop();
  });
  await Promise.all(sinks.map((s) => s.ready()));
  const clock = new ManualClock(Date.UTC(2030, 4, 17, 18, 30), 0);
  const meters = sinks.map((s) => new UsageMeter(clock, s));
  for (let i = 0; i < 5; i++) meters[0]!.record(ACME_V1, 200);
  for (let i = 0; i < 3; i++) meters[1]!.record(ACME_V1, 200);
  meters[1]!.record(ACME_V1, 503);
  await meters[0]!.flush();
  // A report flushes this replica first, then reads every replica's hashes.
  const report = await meters[1]!.report({});
  assert.deepEqual(report.map((e) => `${e.statusClass}=${e.count}`).sort(), ['2xx=8', '5xx=1']);
  assert.deepEqual(await meters[1]!.report({ fromHour: '2030-05-17T19:00:00Z' }), []);
  await Promise.all(meters.map((m) => m.close()));
  const key = 'isthmus:usage:2030-05-17T18:00:00Z';
  assert.deepEqual(await inspect.hgetall(key), { 'default/acme|api/default/orders|v1|default/gold|2xx': '8', 'default/acme|api/default/orders|v1|default/gold|5xx': '1' });
  assert.ok((await inspect.ttl(key)) > 34 * 86_400);
});

test('memory sink: a report includes what was counted but not yet flushed', async () => {
  const meter = new UsageMeter(new ManualClock(Date.UTC(2030, 0, 1, 5, 10), 0), new MemoryUsageSink());
  meter.record(ACME_V1, 200);
  meter.record(ACME_V1, 204);
  assert.deepEqual(await meter.report({}), [{ hour: '2030-01-01T05:00:00Z', ...ACME_V1, statusClass: '2xx', count: 2 }]);
  meter.record(ACME_V1, 200);
  assert.equal((await meter.report({}))[0]!.count, 3);
});
