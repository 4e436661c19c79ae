// `isthmus echo --listen HOST:PORT --name NAME`: the demo backend as its own process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, freePort, httpRequest, pollUntil, runCli } from './cli-harness.js';

interface Echo {
  readonly name?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly body?: string;
}

test('isthmus echo answers with JSON describing the request, and exits 0 on SIGTERM', async (t) => {
  const port = await freePort('127.0.0.6');
  const child = spawn(process.execPath, [CLI, 'echo', '--listen', `127.0.0.6:${port}`, '--name', 'solo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await pollUntil('the echo backend to listen', async () => (stderr.includes(`solo listening on 127.0.0.6:${port}`) ? true : undefined), 10_000, 25);

  const res = await httpRequest({ host: '127.0.0.6', port, path: '/hello?x=1', headers: { host: 'echo.test' } });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const echo = JSON.parse(res.body) as Echo;
  assert.deepEqual({ name: echo.name, method: echo.method, path: echo.path, host: echo.host }, { name: 'solo', method: 'GET', path: '/hello?x=1', host: 'echo.test' });
  assert.equal((await httpRequest({ host: '127.0.0.6', port, path: '/?status=503' })).status, 503);
  assert.equal((await httpRequest({ host: '127.0.0.6', port, path: '/?delay=nope' })).status, 400);

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('isthmus echo with a malformed --listen exits 2', async () => {
  const res = await runCli(['echo', '--listen', 'nowhere', '--name', 'x']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /echo: --listen expects HOST:PORT, got "nowhere"/);
});
