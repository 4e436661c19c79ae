// `isthmus run --workers 1` against `--workers N` on the main part's small GET, in one run:
// bench/run.mjs --workers-scaling and bench/workers.mjs both run this. Nothing is pinned
// (gateway, origin, wrk): the point is how the kernel spreads the workers over the cores. Each
// round also records where the machine's CPU went (the gateway, wrk, the origin, everything
// else), which is what says what limits the ratio on a small machine.
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeSimpleConfig } from './config-gen.mjs';
import { measureInterleaved } from './measure.mjs';
import { freePorts, groupCpuSeconds, stopProcess } from './processes.mjs';
import { checkProxied, startGateway, startOrigin } from './targets.mjs';
import { median, runWrk } from './wrk.mjs';

const CLK_TCK = 100; // USER_HZ: /proc/*/stat and /proc/stat count in it on every Linux build
const ticks = (fields) => fields.map(Number);

/** CPU seconds this process's reaped children used (wrk, once it has exited and been waited for). */
function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK; // cutime, cstime
}

/** Busy CPU seconds of the whole machine (all cores) so far: everything but idle and iowait. */
function machineBusySeconds() {
  // user nice system idle iowait irq softirq steal: idle and iowait are the not-busy ones.
  const [user, nice, system, , , irq, softirq, steal] = ticks(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9));
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * `opts`: { workDir, log, workers (N), rounds, durationS, warmupS, connections, threads, sched
 * ('none' | 'rr'), useNginx, endpointsKind, gatewayCmd }. Starts its own origin, unpinned.
 */
export async function runWorkersScaling(opts) {
  const { log, workers, sched } = opts;
  // Its own folder: a second nginx origin must not share the first one's pid and log files.
  const workDir = join(opts.workDir, 'workers');
  mkdirSync(workDir, { recursive: true });
  const nproc = availableParallelism();
  const loadAtStart = loadavg()[0];
  log(`\n== Workers: isthmus run --workers 1 vs --workers ${workers} on ${nproc} cores, nothing pinned (wrk -t${opts.threads} -c${opts.connections}, cluster scheduling ${sched})`);
  const [originPort] = await freePorts(1);
  const origin = await startOrigin({ workDir, port: originPort, useNginx: opts.useNginx, cpu: null });
  const configDir = join(workDir, 'config-workers');
  const request = writeSimpleConfig(configDir, { upstreamPort: origin.port, endpointsKind: opts.endpointsKind });
  const gateways = [];
  try {
    for (const n of [1, workers]) {
      const [http, https, admin] = await freePorts(3);
      // Read by the workers' primary (src/cli/workers/worker-pool.ts) through the environment.
      const gw = await startGateway({ name: `isthmus-workers-${n}`, gatewayCmd: opts.gatewayCmd, configDir, ports: { http, https, admin }, originPort: origin.port, workDir, workers: n, cpu: null, env: { NODE_CLUSTER_SCHED_POLICY: sched } });
      gateways.push(gw);
      await checkProxied(gw, request);
      log(`  ${gw.name}: up on 127.0.0.1:${gw.port}, ready in ${gw.readyMs.toFixed(0)} ms`);
    }
    const runOnce = async (t, durationS) => {
      const before = { wrk: childrenCpuSeconds(), origin: groupCpuSeconds(origin.handle.pid), machine: machineBusySeconds(), at: performance.now() };
      const r = await runWrk({ port: t.port, host: request.host, path: request.path, threads: opts.threads, connections: opts.connections, durationS, cpu: null });
      const elapsedS = (performance.now() - before.at) / 1000;
      const o = groupCpuSeconds(origin.handle.pid);
      r.split = {
        elapsedS,
        wrkS: childrenCpuSeconds() - before.wrk,
        originS: o && before.origin ? o.user + o.sys - before.origin.user - before.origin.sys : null,
        machineS: machineBusySeconds() - before.machine,
      };
      return r;
    };
    const { results, runs } = await measureInterleaved({ targets: gateways, runOnce, rounds: opts.rounds, warmupS: opts.warmupS, durationS: opts.durationS, log, requireOk: true });
    for (const gw of gateways) Object.assign(results[gw.name], cpuSplit(runs[gw.name]));
    const order = gateways.map((g) => g.name);
    const [one, many] = order.map((n) => results[n]);
    return { workers, nproc, sched, loadAtStart, origin: origin.kind, threads: opts.threads, connections: opts.connections, request, order, results, ratio: many.rps && one.rps ? many.rps / one.rps : null };
  } finally {
    for (const gw of gateways) await stopProcess(gw.handle, 15_000);
    await stopProcess(origin.handle);
  }
}

