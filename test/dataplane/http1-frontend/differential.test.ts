// The lean front end's parser must accept and refuse exactly what node's own server does
// (llhttp with insecureHTTPParser off, plus node's Host and Expect checks), and read the accepted
// requests alike: method, target, version, header lines, body bytes and trailers. Every corpus
// entry goes over a real loopback socket to both, and is also fed to the parser one byte at a
// time, which must not change what it reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS } from './corpus.js';
import { parseLean, startLeanReference, startNodeReference, type Observation } from './reference-servers.js';

export function describe(obs: Observation): string {
  return JSON.stringify({ end: obs.end, requests: obs.requests });
}

test('the corpus holds at least 150 raw requests', () => {
  assert.ok(CORPUS.length >= 150, `${CORPUS.length} entries`);
  assert.equal(new Set(CORPUS.map((e) => e.name)).size, CORPUS.length, 'entry names are unique');
});

test('lean parser and node:http agree on every corpus entry', async (t) => {
  const node = await startNodeReference();
  const lean = await startLeanReference();
  t.after(async () => {
    await node.close();
    await lean.close();
  });
  const disagreements: string[] = [];
  let refused = 0;
  for (const entry of CORPUS) {
    const expected = await node.observe(entry.payload);
    const actual = await lean.observe(entry.payload);
    const byteWise = parseLean(entry.payload, 1);
    if (expected.end === 'refused') refused++;
    if (describe(expected) !== describe(actual)) {
      disagreements.push(`${entry.name}:\n  node: ${describe(expected).slice(0, 400)} ${expected.detail}\n  lean: ${describe(actual).slice(0, 400)} ${actual.detail}`);
    } else if (describe(byteWise) !== describe(actual)) {
      disagreements.push(`${entry.name} (fed byte by byte):\n  whole: ${describe(actual).slice(0, 400)}\n  bytes: ${describe(byteWise).slice(0, 400)} ${byteWise.detail}`);
    }
  }
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${CORPUS.length} entries disagree:\n${disagreements.join('\n')}`);
  // The corpus must exercise both outcomes, or agreement proves little.
  assert.ok(refused >= 60 && refused <= CORPUS.length - 40, `${refused} of ${CORPUS.length} refused by node`);
});
