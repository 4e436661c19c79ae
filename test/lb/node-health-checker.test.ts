// The lb's active health checks against real sockets: a node port that stops accepting leaves
// the rotation after `fall` failures and comes back after `rise` successes; an HTTP check wants 2xx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeHealthChecker } from '../../src/dataplane/upstream/health/node-health-checker.js';

function listen(server: Server | ReturnType<typeof createHttpServer>, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

test('TCP: out after 2 failures in a row, back after 2 successes; HTTP: 2xx only', async (t) => {
  const tcp = createNetServer((s) => s.destroy());
  const port = await listen(tcp);
  let status = 200;
  const http = createHttpServer((_req, res) => {
    res.writeHead(status).end();
  });
  const httpPort = await listen(http);
  const changes: string[] = [];
  const checker = new NodeHealthChecker({ intervalMs: 60_000, timeoutMs: 500, rise: 2, fall: 2, onChange: (key, healthy, why) => changes.push(`${key} ${healthy ? 'up' : 'down'}: ${why}`) });
  t.after(() => {
    checker.close();
    tcp.close();
    http.close();
  });
  checker.setTargets([
    { key: 'n|tcp', address: '127.0.0.1', port, check: { kind: 'tcp' } },
    { key: 'n|http', address: '127.0.0.1', port: httpPort, check: { kind: 'http', path: '/healthz' } },
    { key: 'n|udp', address: '127.0.0.1', port: 9, check: { kind: 'none' } },
  ]);
  await checker.checkNow();
  assert.deepEqual([checker.healthy('n|tcp'), checker.healthy('n|http'), checker.healthy('n|udp')], [true, true, true]);
  await new Promise<void>((r) => tcp.close(() => r()));
  status = 503;
  await checker.checkNow();
  assert.equal(checker.healthy('n|tcp'), true, 'one failure is not enough');
  await checker.checkNow();
  assert.equal(checker.healthy('n|tcp'), false);
  assert.equal(checker.healthy('n|http'), false);
  assert.equal(checker.healthy('n|udp'), true, 'UDP targets are not checked');
  assert.match(changes.join('\n'), /n\|tcp down: .*ECONNREFUSED/);
  assert.match(changes.join('\n'), /n\|http down: GET \/healthz answered 503/);
  await listen(tcp, port);
  status = 204;
  await checker.checkNow();
  assert.equal(checker.healthy('n|tcp'), false, 'one success is not enough');
  await checker.checkNow();
  assert.equal(checker.healthy('n|tcp'), true);
  assert.equal(checker.healthy('n|http'), true);
  assert.equal(changes.length, 4);
});