/**
 * Where the CPU went, over all the rounds together (sums, not medians, so that req/s = the
 * gateway's cores / its CPU per request holds exactly): in cores (CPU seconds per second of
 * wall time) and µs per request. Null when some round lacks a figure.
 */
function cpuSplit(runs) {
  const ok = runs.length > 0 && runs.every((r) => r.split && r.cpuS !== undefined && r.requests && r.split.originS !== null);
  if (!ok) return { total: null };
  const sum = (f) => runs.reduce((a, r) => a + f(r), 0);
  const elapsedS = sum((r) => r.split.elapsedS);
  const requests = sum((r) => r.requests);
  const gatewayS = sum((r) => r.cpuS);
  const wrkS = sum((r) => r.split.wrkS);
  const originS = sum((r) => r.split.originS);
  const machineS = sum((r) => r.split.machineS);
  return {
    total: {
      rps: requests / elapsedS,
      gatewayCores: gatewayS / elapsedS, wrkCores: wrkS / elapsedS, originCores: originS / elapsedS,
      machineCores: machineS / elapsedS, otherCores: (machineS - gatewayS - wrkS - originS) / elapsedS,
      gatewayUsPerReq: (gatewayS * 1e6) / requests, wrkUsPerReq: (wrkS * 1e6) / requests, originUsPerReq: (originS * 1e6) / requests,
    },
  };
}

const f1 = (v) => (v === null || v === undefined ? '–' : v.toFixed(2));
const ms = (v) => (v === null || v === undefined ? '–' : v < 1000 ? `${v.toFixed(0)} µs` : `${(v / 1000).toFixed(2)} ms`);

const label = (name) => name.replace('isthmus-workers-', '--workers ');

/** The section (markdown) bench/run.mjs writes and bench/workers.mjs prints. */
export function workersMarkdown(w) {
  const out = [
    `## Workers: --workers ${w.workers} against --workers 1`,
    '',
    `The main part's request (\`Host: ${w.request.host}\`, \`GET ${w.request.path}\`) through \`isthmus run --workers 1\` and \`--workers ${w.workers}\` on this ${w.nproc}-core machine, rounds interleaved; origin ${w.origin}; \`wrk -t${w.threads} -c${w.connections} --latency\`; cluster scheduling \`${w.sched}\`. **Nothing is pinned**: wrk, the origin and every gateway process (the primary and its workers) run where the kernel puts them. CPU µs/req counts the gateway's whole process group (median of the rounds). The last columns say where the machine's cores went over all the rounds together, in cores (CPU seconds per second): the gateway, wrk (its own CPU: the harness's reaped-children time), the origin, and everything else that was busy (/proc/stat: other processes on the machine, and kernel time charged to none of these). 1-minute load average at the start of this part: ${w.loadAtStart.toFixed(2)}.`,
    '',
    '| gateway | req/s (median) | p50 | p99 | CPU µs/req | rounds (req/s) | gateway cores | wrk cores | origin cores | other cores | machine busy |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const name of w.order) {
    const r = w.results[name];
    const t = r.total ?? {};
    const bad = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    out.push(`| \`${label(name)}\`${bad} | ${(r.rps / 1000).toFixed(1)}k | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${r.cpuUsPerReq?.toFixed(1) ?? '–'} | ${r.rounds.map((v) => `${(v / 1000).toFixed(1)}k`).join(', ')} | ${f1(t.gatewayCores)} | ${f1(t.wrkCores)} | ${f1(t.originCores)} | ${f1(t.otherCores)} | ${f1(t.machineCores)} of ${w.nproc} |`);
  }
  out.push('', ...workersVerdicts(w).map((l) => `- ${l}`), '');
  return out;
}

