// The file source's side of `openapi.file`: documents resolved from the declaring file's folder,
// kept inside the config folders (lexically and through symlinks), read into the snapshot, and not
// parsed as config.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadDirs } from '../../src/sources/file/load-dirs.js';
import { openApiFileKey } from '../../src/store/resource-snapshot.js';

const root = mkdtempSync(path.join(tmpdir(), 'isthmus-openapi-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const DOC = 'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths: {}\n';

function api(files: readonly string[]): string {
  const versions = files.map((f, i) => `    - name: v${i}\n      stage: published\n      routes: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]\n      openapi: {file: ${JSON.stringify(f)}}\n`).join('');
  return `apiVersion: isthmus.dev/v1alpha1\nkind: API\nmetadata: {name: shop, namespace: default}\nspec:\n  versions:\n${versions}`;
}

test('a path relative to the declaring file is read; the document is not parsed as config', async () => {
  const dir = path.join(root, 'relative');
  write('relative/apis/shop.yaml', api(['../docs/shop.yaml', 'same-folder.json']));
  write('relative/docs/shop.yaml', DOC);
  write('relative/apis/same-folder.json', JSON.stringify({ openapi: '3.1.0', paths: {} }));
  const snapshot = await loadDirs([dir]);
  assert.deepEqual(snapshot.diagnostics, [], 'no "missing kind" for the documents');
  assert.deepEqual(snapshot.resources.map((r) => r.kind), ['API']);
  const source = snapshot.resources[0]!.source;
  assert.deepEqual(snapshot.openApiFiles?.get(openApiFileKey(source, '../docs/shop.yaml')), { kind: 'text', text: DOC });
  assert.equal(snapshot.openApiFiles?.get(openApiFileKey(source, 'same-folder.json'))?.kind, 'text');
});

test('escapes are refused unread: .., an absolute path outside, a symlink out; a missing file says so', async () => {
  const dir = path.join(root, 'escapes');
  const outside = write('outside.yaml', DOC);
  write('escapes/inside.yaml', DOC);
  symlinkSync(outside, path.join(root, 'escapes', 'link.yaml'));
  write('escapes/api.yaml', api(['../outside.yaml', outside, 'link.yaml', 'nope.yaml', path.join(dir, 'inside.yaml')]));
  const snapshot = await loadDirs([dir]);
  const source = snapshot.resources.find((r) => r.kind === 'API')!.source;
  const read = (f: string) => snapshot.openApiFiles?.get(openApiFileKey(source, f));
  assert.match(JSON.stringify(read('../outside.yaml')), /refused.*outside the config folders/);
  assert.match(JSON.stringify(read(outside)), /refused.*outside the config folders \(an absolute path\)/);
  assert.match(JSON.stringify(read('link.yaml')), /refused.*a link to a file outside the config folders/);
  assert.match(JSON.stringify(read('nope.yaml')), /refused.*\\"nope.yaml\\" does not exist/);
  assert.deepEqual(read(path.join(dir, 'inside.yaml')), { kind: 'text', text: DOC }, 'an absolute path inside is fine');
});

test('a file root: documents in its folder are inside', async () => {
  const file = write('single/api.yaml', api(['doc.yaml']));
  write('single/doc.yaml', DOC);
  const snapshot = await loadDirs([file]);
  assert.deepEqual(snapshot.diagnostics, []);
  assert.equal(snapshot.openApiFiles?.get(openApiFileKey(snapshot.resources[0]!.source, 'doc.yaml'))?.kind, 'text');
});
