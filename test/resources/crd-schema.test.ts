// Every CRD that ships in deploy/crds/ compiles with ajv and judges objects: validators are compiled
// on first use (crd-schema.ts), so a schema ajv refuses would otherwise surface only when a user's
// first object of that kind arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { crdDirectory, loadCrd } from '../../src/resources/crd-schema.js';

test('each shipped CRD version compiles, refuses an unknown spec field and names it', () => {
  const files = readdirSync(crdDirectory()).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  assert.ok(files.length >= 7, files.join(', '));
  for (const file of files) {
    for (const version of loadCrd(path.join(crdDirectory(), file))) {
      const body = { apiVersion: `${version.group}/${version.version}`, kind: version.kind, metadata: { name: 'x' }, spec: { noSuchField: 1 } };
      assert.equal(version.validate(body), false, `${file} ${version.kind}: an unknown spec field is refused`);
      assert.ok(version.validate.errors?.some((e) => e.keyword === 'additionalProperties' || e.keyword === 'required'), `${file}: ${JSON.stringify(version.validate.errors)}`);
    }
  }
});
