import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { channels, type RequestEndMessage } from '../../src/core/channels.js';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import type { ObjectStatus } from '../../src/core/object-status.js';
import { AdminServer } from '../../src/admin/admin-server.js';
import type { AdminView } from '../../src/admin/admin-view.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import type { UsageEntry, UsageRange } from '../../src/state/usage-meter.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function request(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(port: number, path: string): Promise<{ status: number; body: unknown; headers: http.IncomingHttpHeaders }> {
  const reply = await request(port, path);
  assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8', path);
  return { status: reply.status, body: JSON.parse(reply.text) as unknown, headers: reply.headers };
}

const diagnostic: Diagnostic = {
  severity: 'error',
  code: 'ERR_BACKEND_PORT_NOT_FOUND',
  object: { group: 'networking.k8s.io', kind: 'Ingress', namespace: 'default', name: 'shop' },
  source: 'examples/quickstart/ingress.yaml#0',
  path: 'spec.rules[0].http.paths[0].backend.service.port',
  message: 'Service "cart" has no port 8080 (ports: 80, 443)',
};

const statuses: ObjectStatus[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'default', name: 'shop', status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: 'isthmus', status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] } },
];

/** A view over mutable state, as the composition root's would be. */
class TestView implements AdminView {
  ready = false;
  applied: unknown = null;
  failing = false;
  isReady(): boolean {
    return this.ready;
  }
  config(): unknown {
    if (this.failing) throw new Error('view exploded');
    return this.applied;
  }
  diagnostics(): readonly Diagnostic[] {
    return [diagnostic];
  }
  statuses(): readonly ObjectStatus[] {
    return statuses;
  }
  upstreams(): unknown {
    return { clusters: [{ name: 'service/default/shop/80', endpoints: [{ key: '127.0.0.2:3000', healthy: true }] }] };
  }
}

describe('AdminServer', () => {
  const view = new TestView();
  let metrics: Metrics;
  let server: AdminServer;
  let port: number;

  before(async () => {
    metrics = createMetrics();
    server = new AdminServer(view, { port: 0, metrics });
    port = await server.listen();
  });
  after(async () => {
    await server.close();
    metrics.close();
  });

  it('answers /ready 503 until the view is ready, then 200', async () => {
    const notReady = await getJson(port, '/ready');
    assert.equal(notReady.status, 503);
    assert.deepEqual(notReady.body, { ready: false });
    view.ready = true;
    const ready = await getJson(port, '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ready: true });
    assert.equal(ready.headers['cache-control'], 'no-store');
  });

  it('answers /healthz 200 always', async () => {
    const reply = await getJson(port, '/healthz');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: 'ok' });
  });

  it('serves the applied config as given (null before the first apply), compact or ?pretty', async () => {
    view.applied = null;
    assert.deepEqual((await getJson(port, '/api/config')).body, null);
    view.applied = { generation: 3, listeners: [], clusters: [], certificates: [] };
    const compact = await request(port, '/api/config');
    assert.equal(compact.text, '{"generation":3,"listeners":[],"clusters":[],"certificates":[]}\n');
    const pretty = await request(port, '/api/config?pretty');
    assert.match(pretty.text, /^\{\n {2}"generation": 3,/);
    assert.deepEqual(JSON.parse(pretty.text), view.applied);
  });

  it('serves diagnostics as objects with a formatted `text`', async () => {
    const reply = await getJson(port, '/api/diagnostics');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, [
      {
        ...diagnostic,
        text:
          'error: Ingress default/shop spec.rules[0].http.paths[0].backend.service.port: Service "cart" has no port 8080 ' +
          '(ports: 80, 443) [ERR_BACKEND_PORT_NOT_FOUND] (examples/quickstart/ingress.yaml#0)',
      },
    ]);
  });

  it('serves object statuses as {apiVersion, kind, namespace, name, status}', async () => {
    const reply = await getJson(port, '/api/status');
    assert.deepEqual(reply.body, [
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'default', name: 'shop', status: statuses[0]!.status },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: 'isthmus', status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] } },
    ]);
  });

  it('serves upstreams as given', async () => {
    assert.deepEqual((await getJson(port, '/api/upstreams')).body, view.upstreams());
  });

  it('serves Prometheus text with the metrics published on the channels', async () => {
    const message: RequestEndMessage = {
      requestId: 'r1', startTime: 0, durationMs: 1.5, method: 'GET', host: 'a', path: '/', protocol: 'HTTP/1.1',
      listener: 'ingress/http', route: 'ingress/default/shop/rule/0/path/0', attempts: 1, status: 200,
      bytesSent: 10, clientAddress: '127.0.0.1',
    };
    channels.requestEnd.publish(message);
    const reply = await request(port, '/metrics');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(reply.text, /^isthmus_requests_total\{route="ingress\/default\/shop\/rule\/0\/path\/0",status_class="2xx"\} 1$/m);
    assert.match(reply.text, /^isthmus_request_duration_seconds_bucket\{route="ingress\/default\/shop\/rule\/0\/path\/0",le="0.0025"\} 1$/m);
    assert.match(reply.text, /^# TYPE isthmus_upstream_errors_total counter$/m);
    assert.match(reply.text, /^isthmus_config_applies_total\{outcome="rejected"\} 0$/m);
    assert.match(reply.text, /^process_resident_memory_bytes \d+/m);
  });

  it('lists its endpoints at /', async () => {
    const reply = await getJson(port, '/');
    assert.ok(Object.keys((reply.body as { endpoints: object }).endpoints).includes('/metrics'));
  });

  it('answers unknown paths 404 and other methods 405 with an Allow header', async () => {
    const missing = await getJson(port, '/api/nope?x=1');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: 'not_found', path: '/api/nope' });
    assert.equal((await getJson(port, '//metrics')).status, 404);

    const post = await request(port, '/api/config', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    assert.deepEqual(JSON.parse(post.text), { error: 'method_not_allowed', allow: 'GET, HEAD' });
  });

  it('answers HEAD with headers only', async () => {
    const head = await request(port, '/api/status', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.ok(Number(head.headers['content-length']) > 0);
  });

  it('turns a throwing view into a 500 and keeps serving', async () => {
    view.failing = true;
    try {
      const reply = await getJson(port, '/api/config');
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.body, { error: 'internal_error', message: 'view exploded' });
    } finally {
      view.failing = false;
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    view.applied = cyclic;
    assert.equal((await getJson(port, '/api/config')).status, 500);
    assert.equal((await getJson(port, '/healthz')).status, 200);
  });
});

