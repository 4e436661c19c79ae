// The usage subscribers of the requestEnd channel: which messages are metered, the UsageMeter fed
// from the channel, and isthmus_api_requests_total with its bounded label set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channels, type RequestEndMessage } from '../../src/core/channels.js';
import { ManualClock } from '../../src/core/clock.js';
import { UsageMeter } from '../../src/state/usage-meter.js';
import { MemoryUsageSink } from '../../src/state/usage-file-sink.js';
import { meterRequests, usageKeyOf } from '../../src/observability/usage-metering.js';
import { createMetrics } from '../../src/observability/metrics.js';

function end(fields: Partial<RequestEndMessage>): RequestEndMessage {
  return {
    requestId: 'r',
    startTime: 0,
    durationMs: 1,
    method: 'GET',
    host: 'x',
    path: '/',
    protocol: 'HTTP/1.1',
    listener: 'l',
    route: 'httproute/default/v1/rule/0',
    attempts: 1,
    status: 200,
    bytesSent: 0,
    clientAddress: '127.0.0.1',
    ...fields,
  };
}

test('metered: a route of an API version, or an authenticated consumer; nothing else', () => {
  assert.equal(usageKeyOf(end({})), undefined);
  assert.deepEqual(usageKeyOf(end({ api: 'api/default/orders', apiVersion: 'v1' })), { consumer: 'anonymous', api: 'api/default/orders', version: 'v1', plan: '' });
  assert.deepEqual(usageKeyOf(end({ consumer: 'default/acme', plan: 'default/gold' })), { consumer: 'default/acme', api: '', version: '', plan: 'default/gold' });
});

test('the meter counts what the channel carries, until unsubscribed', async () => {
  const meter = new UsageMeter(new ManualClock(Date.UTC(2030, 0, 1, 12, 5), 0), new MemoryUsageSink());
  const unsubscribe = meterRequests(meter);
  channels.requestEnd.publish(end({ consumer: 'default/acme', api: 'api/default/orders', apiVersion: 'v1', status: 200 }));
  channels.requestEnd.publish(end({ consumer: 'default/acme', api: 'api/default/orders', apiVersion: 'v1', status: 503 }));
  channels.requestEnd.publish(end({ status: 200 })); // not metered
  unsubscribe();
  channels.requestEnd.publish(end({ consumer: 'default/acme', api: 'api/default/orders', apiVersion: 'v1', status: 200 }));
  const report = await meter.report({});
  assert.deepEqual(report.map((e) => `${e.hour} ${e.consumer} ${e.api} ${e.version} ${e.statusClass}=${e.count}`).sort(), [
    '2030-01-01T12:00:00Z default/acme api/default/orders v1 2xx=1',
    '2030-01-01T12:00:00Z default/acme api/default/orders v1 5xx=1',
  ]);
});

test('isthmus_api_requests_total{consumer, api, version, plan, status_class}', async () => {
  const metrics = createMetrics();
  try {
    for (let i = 0; i < 3; i++) channels.requestEnd.publish(end({ consumer: 'default/acme', plan: 'default/gold', api: 'api/default/orders', apiVersion: 'v2' }));
    channels.requestEnd.publish(end({ api: 'api/default/orders', apiVersion: 'v2', status: 401 }));
    channels.requestEnd.publish(end({})); // not metered
    const text = await metrics.registry.metrics();
    assert.match(text, /^isthmus_api_requests_total\{consumer="default\/acme",api="api\/default\/orders",version="v2",plan="default\/gold",status_class="2xx"\} 3$/m);
    assert.match(text, /^isthmus_api_requests_total\{consumer="anonymous",api="api\/default\/orders",version="v2",plan="",status_class="4xx"\} 1$/m);
    assert.equal(text.match(/^isthmus_api_requests_total\{/gm)?.length, 2);
    // Counter semantics across scrapes: increments are taken once.
    channels.requestEnd.publish(end({ consumer: 'default/acme', plan: 'default/gold', api: 'api/default/orders', apiVersion: 'v2' }));
    assert.match(await metrics.registry.metrics(), /status_class="2xx"\} 4$/m);
  } finally {
    metrics.close();
  }
});
