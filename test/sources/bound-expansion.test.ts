// The expansion bound: documents are measured as later code walks them (aliases copied out), in
// time linear in what the parser allocated, and a file over a limit is one ERR_CONFIG_TOO_LARGE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, measureExpansion, measureTree } from '../../src/sources/file/bound-expansion.js';
import { DEFAULT_CONFIG_LIMITS } from '../../src/sources/file/config-limits.js';
import { parseConfigText } from '../../src/sources/file/parse-config-text.js';
import {
  billionLaughs,
  billionLaughsSize,
  deepNesting,
  deepThroughAlias,
  largeIngress,
  mappingLaughs,
  namespaceWithLaughs,
  selfAlias,
  stringLaughs,
} from '../fuzz/hostile-yaml.js';

function refusal(text: string, file: string, format: 'yaml' | 'json' = 'yaml', limits = DEFAULT_CONFIG_LIMITS): string {
  const started = performance.now();
  const result = parseConfigText(text, file, format, limits);
  const elapsedMs = performance.now() - started;
  assert.equal(result.resources.length, 0);
  assert.equal(result.diagnostics.length, 1, JSON.stringify(result.diagnostics));
  const [d] = result.diagnostics;
  assert.equal(d?.code, 'ERR_CONFIG_TOO_LARGE');
  assert.equal(d?.severity, 'error');
  assert.equal(d?.source, file);
  // Measuring is linear in the unique nodes: a bomb is refused in milliseconds, not expanded.
  assert.ok(elapsedMs < 1000, `took ${elapsedMs.toFixed(0)} ms`);
  return d!.message;
}

test('the nine-line billion laughs (72 aliases) is refused with the expanded figures', () => {
  const text = billionLaughs();
  assert.equal(text.trimEnd().split('\n').length, 9);
  assert.equal(text.match(/\*[a-z]/g)?.length, 72);
  const { nodes, chars } = billionLaughsSize();
  const message = refusal(text, 'laughs.yaml');
  assert.equal(
    message,
    `refused: once its aliases are expanded it has ${formatCount(nodes)} nodes (at most 1,000,000 allowed) and ` +
      `${formatCount(chars)} characters of keys and strings (at most 33,554,432 allowed)`,
  );
  assert.match(message, /490,329,055 nodes/);
});

test('measuring follows shared references once: 9^9 leaves are counted from under a hundred objects', () => {
  const docs = [{ a: 'x' }];
  let level: unknown = ['lol', 'lol'];
  for (let i = 0; i < 60; i++) level = [level, level]; // 2^61 leaves, 61 objects
  const result = measureExpansion([...docs, level], 1000);
  assert.equal(result.kind, 'measured');
  if (result.kind === 'measured') {
    assert.ok(result.size.nodes > Number.MAX_SAFE_INTEGER);
    assert.equal(result.size.depth, 61);
  }
  assert.equal(formatCount(2 ** 61), 'more than 9,007,199,254,740,991');
});

test('nested aliases in mappings are counted like sequences', () => {
  assert.match(refusal(mappingLaughs(), 'map.yaml'), /^refused: once its aliases are expanded it has 490,329,055 nodes/);
  // Small enough mapping laughs pass: 6 levels of 9 is 597,871 nodes.
  const small = parseConfigText(mappingLaughs(6, 9), 'map6.yaml', 'yaml');
  assert.deepEqual(small.diagnostics.map((d) => d.code), ['ERR_RESOURCE_INVALID']);
});

test('a long string aliased many times is refused by characters, not nodes', () => {
  const message = refusal(stringLaughs(1_000_000, 40), 'strings.yaml');
  assert.equal(message, 'refused: once its aliases are expanded it has 41,000,002 characters of keys and strings (at most 33,554,432 allowed)');
});

test('a bomb inside an otherwise valid object is refused before the schema walks it', () => {
  assert.match(refusal(namespaceWithLaughs('bombed'), 'ns.yaml'), /^refused: once its aliases are expanded it has 926,177,110 nodes/);
});

test('an alias to a node that contains it (a cycle) is refused, not a stack overflow', () => {
  assert.equal(
    refusal(selfAlias(), 'loop.yaml'),
    'refused: an alias refers to a node that contains it, so the file never ends once expanded',
  );
  assert.match(refusal('a: &a [1, *a]\n', 'seq-loop.yaml'), /never ends/);
});