describe('AdminServer without metrics', () => {
  it('answers /metrics 404 metrics_disabled, binds 127.0.0.1 by default, and closes with open keep-alive connections', async () => {
    const server = new AdminServer(new TestView(), { port: 0 });
    const port = await server.listen();
    const reply = await getJson(port, '/metrics');
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.body, { error: 'metrics_disabled' });

    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 1000, 'close() does not wait for idle keep-alive sockets');
    agent.destroy();
    await server.close(); // idempotent
  });

  it('rejects listen() when the port is taken', async () => {
    const first = new AdminServer(new TestView(), { port: 0 });
    const port = await first.listen();
    const second = new AdminServer(new TestView(), { port });
    await assert.rejects(second.listen(), /EADDRINUSE/);
    await first.close();
  });
});

describe('AdminServer /api/usage', () => {
  it('404 usage_disabled without a meter; JSON and CSV from the view; 400 for a bad query; 503 when the store fails', async () => {
    const plain = new AdminServer(new TestView(), { port: 0 });
    const plainPort = await plain.listen();
    assert.deepEqual((await getJson(plainPort, '/api/usage')).body, { error: 'usage_disabled' });
    await plain.close();

    let failing = false;
    const ranges: unknown[] = [];
    class UsageView extends TestView {
      async usage(range: UsageRange): Promise<readonly UsageEntry[]> {
        ranges.push(range);
        if (failing) throw new Error('redis down');
        return [{ hour: '2030-05-17T18:00:00Z', consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: '', statusClass: '2xx', count: 7 }];
      }
    }
    const server = new AdminServer(new UsageView(), { port: 0 });
    const port = await server.listen();
    try {
      const json = await getJson(port, '/api/usage?from=2030-05-17&to=2030-05-18');
      assert.equal(json.status, 200);
      assert.deepEqual(json.body, {
        from: '2030-05-17T00:00:00Z',
        to: '2030-05-18T00:00:00Z',
        total: 7,
        usage: [{ hour: '2030-05-17T18:00:00Z', consumer: 'default/acme', api: 'api/default/orders', version: 'v1', plan: '', statusClass: '2xx', count: 7 }],
      });
      assert.deepEqual(ranges.at(-1), { fromHour: '2030-05-17T00:00:00Z', toHour: '2030-05-18T00:00:00Z' });
      const csv = await request(port, '/api/usage?format=csv');
      assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8; header=present');
      assert.equal(csv.text, 'hour,consumer,api,version,plan,status_class,count\r\n2030-05-17T18:00:00Z,default/acme,api/default/orders,v1,,2xx,7\r\n');
      assert.equal((await getJson(port, '/api/usage?to=soon')).status, 400);
      failing = true;
      const down = await getJson(port, '/api/usage');
      assert.equal(down.status, 503);
      assert.deepEqual(down.body, { error: 'usage_unavailable', message: 'redis down' });
      assert.equal((await request(port, '/api/usage', 'POST')).status, 405);
    } finally {
      await server.close();
    }
  });
});
