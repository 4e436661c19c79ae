import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { seededRandom } from '../../src/core/random.js';
import type { ResourceSnapshot } from '../../src/store/resource-snapshot.js';
import { translate } from '../../src/translate/translate.js';
import { GOLDEN_DIR, GOLDEN_OPTIONS, listGoldenInputs, renderGolden, snapshotOf } from './golden-harness.js';

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

test('translate output does not depend on the order of resources or diagnostics', () => {
  for (const input of listGoldenInputs()) {
    const snapshot = snapshotOf(readFileSync(path.join(GOLDEN_DIR, input), 'utf8'), input);
    const expected = renderGolden(snapshot, input);
    for (const seed of [1, 2, 3]) {
      const reordered: ResourceSnapshot = { ...snapshot, resources: shuffled(snapshot.resources, seed) };
      assert.equal(renderGolden(reordered, input), expected, `${input} with seed ${seed}`);
    }
  }
});

test('the same snapshot twice gives byte-identical JSON', () => {
  const input = 'endpoints.in.yaml';
  const snapshot = snapshotOf(readFileSync(path.join(GOLDEN_DIR, input), 'utf8'), input);
  assert.equal(JSON.stringify(translate(snapshot, GOLDEN_OPTIONS)), JSON.stringify(translate(snapshot, GOLDEN_OPTIONS)));
});

test('without statusAddress the Ingress status has an empty load-balancer list; generation is carried', () => {
  const input = 'doc-simple-fanout.in.yaml';
  const snapshot = { ...snapshotOf(readFileSync(path.join(GOLDEN_DIR, input), 'utf8'), input), generation: 7 };
  const result = translate(snapshot, { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' });
  assert.equal(result.ir.generation, 7);
  assert.deepEqual(result.statuses, [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: 'default',
      name: 'simple-fanout-example',
      status: { loadBalancer: { ingress: [] } },
    },
  ]);
});
