// The connection limits are reachable from the command line: the real `isthmus run` with
// --max-connections-per-client and --first-byte-timeout closes the extra and the silent connections
// and keeps serving everyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { configDir, get, ingressYaml, pollUntil, runCli, serviceYaml, startEcho, startGateway } from '../e2e/cli-harness.js';
import { openSocket, timeUntilClosed } from './attack-harness.js';

test('isthmus run --max-connections-per-client and --first-byte-timeout bound what one client holds', async (t) => {
  const echo = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, { 'app.yaml': `${serviceYaml(echo)}---\n${ingressYaml('web', 'limits.test', [{ path: '/', service: 'web' }])}` });
  const gw = await startGateway(t, { config: [dir], extraArgs: ['--max-connections-per-client', '4', '--first-byte-timeout', '500', '--header-timeout', '800'] });
  const held = await Promise.all(Array.from({ length: 4 }, () => openSocket(gw.httpPort)));
  const extra = await openSocket(gw.httpPort);
  assert.ok((await timeUntilClosed(extra, 3000)) >= 0, 'the fifth connection of one address is closed');
  const silent = await Promise.all(held.map((s) => timeUntilClosed(s, 5000)));
  assert.ok(silent.every((ms) => ms >= 0), `silent connections are closed after the first-byte timeout: ${silent.map(Math.round).join(', ')}`);
  // The gateway counts a connection as gone when its own socket closes, which may come a moment
  // after this client saw the close: allow a few attempts.
  const ok = await pollUntil('a request under the cap', () => get(gw.httpPort, '/', 'limits.test').catch(() => undefined), 3000, 50);
  assert.equal(ok.status, 200);
  assert.equal(ok.name, 'web');
});

test('isthmus run refuses a bad limit with a usage error naming the flag', async () => {
  const res = await runCli(['run', '--max-connections-per-client', 'many']);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /--max-connections-per-client: expected an integer/);
});

test('isthmus run --max-concurrent-streams is what HTTP/2 clients are told (SETTINGS_MAX_CONCURRENT_STREAMS)', async (t) => {
  const echo = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, { 'app.yaml': `${serviceYaml(echo)}---\n${ingressYaml('web', 'limits.test', [{ path: '/', service: 'web' }])}` });
  const gw = await startGateway(t, { config: [dir], extraArgs: ['--max-concurrent-streams', '7', '--send-timeout', '5000'] });
  const session = http2.connect(`http://127.0.0.1:${gw.httpPort}`);
  t.after(() => session.close());
  const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
  assert.equal(settings.maxConcurrentStreams, 7);
  const status = await new Promise<number>((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': 'limits.test' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.resume();
  });
  assert.equal(status, 200);
});