/**
 * The ratio, and what limits it. req/s = the gateway's cores / its CPU per request, so over all
 * rounds the ratio is (cores with N / cores with 1) × (CPU per request with 1 / with N), exactly;
 * and on C cores shared with a load generator and an origin costing L µs per request between
 * them, N workers reach at most C / (c + L) req/s against 1 / c for one worker (c: its CPU per
 * request): a ceiling of C·c / (c + L) before any extra cost per request.
 */
export function workersVerdicts(w) {
  const [one, many] = w.order.map((n) => w.results[n]);
  if (!w.ratio) return ['ratio: not measured'];
  const perRound = many.rounds.map((v, i) => (one.rounds[i] ? (v / one.rounds[i]).toFixed(2) : '–')).join(', ');
  const lines = [`**ratio --workers ${w.workers} / --workers 1: ${w.ratio.toFixed(2)}×** of the median req/s (per round: ${perRound})`];
  const a = one.total;
  const b = many.total;
  if (!a || !b) return [...lines, 'where the CPU went: not measured (/proc unreadable)'];
  const pct = (x, y) => `${x >= y ? '+' : ''}${((x / y - 1) * 100).toFixed(0)} %`;
  lines.push(`over all rounds together: ${(b.rps / a.rps).toFixed(2)}× = ${(b.gatewayCores / a.gatewayCores).toFixed(2)} for the CPU the gateway got (${f1(b.gatewayCores)} cores against ${f1(a.gatewayCores)}) × ${(a.gatewayUsPerReq / b.gatewayUsPerReq).toFixed(2)} for its CPU per request (${b.gatewayUsPerReq.toFixed(1)} µs against ${a.gatewayUsPerReq.toFixed(1)} µs, ${pct(b.gatewayUsPerReq, a.gatewayUsPerReq)} with ${w.workers} workers; not broken down here: the candidates are cross-core wake-ups, every worker woken for each new connection on the one shared socket (no reusePort in Node 20), colder caches, and ${w.workers} event loops each batching fewer requests per turn)`);
  const load = b.wrkUsPerReq + b.originUsPerReq;
  const ceiling = (w.nproc * a.gatewayUsPerReq) / (a.gatewayUsPerReq + load);
  lines.push(`what limits it: the load generator and the origin run on the same ${w.nproc} cores and cost ${b.wrkUsPerReq.toFixed(1)} µs (wrk) + ${b.originUsPerReq.toFixed(1)} µs (origin) per request, against the gateway's ${a.gatewayUsPerReq.toFixed(1)} µs with one worker; with every core busy, req/s ≤ ${w.nproc} cores / (gateway + wrk + origin per request), so a second worker can buy at most ${w.nproc} × ${a.gatewayUsPerReq.toFixed(1)} / (${a.gatewayUsPerReq.toFixed(1)} + ${load.toFixed(1)}) = **${ceiling.toFixed(2)}×** on this machine even at no extra cost per request (on a quiet machine one worker leaves the other core to wrk and the origin; two workers must share it with them)`);
  lines.push(`other processes on the machine took ${f1(a.otherCores)} cores during the --workers 1 rounds and ${f1(b.otherCores)} during the --workers ${w.workers} rounds (machine ${f1(a.machineCores)} and ${f1(b.machineCores)} of ${w.nproc} cores busy): a busy machine leaves a second worker no idle core, so it lowers the ratio further. The ratio here says what a second worker buys when the load generator competes for the cores, not how Isthmus scales; on a machine with cores to spare beyond the load generator's, the same part measures the latter`);
  if (one.non2xx || one.socketErrors || many.non2xx || many.socketErrors) lines.push('INVALID: some requests got a non-2xx answer or a socket error (see the table)');
  return lines;
}
