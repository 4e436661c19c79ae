// `node bench/workers.mjs [--workers N]`: the same small GET through `isthmus run --workers 1` and
// `--workers N` (default: one per core) in one run, rounds interleaved, and the ratio of their
// req/s. Nothing is pinned (gateway, origin, wrk): the point is how the kernel spreads the workers
// over the cores, and on a small machine the load generator and the origin share them, which is
// part of what limits the ratio (the report says so). `--help` lists the flags.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeSimpleConfig } from './lib/config-gen.mjs';
import { freePorts, groupCpuSeconds, installCleanup, stopProcess } from './lib/processes.mjs';
import { checkProxied, NGINX, startGateway, startOrigin } from './lib/targets.mjs';
import { requireWrk, runWrk, summarise } from './lib/wrk.mjs';

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
const workers = positive('workers', opts.workers ?? String(availableParallelism()));
const rounds = positive('rounds', opts.rounds);
const durationS = positive('duration', opts.duration);
const warmupS = positive('warmup', opts.warmup);
const connections = positive('connections', opts.connections);
const threads = positive('threads', opts.threads);
if (opts.sched !== 'rr' && opts.sched !== 'none') throw new Error(`--sched must be rr or none, got ${opts.sched}`);
// Read by the workers' primary (src/cli/workers/worker-pool.ts) through the gateway's environment.
process.env.NODE_CLUSTER_SCHED_POLICY = opts.sched;

const log = (line) => process.stderr.write(`${line}\n`);
installCleanup();
requireWrk();
const loadAtStart = loadavg()[0];
if (loadAtStart > 0.5) log(`bench: warning: load average ${loadAtStart.toFixed(2)}: something else is running, figures will be noisy`);
const workDir = mkdtempSync(join(tmpdir(), 'isthmus-bench-workers-'));
mkdirSync(workDir, { recursive: true });

const [originPort] = await freePorts(1);
const origin = await startOrigin({ workDir, port: originPort, useNginx: !opts['no-nginx'] && NGINX !== null, cpu: null });
const request = writeSimpleConfig(join(workDir, 'config'), { upstreamPort: origin.port });
const gateways = [];
try {
  for (const n of [1, workers]) {
    const [http, https, admin] = await freePorts(3);
    const gw = await startGateway({ name: `isthmus-workers-${n}`, configDir: join(workDir, 'config'), ports: { http, https, admin }, originPort: origin.port, workDir, workers: n, cpu: null });
    gateways.push({ ...gw, workers: n });
    await checkProxied(gw, request);
    log(`  ${gw.name}: up on 127.0.0.1:${gw.port}, ready in ${gw.readyMs.toFixed(0)} ms`);
  }
  const base = (gw) => ({ port: gw.port, host: request.host, path: request.path, threads, connections, cpu: null });
  for (const gw of gateways) await runWrk({ ...base(gw), durationS: warmupS });
  const runs = new Map(gateways.map((g) => [g.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const gw of gateways) {
      const cpuBefore = groupCpuSeconds(gw.handle.pid);
      const r = await runWrk({ ...base(gw), durationS });
      const cpuAfter = groupCpuSeconds(gw.handle.pid);
      const cpuUsPerReq = cpuBefore && cpuAfter && r.requests ? ((cpuAfter.user + cpuAfter.sys - cpuBefore.user - cpuBefore.sys) * 1e6) / r.requests : null;
      runs.get(gw.name).push({ ...r, cpuUsPerReq });
      log(`  round ${round} ${gw.name}: ${r.rps.toFixed(0)} req/s, p99 ${(r.p99Us / 1000).toFixed(2)} ms${cpuUsPerReq === null ? '' : `, ${cpuUsPerReq.toFixed(0)} µs CPU/req`}`);
    }
  }
  const summary = gateways.map((g) => ({ name: g.name, workers: g.workers, ...summarise(runs.get(g.name)) }));
  const [one, many] = summary;
  const ratio = many.rps / one.rps;
  const report = [
    `# Isthmus --workers 1 vs --workers ${workers}`,
    '',
    `- ${new Date().toISOString()}, Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), 1-minute load at start ${loadAtStart.toFixed(2)}`,
    `- \`node bench/workers.mjs ${process.argv.slice(2).join(' ')}\`; origin ${origin.kind}; wrk -t${threads} -c${connections}, ${rounds} interleaved rounds of ${durationS} s after ${warmupS} s warm-up; cluster scheduling ${opts.sched}`,
    '- Nothing pinned: wrk, the origin and every gateway process (primary and workers) share the cores; CPU µs/req counts the gateway\'s whole process group.',
    '',
    '| gateway | req/s (median) | p50 ms | p99 ms | CPU µs/req (all processes) | rounds req/s | non-2xx | socket errors |',
    '|---|---|---|---|---|---|---|---|',
    ...summary.map((s) => `| --workers ${s.workers} | ${s.rps.toFixed(0)} | ${(s.p50Us / 1000).toFixed(2)} | ${(s.p99Us / 1000).toFixed(2)} | ${s.cpuUsPerReq === null ? 'n/a' : s.cpuUsPerReq.toFixed(0)} | ${s.rounds.map((r) => r.toFixed(0)).join(', ')} | ${s.non2xx} | ${s.socketErrors} |`),
    '',
    `**Ratio --workers ${workers} / --workers 1: ${ratio.toFixed(2)}×**`,
    '',
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (opts.out) writeFileSync(opts.out, report);
} finally {
  for (const gw of gateways) await stopProcess(gw.handle, 15_000);
  await stopProcess(origin.handle);
}