test('nesting deeper than the limit is refused, in YAML, in JSON, and when only aliases make it deep', () => {
  const deep = 'refused: mappings and sequences nested more than 128 levels deep (at most 128 allowed)';
  assert.equal(refusal(deepNesting(129), 'deep.yaml'), deep); // js-yaml's own bound, same diagnostic
  assert.equal(refusal(deepNesting(100_000), 'deeper.yaml'), deep);
  assert.equal(refusal(deepNesting(100_000), 'deep.json', 'json'), deep);
  assert.equal(refusal(deepThroughAlias(100, 40), 'deep-alias.yaml'), deep);
  // At the limit itself: fine (and not a Kubernetes object).
  assert.deepEqual(parseConfigText(deepNesting(128), 'ok.yaml', 'yaml').diagnostics.map((d) => d.code), ['ERR_RESOURCE_INVALID']);
  assert.equal(measureExpansion([JSON.parse(deepNesting(128))], 128).kind, 'measured');
});

test('nodes are summed over all documents of a file, and the limit is inclusive', () => {
  const limits = { ...DEFAULT_CONFIG_LIMITS, maxExpandedNodes: 8 };
  // One Namespace document: mapping, apiVersion, kind, metadata mapping, name = 5 nodes.
  const ns = (name: string): string => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
  assert.equal(parseConfigText(`${ns('a')}---\n1\n---\n2\n---\n3\n`, 'eight.yaml', 'yaml', limits).resources.length, 1);
  const message = refusal(`${ns('a')}---\n${ns('b')}`, 'ten.yaml', 'yaml', limits);
  assert.equal(message, 'refused: once its aliases are expanded it has 10 nodes (at most 8 allowed)');
});

test('a legitimate file with a few aliases still loads, the aliased values copied into each object', () => {
  // Anchors live within one document, so sharing across objects takes a List.
  const text = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: web
      labels: &labels {app: web, team: shop}
      annotations: *labels
    spec:
      selector: *labels
      ports: [&http {name: http, port: 80}]
  - apiVersion: v1
    kind: Service
    metadata: {name: web-canary, labels: *labels}
    spec:
      selector: *labels
      ports: [*http]
`;
  const result = parseConfigText(text, 'web.yaml', 'yaml');
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.resources.map((r) => r.metadata.name), ['web', 'web-canary']);
  assert.deepEqual(result.resources[1]?.metadata.labels, { app: 'web', team: 'shop' });
});

test('many more diagnostics than the per-file cap are counted in one last diagnostic', () => {
  const text = Array.from({ length: 150 }, (_, i) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: "Bad_${i}"}\n`).join('---\n');
  const result = parseConfigText(text, 'many.yaml', 'yaml');
  assert.equal(result.diagnostics.length, 101);
  const last = result.diagnostics[100];
  assert.equal(last?.code, 'ERR_CONFIG_TOO_LARGE');
  assert.equal(last?.severity, 'error');
  assert.equal(last?.message, '50 more diagnostics not listed (at most 100 listed per file)');
  // Warnings only: the summary is a warning too, so it does not reject the configuration.
  const unknown = Array.from({ length: 120 }, (_, i) => `apiVersion: x/v1\nkind: Thing\nmetadata: {name: t${i}}\n`).join('---\n');
  assert.equal(parseConfigText(unknown, 'things.yaml', 'yaml').diagnostics.at(-1)?.severity, 'warning');
});

test('the 10,000-path shape (one Ingress, 1,000 hosts × 10 paths) is well inside every limit', () => {
  const text = largeIngress('scale', 1000);
  assert.ok(text.length > 1_800_000);
  const result = parseConfigText(text, 'scale.yaml', 'yaml');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.resources.length, 1);
});

test('documents that share nothing (JSON, YAML without an anchor) get the same measure from the lean walk', async () => {
  const { load } = await import('js-yaml');
  const samples: unknown[][] = [
    [load(largeIngress('big', 50))],
    [JSON.parse(deepNesting(128))],
    [JSON.parse(deepNesting(129))],
    [JSON.parse(deepNesting(5000))],
    [{ a: ['x', 'yy', { b: null, c: 3, d: [[], {}] }] }, 'top', 7, null, []],
  ];
  for (const docs of samples) assert.deepEqual(measureTree(docs, 128), measureExpansion(docs, 128));
  // The lean walk still counts: a JSON file of a million and one numbers is over the node limit.
  const many = `[${'0,'.repeat(1_000_000)}0]`;
  assert.equal(refusal(many, 'many.json', 'json'), 'refused: once its aliases are expanded it has 1,000,002 nodes (at most 1,000,000 allowed)');
  // `&` anywhere (here only in a string) takes the general walk, which gives the same answer.
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, annotations: {note: "R&D"}}\n';
  assert.deepEqual(parseConfigText(text, 'amp.yaml', 'yaml').diagnostics, []);
});
