import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadDirs } from '../../src/sources/file/load-dirs.js';

const root = mkdtempSync(path.join(tmpdir(), 'isthmus-load-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const service = (name: string, ns = 'default') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {ports: [{port: 80}]}\n`;

describe('loadDirs', () => {
  test('reads *.yaml, *.yml and *.json recursively, with multi-document files and Lists', async () => {
    const dir = path.join(root, 'tree');
    write('tree/a.yaml', `${service('a')}---\n# only a comment\n---\n${service('b')}`);
    write('tree/sub/deeper/c.yml', service('c'));
    write('tree/d.json', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'd' } }));
    write('tree/list.yaml', `apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: l1}}\n  - {apiVersion: v1, kind: Namespace, metadata: {name: l2}}\n`);
    write('tree/typed-list.yaml', `apiVersion: v1\nkind: ServiceList\nitems:\n  - ${service('in-list').trim().split('\n').join('\n    ')}\n`);
    write('tree/notes.txt', 'kind: Service');
    write('tree/.hidden.yaml', service('hidden'));
    write('tree/.git/x.yaml', service('in-dot-dir'));
    const snapshot = await loadDirs([dir], 5);
    assert.equal(snapshot.generation, 5);
    assert.deepEqual(snapshot.diagnostics, []);
    assert.deepEqual(
      snapshot.resources.map((r) => `${r.kind} ${r.metadata.name} ${path.relative(root, r.source)}`),
      [
        'Namespace d tree/d.json#0',
        'Namespace l1 tree/list.yaml#0.items[0]',
        'Namespace l2 tree/list.yaml#0.items[1]',
        'Service a tree/a.yaml#0',
        'Service b tree/a.yaml#2',
        'Service c tree/sub/deeper/c.yml#0',
        'Service in-list tree/typed-list.yaml#0.items[0]',
      ],
    );
  });

  test('sources name the folder as given plus the path inside it', async () => {
    write('relative/x.yaml', service('x'));
    const previous = process.cwd();
    process.chdir(root);
    try {
      const snapshot = await loadDirs(['relative']);
      assert.equal(snapshot.resources[0]?.source, 'relative/x.yaml#0');
    } finally {
      process.chdir(previous);
    }
  });

  test('a malformed file is one diagnostic naming it and the line; the other files still load', async () => {
    const dir = path.join(root, 'broken');
    write('broken/good.yaml', service('good'));
    write('broken/bad.yaml', `${service('first')}---\napiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n`);
    write('broken/bad.json', '{"apiVersion": "v1",');
    const snapshot = await loadDirs([dir]);
    assert.deepEqual(snapshot.resources.map((r) => r.metadata.name), ['good']);
    const lines = snapshot.diagnostics.map(formatDiagnostic);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines.find((l) => l.includes('bad.yaml')) ?? '', /^error: .*broken\/bad\.yaml: invalid YAML at line \d+, column \d+: .*\[ERR_CONFIG_YAML_PARSE\]$/);
    assert.match(lines.find((l) => l.includes('bad.json')) ?? '', /invalid JSON.*\[ERR_CONFIG_YAML_PARSE\]/);
  });

  test('unknown kinds are warnings and are skipped; duplicates keep the later object', async () => {
    const dir = path.join(root, 'mixed');
    write('mixed/1.yaml', `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n${service('web')}`);
    write('mixed/2.yaml', service('web').replace('ports: [{port: 80}]', 'ports: [{port: 81}]'));
    const snapshot = await loadDirs([dir]);
    const [web] = snapshot.resources;
    assert.equal(snapshot.resources.length, 1);
    assert.ok(web?.kind === 'Service' && web.spec.ports[0]?.port === 81);
    assert.deepEqual(
      snapshot.diagnostics.map((d) => [d.severity, d.code]),
      [
        ['warning', 'ERR_RESOURCE_UNKNOWN_KIND'],
        ['warning', 'ERR_RESOURCE_DUPLICATE'],
      ],
    );
  });

  test('a missing folder is ERR_CONFIG_READ; a file may be given instead of a folder; symlinks are followed', async () => {
    const file = write('single/one.yaml', service('one'));
    write('target/linked.yaml', service('linked'));
    mkdirSync(path.join(root, 'links'));
    symlinkSync(path.join(root, 'target/linked.yaml'), path.join(root, 'links/link.yaml'));
    const snapshot = await loadDirs([path.join(root, 'nope'), file, path.join(root, 'links')]);
    assert.deepEqual(snapshot.resources.map((r) => r.metadata.name), ['linked', 'one']);
    assert.deepEqual(snapshot.diagnostics.map((d) => d.code), ['ERR_CONFIG_READ']);
    assert.match(snapshot.diagnostics[0]?.source ?? '', /nope$/);
  });
});
