// A port in use at start-up: exit 1 with one plain line naming the port and the flag that moves it,
// and no claim that a "last good configuration" serves (there is none yet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configDir, freePorts, runCli, takenPort, type Cleanup } from './cli-harness.js';

/** `isthmus run` on the given ports with an empty config folder; resolves when it exits. */
async function runOn(t: Cleanup, ports: { http: number; https: number; admin: number }, extra: readonly string[] = []): ReturnType<typeof runCli> {
  const dir = configDir(t, { 'empty.yaml': '' });
  return runCli(['run', '--config', dir, '--http-port', String(ports.http), '--https-port', String(ports.https), '--admin-port', String(ports.admin), '--listen-address', '127.0.0.1', '--access-log', 'off', ...extra]);
}

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
}

test('run exits 1 with one plain line when its HTTP port is taken: the port, --http-port, nothing serving', async (t) => {
  const taken = await takenPort(t);
  const [https, admin] = (await freePorts(2)) as [number, number];
  const result = await runOn(t, { http: taken, https, admin });
  assert.equal(result.code, 1);
  const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
  assert.equal(
    last,
    `isthmus: cannot start: port ${taken} on 127.0.0.1 (plain HTTP; port 80 in the resources) is already in use by another process: ` +
      'choose another with --http-port, or stop the process that holds it. No configuration is serving.',
  );
  assert.match(result.stderr, /ERR_LISTENER_BIND/, 'the diagnostic is logged too');
  assert.match(result.stderr, /rejected \(the data plane refused it\); no configuration is serving yet \[ERR_CONFIG_REJECTED\]/);
  assert.doesNotMatch(result.stderr, /last good configuration/, 'there is no last good configuration at start-up');
  assertNoStackTrace(result.stderr);
});

test('a port moved by --port-map names --port-map, not --http-port', async (t) => {
  const taken = await takenPort(t);
  const [http, https, admin] = (await freePorts(3)) as [number, number, number];
  const result = await runOn(t, { http, https, admin }, ['--port-map', `80=${taken}`]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`cannot start: port ${taken} on 127\\.0\\.0\\.1 \\(plain HTTP; port 80 in the resources\\) is already in use by another process: choose another with --port-map 80=PORT`));
  assertNoStackTrace(result.stderr);
});

test('run exits 1 with one plain line when the admin port is taken: the port, --admin-port, nothing serving', async (t) => {
  const admin = await takenPort(t);
  const [http, https] = (await freePorts(2)) as [number, number];
  const result = await runOn(t, { http, https, admin });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `isthmus: cannot start: the admin port ${admin} on 127.0.0.1 is already in use by another process: choose another with --admin-port, ` +
      'or stop the process that holds it. Nothing is serving.\n',
  );
});

test('an access log under a folder that cannot be created (/proc/nope) is a start-up error, not a hang', async (t) => {
  const [http, https, admin] = (await freePorts(3)) as [number, number, number];
  const dir = configDir(t, { 'empty.yaml': '' });
  const result = await runCli(['run', '--config', dir, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', '/proc/nope/access.log']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /cannot start: access log \/proc\/nope\/access.log: ENOENT/);
  assertNoStackTrace(result.stderr);
});
