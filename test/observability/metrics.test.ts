import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, it } from 'node:test';
import {
  channels,
  type ConfigApplyMessage,
  type RequestEndMessage,
  type UpstreamErrorMessage,
} from '../../src/core/channels.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { DURATION_BUCKETS_SECONDS, statusClassIndex, STATUS_CLASSES } from '../../src/observability/request-stats.js';

const ROUTE = 'ingress/default/shop/rule/0/path/0';

function requestEnd(overrides: Partial<RequestEndMessage> = {}): RequestEndMessage {
  return {
    requestId: 'req-1',
    startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    durationMs: 3,
    method: 'GET',
    host: 'shop.example.com',
    path: '/cart',
    protocol: 'HTTP/1.1',
    listener: 'ingress/http',
    route: ROUTE,
    cluster: 'service/default/shop/80',
    upstream: '127.0.0.2:3000',
    attempts: 1,
    status: 200,
    bytesSent: 42,
    clientAddress: '127.0.0.1',
    ...overrides,
  };
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text exposition format (the subset prom-client writes). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return found?.value;
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.registry.metrics());
}

describe('createMetrics', () => {
  const opened: Metrics[] = [];
  const open = (): Metrics => {
    const metrics = createMetrics();
    opened.push(metrics);
    return metrics;
  };
  afterEach(() => {
    for (const metrics of opened.splice(0)) metrics.close();
  });

  it('counts requests by route and status class, with `none` for unmatched requests', async () => {
    const metrics = open();
    channels.requestEnd.publish(requestEnd());
    channels.requestEnd.publish(requestEnd({ status: 204 }));
    channels.requestEnd.publish(requestEnd({ status: 503, details: 'no_healthy_upstream' }));
    const { route: _omit, ...unmatched } = requestEnd({ status: 404, details: 'no_route' });
    channels.requestEnd.publish(unmatched);

    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'isthmus_requests_total', { route: ROUTE, status_class: '2xx' }), 2);
    assert.equal(valueOf(samples, 'isthmus_requests_total', { route: ROUTE, status_class: '5xx' }), 1);
    assert.equal(valueOf(samples, 'isthmus_requests_total', { route: 'none', status_class: '4xx' }), 1);
    assert.equal(valueOf(samples, 'isthmus_requests_total', { route: ROUTE, status_class: '4xx' }), undefined);
  });

  it('does not count a request twice across scrapes', async () => {
    const metrics = open();
    channels.requestEnd.publish(requestEnd());
    await scrape(metrics);
    channels.requestEnd.publish(requestEnd());
    await scrape(metrics);
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'isthmus_requests_total', { route: ROUTE, status_class: '2xx' }), 2);
  });

  it('records durations in cumulative buckets from 0.5 ms to 10 s, with sum and count', async () => {
    const metrics = open();
    for (const durationMs of [0.2, 0.5, 7, 300, 20_000]) channels.requestEnd.publish(requestEnd({ durationMs }));

    const samples = await scrape(metrics);
    const bucket = (le: string): number | undefined =>
      valueOf(samples, 'isthmus_request_duration_seconds_bucket', { route: ROUTE, le });
    assert.equal(DURATION_BUCKETS_SECONDS[0], 0.0005);
    assert.equal(DURATION_BUCKETS_SECONDS.at(-1), 10);
    assert.equal(bucket('0.0005'), 2, '0.2 ms and exactly 0.5 ms (le is inclusive)');
    assert.equal(bucket('0.005'), 2);
    assert.equal(bucket('0.01'), 3);
    assert.equal(bucket('0.25'), 3);
    assert.equal(bucket('0.5'), 4);
    assert.equal(bucket('10'), 4);
    assert.equal(bucket('+Inf'), 5);
    assert.equal(valueOf(samples, 'isthmus_request_duration_seconds_count', { route: ROUTE }), 5);
    const sum = valueOf(samples, 'isthmus_request_duration_seconds_sum', { route: ROUTE });
    assert.ok(sum !== undefined && Math.abs(sum - 20.3077) < 1e-9, `sum ${sum}`);
    const text = await metrics.registry.metrics();
    assert.match(text, /# TYPE isthmus_request_duration_seconds histogram/);
  });

  it('counts upstream errors by cluster and reason, and config applies by outcome', async () => {
    const metrics = open();
    const before = await scrape(metrics);
    assert.equal(valueOf(before, 'isthmus_config_applies_total', { outcome: 'applied' }), 0);
    assert.equal(valueOf(before, 'isthmus_config_applies_total', { outcome: 'rejected' }), 0);

    const error = (reason: UpstreamErrorMessage['reason']): UpstreamErrorMessage => ({
      cluster: 'service/default/shop/80',
      endpoint: '127.0.0.2:3000',
      reason,
      retried: true,
    });
    channels.upstreamError.publish(error('upstream_connect_error'));
    channels.upstreamError.publish(error('upstream_connect_error'));
    channels.upstreamError.publish(error('upstream_reset'));
    const apply = (outcome: ConfigApplyMessage['outcome']): ConfigApplyMessage => ({
      generation: 1,
      outcome,
      durationMs: 2,
      errors: outcome === 'rejected' ? 1 : 0,
      warnings: 0,
    });
    channels.configApply.publish(apply('applied'));
    channels.configApply.publish(apply('applied'));
    channels.configApply.publish(apply('rejected'));

    const samples = await scrape(metrics);
    const cluster = 'service/default/shop/80';
    assert.equal(valueOf(samples, 'isthmus_upstream_errors_total', { cluster, reason: 'upstream_connect_error' }), 2);
    assert.equal(valueOf(samples, 'isthmus_upstream_errors_total', { cluster, reason: 'upstream_reset' }), 1);
    assert.equal(valueOf(samples, 'isthmus_config_applies_total', { outcome: 'applied' }), 2);
    assert.equal(valueOf(samples, 'isthmus_config_applies_total', { outcome: 'rejected' }), 1);
  });

  it('includes the default Node process metrics in its own registry', async () => {
    const metrics = open();
    const text = await metrics.registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_heap_size_used_bytes /m);
  });

  it('keeps separate registries per instance and stops counting after close()', async () => {
    const first = open();
    const second = open();
    assert.notEqual(first.registry, second.registry);
    channels.requestEnd.publish(requestEnd());
    first.close();
    channels.requestEnd.publish(requestEnd());

    const labels = { route: ROUTE, status_class: '2xx' };
    assert.equal(valueOf(await scrape(first), 'isthmus_requests_total', labels), 1);
    assert.equal(valueOf(await scrape(second), 'isthmus_requests_total', labels), 2);
    second.close();
    second.close(); // idempotent
    assert.equal(diagnosticsChannel.hasSubscribers(channels.requestEnd.name), false);
    assert.equal(diagnosticsChannel.hasSubscribers(channels.upstreamError.name), false);
    assert.equal(diagnosticsChannel.hasSubscribers(channels.configApply.name), false);
  });
});

describe('statusClassIndex', () => {
  it('maps 1xx-5xx to their class and anything else to `other`', () => {
    const classOf = (status: number): string => STATUS_CLASSES[statusClassIndex(status)]!;
    assert.equal(classOf(101), '1xx');
    assert.equal(classOf(200), '2xx');
    assert.equal(classOf(308), '3xx');
    assert.equal(classOf(499), '4xx');
    assert.equal(classOf(599), '5xx');
    assert.equal(classOf(0), 'other');
    assert.equal(classOf(600), 'other');
  });
});
