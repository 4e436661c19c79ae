#!/usr/bin/env node
// `npm run fuzz:config [-- --seconds N --seed S --max-stall-ms M]`: the config fuzzer of
// test/attacks/config-fuzz.test.ts for longer than the few seconds `npm test` gives it
// (default 120 s). Run `npm run build` first (the npm script does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    seed: { type: 'string' },
    'max-stall-ms': { type: 'string', default: '100' },
  },
});
const env = { ...process.env, ISTHMUS_FUZZ_SECONDS: values.seconds, ISTHMUS_FUZZ_MAX_STALL_MS: values['max-stall-ms'] };
if (values.seed !== undefined) env.ISTHMUS_FUZZ_SEED = values.seed;
const test = fileURLToPath(new URL('../dist/test/attacks/config-fuzz.test.js', import.meta.url));
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', test], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
