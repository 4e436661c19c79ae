import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FileSource } from '../../src/sources/file/file-source.js';
import type { ResourceSnapshot } from '../../src/store/resource-snapshot.js';
import { billionLaughs, largeIngress } from '../fuzz/hostile-yaml.js';

// Real folders and real fs events. The only waits are for events to arrive (bounded by the one
// second in which a change must take effect), plus one short quiet period to show that nothing
// is delivered when nothing changed.

/** Collects snapshots and lets a test wait for one that satisfies a predicate. */
class SnapshotRecorder {
  readonly snapshots: ResourceSnapshot[] = [];
  #waiters: { predicate: (s: ResourceSnapshot) => boolean; resolve: (s: ResourceSnapshot) => void }[] = [];

  readonly push = (snapshot: ResourceSnapshot): void => {
    this.snapshots.push(snapshot);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.predicate(snapshot)) return true;
      w.resolve(snapshot);
      return false;
    });
  };

  get latest(): ResourceSnapshot | undefined {
    return this.snapshots.at(-1);
  }

  /**
   * The latest snapshot if it satisfies `predicate` (it may have arrived while the test was
   * still writing), else the first later one that does; a failure after `timeoutMs`.
   */
  async next(predicate: (s: ResourceSnapshot) => boolean, timeoutMs = 1000): Promise<ResourceSnapshot> {
    const latest = this.latest;
    if (latest && predicate(latest)) return latest;
    let timer: NodeJS.Timeout | undefined;
    const found = new Promise<ResourceSnapshot>((resolve) => this.#waiters.push({ predicate, resolve }));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no matching snapshot within ${timeoutMs} ms; latest: ${summarize(this.latest)}`)), timeoutMs);
    });
    try {
      return await Promise.race([found, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function summarize(snapshot: ResourceSnapshot | undefined): string {
  if (!snapshot) return 'none';
  return JSON.stringify({ generation: snapshot.generation, names: names(snapshot), diagnostics: snapshot.diagnostics.map((d) => d.code) });
}

function names(snapshot: ResourceSnapshot | undefined): string[] {
  return (snapshot?.resources ?? []).map((r) => `${r.kind}/${r.metadata.name}`);
}

function namespace(name: string, labels: Record<string, string> = {}): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\n`;
}

function labelOf(snapshot: ResourceSnapshot, name: string, key: string): string | undefined {
  return snapshot.resources.find((r) => r.metadata.name === name)?.metadata.labels[key];
}

describe('FileSource', () => {
  let dir: string;
  let source: FileSource | undefined;
  let recorder: SnapshotRecorder;

  const write = (rel: string, text: string): void => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };

  const start = async (debounceMs?: number): Promise<void> => {
    source = new FileSource(debounceMs === undefined ? { dirs: [dir] } : { dirs: [dir], debounceMs });
    await source.start(recorder.push);
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'isthmus-watch-'));
    recorder = new SnapshotRecorder();
  });

  afterEach(async () => {
    await source?.close();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  {
    test('start() resolves after the first snapshot (generation 1) was delivered', async () => {
      write('a.yaml', namespace('a'));
      write('sub/b.yml', namespace('b'));
      await start();
      assert.equal(recorder.snapshots.length, 1);
      assert.equal(recorder.latest?.generation, 1);
      assert.deepEqual(names(recorder.latest), ['Namespace/a', 'Namespace/b']);
    });

    test('a changed file produces a new snapshot with generation + 1 within a second', async () => {
      write('a.yaml', namespace('a', { v: '1' }));
      await start();
      const before = performance.now();
      write('a.yaml', namespace('a', { v: '2' }));
      const next = await recorder.next((s) => labelOf(s, 'a', 'v') === '2', 1000);
      assert.ok(performance.now() - before < 1000);
      assert.equal(next.generation, 2);
    });

    test('new files, new sub-folders, files replaced by rename, and deletions', async () => {
      write('a.yaml', namespace('a'));
      await start();
      write('new.yaml', namespace('created'));
      await recorder.next((s) => names(s).includes('Namespace/created'));

      write('later/deep/x.yaml', namespace('deep'));
      await recorder.next((s) => names(s).includes('Namespace/deep'));
      write('later/deep/x.yaml', namespace('deep', { edited: 'yes' }));
      await recorder.next((s) => labelOf(s, 'deep', 'edited') === 'yes');

      // Editors and ConfigMap updates write a temporary file and rename it over the old one.
      write('.a.yaml.tmp', namespace('a', { replaced: 'yes' }));
      renameSync(path.join(dir, '.a.yaml.tmp'), path.join(dir, 'a.yaml'));
      await recorder.next((s) => labelOf(s, 'a', 'replaced') === 'yes');

      unlinkSync(path.join(dir, 'new.yaml'));
      await recorder.next((s) => !names(s).includes('Namespace/created'));
      rmSync(path.join(dir, 'later'), { recursive: true });
      const last = await recorder.next((s) => !names(s).includes('Namespace/deep'));
      assert.deepEqual(names(last), ['Namespace/a']);
      const generations = recorder.snapshots.map((s) => s.generation);
      assert.deepEqual(generations, generations.map((_, i) => i + 1));
    });

    test('malformed YAML is a diagnostic naming the file, the other files still load, and a fix clears it', async () => {
      write('good.yaml', namespace('good'));
      await start();
      write('bad.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: [oops\n');
      const broken = await recorder.next((s) => s.diagnostics.length > 0);
      assert.deepEqual(names(broken), ['Namespace/good']);
      assert.equal(broken.diagnostics[0]?.code, 'ERR_CONFIG_YAML_PARSE');
      assert.equal(broken.diagnostics[0]?.severity, 'error');
      assert.equal(broken.diagnostics[0]?.source, path.join(dir, 'bad.yaml'));
      write('bad.yaml', namespace('fixed'));
      const fixed = await recorder.next((s) => s.diagnostics.length === 0);
      assert.deepEqual(names(fixed), ['Namespace/fixed', 'Namespace/good']);
    });

    test('a billion-laughs file is refused with ERR_CONFIG_TOO_LARGE naming it; the other files still load', async () => {
      write('good.yaml', namespace('good'));
      await start();
      write('laughs.yaml', billionLaughs());
      const bombed = await recorder.next((s) => s.diagnostics.length > 0, 3000);
      assert.deepEqual(names(bombed), ['Namespace/good']);
      assert.deepEqual(bombed.diagnostics.map((d) => [d.severity, d.code, d.source]), [['error', 'ERR_CONFIG_TOO_LARGE', path.join(dir, 'laughs.yaml')]]);
      assert.match(bombed.diagnostics[0]!.message, /490,329,055 nodes \(at most 1,000,000 allowed\)/);
      write('laughs.yaml', namespace('defused'));
      const fixed = await recorder.next((s) => s.diagnostics.length === 0, 3000);
      assert.deepEqual(names(fixed), ['Namespace/defused', 'Namespace/good']);
    });

    test('a file the parser cannot finish in time is blamed by name and the next change still loads', async () => {
      write('good.yaml', namespace('good'));
      source = new FileSource({ dirs: [dir], limits: { parseDeadlineMs: 200 } });
      await source.start(recorder.push);
      write('slow.yaml', largeIngress('slow', 8500));
      const slow = await recorder.next((s) => s.diagnostics.length > 0, 5000);
      assert.deepEqual(slow.diagnostics.map((d) => [d.code, d.source]), [['ERR_CONFIG_PARSE_ABORTED', path.join(dir, 'slow.yaml')]]);
      write('later.yaml', namespace('later'));
      const later = await recorder.next((s) => names(s).includes('Namespace/later'), 3000);
      // The slow file is not parsed again until it changes: its stamp is cached with the verdict.
      assert.deepEqual(later.diagnostics.map((d) => d.code), ['ERR_CONFIG_PARSE_ABORTED']);
    });

    test('a single file given as the root is watched through its folder, also when replaced by rename', async () => {
      write('only.yaml', namespace('only', { v: '1' }));
      write('neighbour.yaml', namespace('neighbour'));
      source = new FileSource({ dirs: [path.join(dir, 'only.yaml')] });
      await source.start(recorder.push);
      assert.deepEqual(names(recorder.latest), ['Namespace/only']);
      write('.only.tmp', namespace('only', { v: '2' }));
      renameSync(path.join(dir, '.only.tmp'), path.join(dir, 'only.yaml'));
      const next = await recorder.next((s) => labelOf(s, 'only', 'v') === '2');
      assert.deepEqual(names(next), ['Namespace/only']);
    });

    test('an OpenAPI document an API names (beside a file root, any extension) is watched, re-read on edit, and not config', async () => {
      write('api.yaml', `apiVersion: isthmus.dev/v1alpha1\nkind: API\nmetadata: {name: shop, namespace: default}\nspec:\n  versions:\n    - {name: v1, stage: published, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}], openapi: {file: docs/shop.oas}}\n`);
      write('docs/shop.oas', 'openapi: 3.0.3\npaths: {}\n');
      source = new FileSource({ dirs: [path.join(dir, 'api.yaml')], debounceMs: 20 });
      await source.start(recorder.push);
      const text = (s: ResourceSnapshot): string | undefined => {
        const read = [...(s.openApiFiles?.values() ?? [])][0];
        return read?.kind === 'text' ? read.text : undefined;
      };
      assert.equal(text(recorder.latest!), 'openapi: 3.0.3\npaths: {}\n');
      assert.deepEqual(recorder.latest?.diagnostics, []);
      write('docs/shop.oas', 'openapi: 3.1.0\npaths: {}\n');
      const next = await recorder.next((s) => text(s)?.startsWith('openapi: 3.1.0') === true);
      assert.deepEqual(names(next), ['API/shop']);
    });

    test('a document in the folder is not parsed as config, and an edit to it alone is delivered', async () => {
      write('api.yaml', `apiVersion: isthmus.dev/v1alpha1\nkind: API\nmetadata: {name: shop, namespace: default}\nspec:\n  versions:\n    - {name: v1, stage: published, routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}], openapi: {file: shop.openapi.yaml}}\n`);
      write('shop.openapi.yaml', 'openapi: 3.0.3\npaths: {}\n');
      await start(20);
      assert.deepEqual(recorder.latest?.diagnostics, []);
      const generation = recorder.latest!.generation;
      write('shop.openapi.yaml', 'openapi: 3.0.3\npaths: {/a: {}}\n');
      const next = await recorder.next((s) => s.generation > generation);
      assert.deepEqual(next.diagnostics, []);
      assert.match(JSON.stringify([...(next.openApiFiles?.values() ?? [])]), /\/a/);
    });

    test('an unknown kind is a warning and is skipped', async () => {
      write('a.yaml', `${namespace('a')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n`);
      await start();
      assert.deepEqual(names(recorder.latest), ['Namespace/a']);
      assert.deepEqual(recorder.latest?.diagnostics.map((d) => [d.severity, d.code, d.source]), [
        ['warning', 'ERR_RESOURCE_UNKNOWN_KIND', `${path.join(dir, 'a.yaml')}#1`],
      ]);
    });

    test('a burst of writes is coalesced and the latest content wins', async () => {
      write('a.yaml', namespace('a', { n: '0' }));
      await start(50);
      for (let n = 1; n <= 30; n++) {
        write('a.yaml', namespace('a', { n: String(n) }));
        if (n % 10 === 0) await delay(5); // let some events through mid-burst
      }
      const final = await recorder.next((s) => labelOf(s, 'a', 'n') === '30');
      assert.equal(labelOf(recorder.latest ?? final, 'a', 'n'), '30');
      // 30 writes: the first snapshot plus a handful of reloads, not one per write.
      assert.ok(recorder.snapshots.length <= 5, `${recorder.snapshots.length} snapshots for 30 writes`);
    });

    test('events that change nothing deliver nothing; close() stops delivery', async () => {
      write('a.yaml', namespace('a'));
      await start(20);
      write('a.yaml', namespace('a')); // same bytes
      write('ignored.txt', 'not config');
      await delay(300);
      assert.equal(recorder.snapshots.length, 1);
      await source?.close();
      write('a.yaml', namespace('a', { after: 'close' }));
      await delay(200);
      assert.equal(recorder.snapshots.length, 1);
    });
  }
});
