// Differential fuzzing: seeded mutations of valid requests go to node's server over a socket and to
// the lean parser (fed in random pieces); both must accept and refuse alike and read the same
// requests. About 5 s in the suite; `npm run fuzz` runs it longer (ISTHMUS_HTTP1_FUZZ_SECONDS,
// default 120 there). A failure prints the seed: ISTHMUS_HTTP1_FUZZ_SEED=<seed> replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mutate, seededRandom, SEEDS } from './mutate-request.js';
import { parseLean, startNodeReference, type Observation } from './reference-servers.js';

const seconds = Number(process.env.ISTHMUS_HTTP1_FUZZ_SECONDS ?? '5');
const seed = Number(process.env.ISTHMUS_HTTP1_FUZZ_SEED ?? String(Date.now() % 2 ** 31));

function describe(obs: Observation): string {
  return JSON.stringify({ end: obs.end, requests: obs.requests });
}

test(`mutated requests: lean parser and node:http agree (seed ${seed}, ${seconds} s)`, { timeout: (seconds + 60) * 1000 }, async (t) => {
  const node = await startNodeReference();
  t.after(() => node.close());
  const random = seededRandom(seed);
  const seeds = SEEDS.map((s) => Buffer.from(s, 'latin1'));
  const deadline = Date.now() + seconds * 1000;
  let cases = 0;
  let refused = 0;
  while (Date.now() < deadline) {
    const payload = mutate(seeds[Math.floor(random() * seeds.length)]!, random);
    const step = random() < 0.3 ? 0 : 1 + Math.floor(random() * 16);
    const expected = await node.observe(payload);
    const actual = parseLean(payload, step);
    cases++;
    if (expected.end === 'refused') refused++;
    if (describe(expected) !== describe(actual)) {
      assert.fail(
        `seed ${seed}, case ${cases} (ISTHMUS_HTTP1_FUZZ_SEED=${seed} replays it): payload ${JSON.stringify(payload.toString('latin1'))} fed in pieces of ${step}\n` +
          `  node: ${describe(expected)} ${expected.detail}\n  lean: ${describe(actual)} ${actual.detail}`,
      );
    }
  }
  t.diagnostic(`seed ${seed}: ${cases} mutated requests, ${refused} refused by both`);
  assert.ok(cases >= 50, `only ${cases} cases ran`);
  assert.ok(refused > 0 && refused < cases, 'the mutations must produce both outcomes');
});
