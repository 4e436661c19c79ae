import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { channels, type RequestEndMessage } from '../../src/core/channels.js';
import { PROXIED_REQUEST_END } from './request-end-sample.js';
import { createAccessLog } from '../../src/observability/access-log.js';
import { formatAccessLogLine } from '../../src/observability/access-log-line.js';

const FIELDS = [
  'time', 'request_id', 'method', 'host', 'path', 'protocol', 'status', 'duration_ms', 'upstream_headers_ms',
  'route', 'cluster', 'upstream', 'attempts', 'bytes_sent', 'details', 'client', 'user_agent',
  'audit', 'ext_auth',
];

const proxied: RequestEndMessage = PROXIED_REQUEST_END;

const unmatched: RequestEndMessage = {
  requestId: '5f0c6e2a-2',
  startTime: Date.UTC(2024, 0, 2, 3, 4, 6, 0),
  durationMs: 0.25,
  method: 'GET',
  host: 'nowhere.example.com',
  path: '/',
  protocol: 'HTTP/2',
  listener: 'ingress/https',
  attempts: 0,
  status: 404,
  bytesSent: 60,
  details: 'no_route',
  clientAddress: '::1',
};

const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'isthmus-access-log-'));
after(() => fs.rmSync(tempDir, { recursive: true, force: true }));

function readLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createAccessLog', () => {
  it('writes one JSON line per request with every field, null where it does not apply', async () => {
    const file = path.join(tempDir, 'nested', 'folder', 'access.log');
    const log = createAccessLog(file);
    channels.requestEnd.publish(proxied);
    channels.requestEnd.publish(unmatched);
    await log.close();

    const lines = readLines(file);
    assert.equal(lines.length, 2);
    for (const line of lines) assert.deepEqual(Object.keys(line), FIELDS);
    assert.deepEqual(lines[0], {
      time: '2024-01-02T03:04:05.678Z',
      request_id: '5f0c6e2a-1',
      method: 'POST',
      host: 'shop.example.com',
      path: '/cart?id=7',
      protocol: 'HTTP/1.1',
      status: 201,
      duration_ms: 12.346,
      upstream_headers_ms: 10,
      route: 'ingress/default/shop/rule/0/path/0',
      cluster: 'service/default/shop/80',
      upstream: '127.0.0.2:3000',
      attempts: 2,
      bytes_sent: 1234,
      details: null,
      client: '127.0.0.1',
      user_agent: 'curl/8.5.0',
      audit: null,
      ext_auth: null,
    });
    assert.deepEqual(lines[1], {
      time: '2024-01-02T03:04:06.000Z',
      request_id: '5f0c6e2a-2',
      method: 'GET',
      host: 'nowhere.example.com',
      path: '/',
      protocol: 'HTTP/2',
      status: 404,
      duration_ms: 0.25,
      upstream_headers_ms: null,
      route: null,
      cluster: null,
      upstream: null,
      attempts: 0,
      bytes_sent: 60,
      details: 'no_route',
      client: '::1',
      user_agent: null,
      audit: null,
      ext_auth: null,
    });
  });

  it('appends to an existing file and writes nothing after close()', async () => {
    const file = path.join(tempDir, 'append.log');
    fs.writeFileSync(file, '{"earlier":true}\n');
    const log = createAccessLog(file);
    channels.requestEnd.publish(proxied);
    await log.close();
    await log.close(); // idempotent
    channels.requestEnd.publish(unmatched);
    const lines = readLines(file);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0], { earlier: true });
    assert.equal(lines[1]!['request_id'], '5f0c6e2a-1');
    assert.equal(diagnosticsChannel.hasSubscribers(channels.requestEnd.name), false);
  });

  it('flushes a buffered line within about a second without waiting for close()', async () => {
    const file = path.join(tempDir, 'periodic.log');
    const log = createAccessLog(file);
    try {
      channels.requestEnd.publish(proxied);
      const deadline = performance.now() + 3000;
      while (readLines(file).length === 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(readLines(file).length, 1);
    } finally {
      await log.close();
    }
  });

  it('a target that stops reading (a full pipe) holds at most the buffer bound; the rest is dropped and reported', async () => {
    // A FIFO with a reader that never reads: the kernel takes one pipe's worth, then every write
    // would block. Without the bound sonic-boom kept all 8 MB of these lines in memory.
    const fifo = path.join(tempDir, 'stuck.fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const maxBufferedBytes = 256 * 1024;
    let dropped = 0;
    const errors: Error[] = [];
    const log = createAccessLog(fifo, { maxBufferedBytes, onDrop: (bytes) => (dropped += bytes), onError: (e) => errors.push(e) });
    let total = 0;
    for (let i = 0; i < 20_000; i++) {
      const message = { ...proxied, requestId: `r${i}` };
      total += Buffer.byteLength(formatAccessLogLine(message));
      channels.requestEnd.publish(message);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Kept: the buffer bound plus what the pipe took (64 KiB here; 1 MiB allows for a bigger pipe).
    assert.ok(dropped >= total - maxBufferedBytes - 1024 * 1024, `dropped ${dropped} of ${total} bytes`);
    assert.ok(dropped < total, 'lines up to the bound were kept');
    // The reader goes away: the writes fail (EPIPE), which is reported, and close() still returns.
    fs.closeSync(reader);
    await log.close();
  });

  it('keeps many lines intact under load (buffered, asynchronous writes)', async () => {
    const file = path.join(tempDir, 'load.log');
    const log = createAccessLog(file);
    for (let i = 0; i < 20_000; i++) channels.requestEnd.publish({ ...proxied, requestId: `r${i}` });
    await log.close();
    const lines = readLines(file);
    assert.equal(lines.length, 20_000);
    assert.equal(lines[19_999]!['request_id'], 'r19999');
  });

  it('fails at creation when the file cannot be opened', () => {
    const notAFolder = path.join(tempDir, 'plain-file');
    fs.writeFileSync(notAFolder, '');
    assert.throws(() => createAccessLog(path.join(notAFolder, 'access.log')), /ENOTDIR|EEXIST/);
  });

  it('`off` subscribes to nothing', async () => {
    const log = createAccessLog('off');
    assert.equal(diagnosticsChannel.hasSubscribers(channels.requestEnd.name), false);
    await log.close();
  });

  it('`stdout` writes the lines to standard output and flushes them on close()', async () => {
    const moduleUrl = new URL('../../src/observability/access-log.js', import.meta.url).href;
    const channelsUrl = new URL('../../src/core/channels.js', import.meta.url).href;
    const script = `
      import { createAccessLog } from ${JSON.stringify(moduleUrl)};
      import { channels } from ${JSON.stringify(channelsUrl)};
      const log = createAccessLog('stdout');
      const message = JSON.parse(process.argv[1]);
      for (let i = 0; i < 3; i++) channels.requestEnd.publish({ ...message, requestId: 'child-' + i });
      await log.close();
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(proxied)],
      { cwd: path.dirname(fileURLToPath(import.meta.url)) },
    );
    const lines = stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l['request_id']), ['child-0', 'child-1', 'child-2']);
    assert.deepEqual(Object.keys(lines[0]!), FIELDS);
  });
});
