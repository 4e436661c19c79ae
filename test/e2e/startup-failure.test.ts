import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { configDir, freePorts, runCli } from './cli-harness.js';

test('run exits 1 with one readable line when its HTTP port is taken', async (t) => {
  const holder = net.createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const taken = (holder.address() as AddressInfo).port;
  const [https, admin] = await freePorts(2);
  const dir = configDir(t, { 'empty.yaml': '' });
  const result = await runCli(['run', '--config', dir, '--http-port', String(taken), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', 'off']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /isthmus: cannot start: the first configuration could not be applied/);
  assert.match(result.stderr, /ERR_LISTENER_BIND/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
});

test('run exits 1 with one readable line when the admin port is taken', async (t) => {
  const holder = net.createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const admin = (holder.address() as AddressInfo).port;
  const [http, https] = await freePorts(2);
  const dir = configDir(t, { 'empty.yaml': '' });
  const result = await runCli(['run', '--config', dir, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', 'off']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /isthmus: cannot start: .*EADDRINUSE/);
});
