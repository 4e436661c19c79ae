// Usage metering: counts per consumer, API, status class and UTC hour; flushed to a JSON state file
// (summed across flushes, replaced atomically) or to Redis hashes (summed across replicas); a sink
// that fails keeps the counts for the next flush.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/core/clock.js';
import { UsageMeter, type UsageEntry, type UsageSink } from '../../src/state/usage-meter.js';
import { FileUsageSink } from '../../src/state/usage-file-sink.js';
import { RedisUsageSink } from '../../src/state/usage-redis-sink.js';
import { RedisServer } from '../support/redis-server.js';

test('JSON file sink: counts by hour, consumer, API and status class, summed over flushes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'isthmus-usage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'usage.json');
  const clock = new ManualClock(Date.UTC(2030, 4, 17, 18, 59, 59), 0);
  const sink = new FileUsageSink(file);
  const meter = new UsageMeter(clock, sink);
  meter.record('default/acme', 'api/default/orders/v1', 200);
  meter.record('default/acme', 'api/default/orders/v1', 201);
  meter.record('default/acme', 'api/default/orders/v1', 429);
  meter.record('anonymous', 'api/default/orders/v1', 401);
  clock.advance(1_000); // the next hour
  meter.record('default/acme', 'api/default/orders/v1', 500);
  await meter.flush();
  meter.record('default/acme', 'api/default/orders/v1', 204);
  await meter.close();
  assert.deepEqual(await sink.read(), {
    '2030-05-17T18:00:00Z': {
      'default/acme': { 'api/default/orders/v1': { '2xx': 2, '4xx': 1 } },
      anonymous: { 'api/default/orders/v1': { '4xx': 1 } },
    },
    '2030-05-17T19:00:00Z': { 'default/acme': { 'api/default/orders/v1': { '5xx': 1, '2xx': 1 } } },
  });
  // Only the file itself: the temporary file was renamed over it.
  assert.deepEqual(await readdir(dir), ['usage.json']);
});

test('a failing sink keeps the counts; the next flush delivers them once', async () => {
  const delivered: UsageEntry[] = [];
  let fail = true;
  const sink: UsageSink = {
    async add(entries) {
      if (fail) throw new Error('sink down');
      delivered.push(...entries);
    },
    async close() {},
  };
  const meter = new UsageMeter(new ManualClock(Date.UTC(2030, 0, 1), 0), sink);
  meter.record('c', 'a', 200);
  await assert.rejects(meter.flush(), /sink down/);
  meter.record('c', 'a', 200);
  fail = false;
  await meter.flush();
  await meter.flush();
  assert.deepEqual(delivered, [{ hour: '2030-01-01T00:00:00Z', consumer: 'c', api: 'a', statusClass: '2xx', count: 2 }]);
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
  for (let i = 0; i < 5; i++) meters[0]!.record('default/acme', 'orders', 200);
  for (let i = 0; i < 3; i++) meters[1]!.record('default/acme', 'orders', 200);
  meters[1]!.record('default/acme', 'orders', 503);
  await Promise.all(meters.map((m) => m.close()));
  const key = 'isthmus:usage:2030-05-17T18:00:00Z';
  assert.deepEqual(await inspect.hgetall(key), { 'default/acme|orders|2xx': '8', 'default/acme|orders|5xx': '1' });
  assert.ok((await inspect.ttl(key)) > 34 * 86_400);
});
