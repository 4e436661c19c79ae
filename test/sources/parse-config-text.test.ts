import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/sources/file/parse-config-text.js';

test('YAML timestamps stay strings (YAML 1.2 core schema)', () => {
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n  creationTimestamp: 2024-01-01T00:00:00Z\n';
  const result = parseConfigText(text, 'ns.yaml', 'yaml');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.resources[0]?.metadata.creationTimestamp, '2024-01-01T00:00:00Z');
});

test('a few anchors and aliases are fine', () => {
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n  labels: &l {team: a}\n  annotations: *l\n';
  const result = parseConfigText(text, 'ns.yaml', 'yaml');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.resources.length, 1);
});

test('duplicate keys are a parse error naming the line', () => {
  const result = parseConfigText('kind: Namespace\nkind: Service\n', 'dup.yaml', 'yaml');
  assert.equal(result.diagnostics[0]?.code, 'ERR_CONFIG_YAML_PARSE');
  assert.match(result.diagnostics[0]!.message, /line 2/);
});
