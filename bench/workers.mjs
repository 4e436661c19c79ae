// `node bench/workers.mjs [--workers N]`: the same small GET through `isthmus run --workers 1` and
// `--workers N` (default: one per core) in one run, rounds interleaved, the ratio of their req/s
// and where the cores went (lib/workers-part.mjs; `node bench/run.mjs --workers-scaling` runs the
// same part inside the main benchmark and its report). Nothing is pinned. `--help` lists the flags.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup } from './lib/processes.mjs';
import { NGINX } from './lib/targets.mjs';
import { runWorkersScaling, workersMarkdown } from './lib/workers-part.mjs';
import { requireWrk } from './lib/wrk.mjs';

const HELP = `usage: node bench/workers.mjs [flags]
  --workers N        workers of the second gateway (default: one per core, ${availableParallelism()} here)
  --rounds N         interleaved rounds per gateway (3)
  --duration S       seconds per round (10); --warmup S warm-up per gateway (3)
  --connections N    wrk connections (50); --threads N wrk threads (2: one thread can saturate before N workers do)
  --sched rr|none    cluster scheduling (default none: the kernel spreads accepts; rr: the primary accepts and hands out)
  --no-nginx         node origin even when nginx is installed
  --out FILE         write the report (markdown) here as well as to stdout`;

const { values: opts } = parseArgs({
  options: {
    workers: { type: 'string' }, rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, connections: { type: 'string', default: '50' }, threads: { type: 'string', default: '2' },
    sched: { type: 'string', default: 'none' }, 'no-nginx': { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const positive = (name, value) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
};
if (opts.sched !== 'rr' && opts.sched !== 'none') throw new Error(`--sched must be rr or none, got ${opts.sched}`);

const log = (line) => process.stderr.write(`${line}\n`);
installCleanup();
requireWrk();
const loadAtStart = loadavg()[0];
if (loadAtStart > 0.5) log(`bench: warning: load average ${loadAtStart.toFixed(2)}: something else is running, figures will be noisy`);
const result = await runWorkersScaling({
  workDir: mkdtempSync(join(tmpdir(), 'isthmus-bench-workers-')), log,
  workers: positive('workers', opts.workers ?? String(availableParallelism())),
  rounds: positive('rounds', opts.rounds), durationS: positive('duration', opts.duration), warmupS: positive('warmup', opts.warmup),
  connections: positive('connections', opts.connections), threads: positive('threads', opts.threads),
  sched: opts.sched, useNginx: !opts['no-nginx'] && NGINX !== null,
});
const report = [
  `# Isthmus --workers 1 vs --workers ${result.workers}`,
  '',
  `- ${new Date().toISOString()}, Node ${process.version}, \`node bench/workers.mjs ${process.argv.slice(2).join(' ')}\``,
  '',
  ...workersMarkdown(result).slice(2),
].join('\n');
process.stdout.write(`${report}\n`);
if (opts.out) writeFileSync(opts.out, report);
