// The gateway's usage state: a state folder that cannot be written falls back to memory with one
// line; a usage.json that does not parse is moved aside; close() flushes to the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { channels, type RequestEndMessage } from '../../src/core/channels.js';
import { ManualClock } from '../../src/core/clock.js';
import { createUsageState } from '../../src/cli/usage-state.js';

const metered: RequestEndMessage = {
  requestId: 'r', startTime: 0, durationMs: 1, method: 'GET', host: 'x', path: '/', protocol: 'HTTP/1.1', listener: 'l',
  attempts: 1, status: 200, bytesSent: 0, clientAddress: '127.0.0.1', consumer: 'default/acme', api: 'api/default/orders', apiVersion: 'v1',
};

test('a folder that cannot be written: counts in memory, said once', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-usage-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'file'), '');
  const lines: string[] = [];
  const state = createUsageState({ clock: new ManualClock(Date.UTC(2030, 0, 1), 0), redisUrl: undefined, stateDir: path.join(dir, 'file', 'state'), log: (l) => lines.push(l) });
  assert.equal(state.where, 'memory');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /cannot be written.*kept in memory only/);
  channels.requestEnd.publish(metered);
  assert.equal((await state.report({}))[0]?.count, 1);
  await state.close();
});

test('a state folder under /proc (where a recursive mkdir never returns on Node 20) falls back to memory, said once', async () => {
  const lines: string[] = [];
  const state = createUsageState({ clock: new ManualClock(Date.UTC(2030, 0, 1), 0), redisUrl: undefined, stateDir: '/proc/isthmus-nope/state', log: (l) => lines.push(l) });
  assert.equal(state.where, 'memory');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /--state-dir \/proc\/isthmus-nope\/state cannot be written \(ENOENT.*kept in memory only/);
  await state.close();
});

test('an unreadable usage.json is moved aside; close() writes the counts', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-usage-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'usage.json'), '{"half');
  const lines: string[] = [];
  const state = createUsageState({ clock: new ManualClock(Date.UTC(2030, 0, 1), 0), redisUrl: undefined, stateDir: dir, log: (l) => lines.push(l) });
  assert.equal(state.where, path.join(dir, 'usage.json'));
  assert.match(lines.join('\n'), /not a usage state file; moved to/);
  channels.requestEnd.publish(metered);
  channels.requestEnd.publish({ ...metered, consumer: undefined, api: undefined, apiVersion: undefined }); // not metered
  await state.close();
  channels.requestEnd.publish(metered); // after close: not counted
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'usage.json'), 'utf8')), { '2030-01-01T00:00:00Z': { 'default/acme|api/default/orders|v1||2xx': 1 } });
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('usage.json.unreadable-')).length, 1);
});
