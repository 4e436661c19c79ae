// The parse worker: a real worker_threads thread, real files. It must give what an in-process
// parse gives, and a file that needs too much time or memory must cost the worker, not the caller.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_CONFIG_LIMITS, type ConfigLimits } from '../../src/sources/file/config-limits.js';
import { fingerprintContribution } from '../../src/sources/file/contribution-fingerprint.js';
import { ParseWorkerClient, type FileLoad } from '../../src/sources/file/parse-worker-client.js';
import { readConfigFile } from '../../src/sources/file/read-config-file.js';
import type { ConfigFileRef } from '../../src/sources/file/scan-config-tree.js';
import { billionLaughs, largeIngress } from '../fuzz/hostile-yaml.js';

const root = mkdtempSync(path.join(tmpdir(), 'isthmus-parse-worker-'));
after(() => rmSync(root, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): ConfigFileRef {
  const full = path.join(root, name);
  writeFileSync(full, text);
  return { path: full, label: name, format: name.endsWith('.json') ? 'json' : 'yaml' };
}

function client(limits: Partial<ConfigLimits> = {}): ParseWorkerClient {
  const parser = new ParseWorkerClient({ ...DEFAULT_CONFIG_LIMITS, ...limits });
  after(() => parser.close());
  return parser;
}

function codesOf(load: FileLoad): string[] {
  assert.equal(load.kind, 'loaded');
  return load.kind === 'loaded' ? load.contribution.diagnostics.map((d) => d.code) : [];
}

const namespace = (name: string): string => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;

/** The main thread's longest gap between timer ticks while `work` runs. */
async function longestStallMs(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  return longest;
}

describe('ParseWorkerClient', () => {
  test('gives exactly what an in-process read gives: resources, diagnostics, order, and the digest', async () => {
    const parser = client();
    const refs = [
      file('mixed.yaml', `${namespace('a')}---\napiVersion: x/v1\nkind: Thing\nmetadata: {name: t}\n---\n${namespace('Bad_Name')}`),
      file('list.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'j' } }] })),
      file('broken.yaml', 'kind: [oops\n'),
      file('laughs.yaml', billionLaughs()),
    ];
    for (const ref of refs) {
      const load = await parser.load(ref);
      const local = readConfigFile(ref);
      assert.ok(local);
      assert.deepEqual(load, { kind: 'loaded', contribution: local, fingerprint: fingerprintContribution(local) });
    }
  });

  test('a deleted file is `vanished`, an unreadable one a diagnostic', async () => {
    const parser = client();
    assert.deepEqual(await parser.load({ path: path.join(root, 'nope.yaml'), label: 'nope.yaml', format: 'yaml' }), { kind: 'vanished' });
    assert.deepEqual(codesOf(await parser.load({ path: root, label: 'a-folder.yaml', format: 'yaml' })), ['ERR_CONFIG_READ']);
  });

  test('a file over the size cap is refused unparsed, naming its size', async () => {
    const parser = client({ maxFileBytes: 1000 });
    const load = await parser.load(file('big.yaml', `# ${'x'.repeat(2000)}\n`));
    assert.deepEqual(codesOf(load), ['ERR_CONFIG_TOO_LARGE']);
    if (load.kind === 'loaded') {
      assert.equal(load.contribution.diagnostics[0]?.message, 'refused unparsed: 2,003 bytes (at most 1,000 allowed per file)');
      assert.equal(load.contribution.diagnostics[0]?.source, 'big.yaml');
    }
    // At the cap exactly it is read.
    assert.deepEqual(codesOf(await parser.load(file('exact.yaml', `# ${'x'.repeat(997)}\n`))), []);
  });

  test('the default 16 MiB cap refuses a 17 MiB file without reading it', async () => {
    const parser = client();
    const load = await parser.load(file('huge.yaml', Buffer.alloc(17 * 1024 * 1024, 0x20)));
    assert.deepEqual(codesOf(load), ['ERR_CONFIG_TOO_LARGE']);
    assert.match(load.kind === 'loaded' ? load.contribution.diagnostics[0]!.message : '', /^refused unparsed: 17,825,792 bytes \(at most 16,777,216 allowed/);
  });

  test('a file that needs more than the parser heap kills the worker, not this thread; the next file gets a new one', async () => {
    // 32 MB: a fresh worker needs 12–16 MB of old space just to load its modules (at 16 MB the
    // next file's new worker itself ran out now and then), and this file needs 32–48 MB to parse.
    const parser = client({ parserHeapMb: 32 });
    const big = file('needs-memory.yaml', largeIngress('mem', 3000)); // 5.6 MB of YAML
    const load = await parser.load(big);
    assert.deepEqual(codesOf(load), ['ERR_CONFIG_PARSE_ABORTED']);
    assert.equal(
      load.kind === 'loaded' ? load.contribution.diagnostics[0]?.message : '',
      "parsing was stopped: it needed more than the parser's 32 MB heap; the file is retried when it changes",
    );
    assert.deepEqual(codesOf(await parser.load(file('after-oom.yaml', namespace('fine')))), []);
  });

  test('a file that takes longer than the deadline is abandoned and the worker restarted', async () => {
    // 16 MB of YAML takes about a second on an idle core; the deadline is a fifth of that.
    const parser = client({ parseDeadlineMs: 200 });
    const slow = file('slow.yaml', largeIngress('slow', 8500));
    const started = performance.now();
    const load = await parser.load(slow);
    const elapsedMs = performance.now() - started;
    assert.deepEqual(codesOf(load), ['ERR_CONFIG_PARSE_ABORTED']);
    assert.equal(
      load.kind === 'loaded' ? load.contribution.diagnostics[0]?.message : '',
      'parsing was stopped: it took longer than the 200 ms allowed per file; the file is retried when it changes',
    );
    assert.ok(elapsedMs < 5000, `abandoned after ${elapsedMs.toFixed(0)} ms`);
    assert.deepEqual(codesOf(await parser.load(file('after-deadline.yaml', namespace('fine')))), []);
  });

  test('this thread keeps ticking while the worker parses a 2 MB file and refuses a bomb', async (t) => {
    const parser = client();
    const large = file('large.yaml', largeIngress('large', 1000));
    const bomb = file('bomb.yaml', billionLaughs());
    await parser.load(file('warm.yaml', namespace('warm'))); // worker start-up is not what is measured
    const stallMs = await longestStallMs(async () => {
      assert.deepEqual(codesOf(await parser.load(large)), []);
      assert.deepEqual(codesOf(await parser.load(bomb)), ['ERR_CONFIG_TOO_LARGE']);
    });
    // Receiving the one 2 MB Ingress (structured clone) is the only work done here.
    t.diagnostic(`longest main-thread stall: ${stallMs.toFixed(1)} ms`);
    assert.ok(stallMs < 500, `stalled ${stallMs.toFixed(0)} ms`);
  });

  test('close() ends a load in progress as `closed` at once, and later loads too', async () => {
    const parser = new ParseWorkerClient(DEFAULT_CONFIG_LIMITS);
    const pending = parser.load(file('closing.yaml', largeIngress('closing', 8500)));
    const queued = parser.load(file('queued.yaml', namespace('queued')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await parser.close();
    assert.deepEqual(await pending, { kind: 'closed' });
    assert.deepEqual(await queued, { kind: 'closed' });
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(await parser.load(file('late.yaml', namespace('late'))), { kind: 'closed' });
  });
});

test('an idle worker is stopped (its heap returned) and the next load starts another', async () => {
  const parser = client({ parserIdleExitMs: 100 });
  assert.deepEqual(codesOf(await parser.load(file('idle-a.yaml', namespace('a')))), []);
  assert.equal(parser.workerRunning, true);
  for (let i = 0; i < 50 && parser.workerRunning; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(parser.workerRunning, false, 'stopped after the idle time');
  const again = await parser.load(file('idle-b.yaml', namespace('b')));
  assert.equal(again.kind, 'loaded');
  assert.deepEqual(codesOf(again), []);
});
