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

/** Medians over the rounds of where the CPU went, in cores (CPU seconds per second) and µs per request. */
function cpuSplit(runs) {
  const per = (f) => median(runs.map((r) => (r.split && r.cpuS !== undefined && r.requests ? f(r) : null)));
  return {
    gatewayCores: per((r) => r.cpuS / r.split.elapsedS),
    wrkCores: per((r) => r.split.wrkS / r.split.elapsedS),
    originCores: per((r) => (r.split.originS === null ? null : r.split.originS / r.split.elapsedS)),
    machineCores: per((r) => r.split.machineS / r.split.elapsedS),
    otherCores: per((r) => (r.split.originS === null ? null : (r.split.machineS - r.cpuS - r.split.wrkS - r.split.originS) / r.split.elapsedS)),
    wrkUsPerReq: per((r) => (r.split.wrkS * 1e6) / r.requests),
    originUsPerReq: per((r) => (r.split.originS === null ? null : (r.split.originS * 1e6) / r.requests)),
  };
}

const f1 = (v) => (v === null || v === undefined ? '–' : v.toFixed(2));
const us = (v) => (v === null || v === undefined ? '–' : v.toFixed(0));

/** The section (markdown) bench/run.mjs writes and bench/workers.mjs prints. */
export function workersMarkdown(w) {
  const [one, many] = w.order.map((n) => w.results[n]);
  const out = [
    `## Workers: --workers ${w.workers} against --workers 1`,
    '',
    `The main part's request (\`Host: ${w.request.host}\`, \`GET ${w.request.path}\`) through \`isthmus run --workers 1\` and \`--workers ${w.workers}\` on this ${w.nproc}-core machine, rounds interleaved; origin ${w.origin}; \`wrk -t${w.threads} -c${w.connections} --latency\`; cluster scheduling \`${w.sched}\`. **Nothing is pinned**: wrk, the origin and every gateway process (the primary and its workers) run where the kernel puts them. CPU µs/req counts the gateway's whole process group. The CPU columns say where the machine's cores went during the rounds, in cores (CPU seconds per second, medians): the gateway, wrk (its own CPU, from the harness's reaped-children time), the origin, and everything else that was busy (other processes on the machine, and kernel time not charged to these). 1-minute load average at the start of this part: ${w.loadAtStart.toFixed(2)}.`,
    '',
    '| gateway | req/s (median) | p50 | p99 | CPU µs/req | rounds (req/s) | gateway cores | wrk cores | origin cores | other cores | machine busy |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r] of w.order.map((n) => [n, w.results[n]])) {
    const bad = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    out.push(`| \`${name.replace('isthmus-workers-', '--workers ')}\`${bad} | ${(r.rps / 1000).toFixed(1)}k | ${us(r.p50Us)} µs | ${us(r.p99Us)} µs | ${r.cpuUsPerReq?.toFixed(1) ?? '–'} | ${r.rounds.map((v) => `${(v / 1000).toFixed(1)}k`).join(', ')} | ${f1(r.gatewayCores)} | ${f1(r.wrkCores)} | ${f1(r.originCores)} | ${f1(r.otherCores)} | ${f1(r.machineCores)} of ${w.nproc} |`);
  }
  out.push('', ...workersVerdicts(w).map((l) => `- ${l}`), '');
  return out;
}

/**
 * The ratio, and what limits it. req/s = the gateway's cores / its CPU per request, so the ratio
 * is (cores with N / cores with 1) × (CPU per request with 1 / with N), exactly; and on C cores
 * shared with a load generator and an origin costing L µs per request between them, N workers
 * can reach at most C / (c + L) req/s, against 1 / c for one worker: a ceiling of C·c / (c + L).
 */
export function workersVerdicts(w) {
  const [one, many] = w.order.map((n) => w.results[n]);
  if (!w.ratio) return ['ratio: not measured'];
  const perRound = many.rounds.map((v, i) => (one.rounds[i] ? (v / one.rounds[i]).toFixed(2) : '–')).join(', ');
  const lines = [`**ratio --workers ${w.workers} / --workers 1: ${w.ratio.toFixed(2)}×** (per round: ${perRound})`];
  if (one.gatewayCores && many.gatewayCores && one.cpuUsPerReq && many.cpuUsPerReq) {
    lines.push(`= ${(many.gatewayCores / one.gatewayCores).toFixed(2)} × the CPU the gateway got (${f1(many.gatewayCores)} cores against ${f1(one.gatewayCores)}) × ${(one.cpuUsPerReq / many.cpuUsPerReq).toFixed(2)} for the CPU per request (${many.cpuUsPerReq.toFixed(1)} µs against ${one.cpuUsPerReq.toFixed(1)} µs: ${many.cpuUsPerReq >= one.cpuUsPerReq ? '+' : ''}${((many.cpuUsPerReq / one.cpuUsPerReq - 1) * 100).toFixed(0)} % per request with ${w.workers} workers: cross-core wake-ups, every worker woken on each new connection on the one shared socket, colder caches)`);
  }
  const load = (many.wrkUsPerReq ?? 0) + (many.originUsPerReq ?? 0);
  if (many.wrkUsPerReq && one.cpuUsPerReq) {
    const ceiling = (w.nproc * one.cpuUsPerReq) / (one.cpuUsPerReq + load);
    lines.push(`what limits it: wrk and the origin share the same ${w.nproc} cores and cost ${many.wrkUsPerReq.toFixed(1)} + ${us(many.originUsPerReq)} µs per request between them, against the gateway's ${one.cpuUsPerReq.toFixed(1)} µs with one worker; with every core busy, ${w.nproc} cores / (gateway + wrk + origin per request) caps the ratio at ${w.nproc} × ${one.cpuUsPerReq.toFixed(1)} / (${one.cpuUsPerReq.toFixed(1)} + ${load.toFixed(1)}) = **${ceiling.toFixed(2)}×** even with no extra cost per request; ${f1(many.otherCores)} cores went to other processes during the --workers ${w.workers} rounds (machine ${f1(many.machineCores)} of ${w.nproc} cores busy), which lowers it further. On this machine the ratio says how much a second worker buys when the load generator competes for the cores, not how Isthmus scales; on a machine with cores to spare beyond the load generator's it measures the latter.`);
  }
  if (one.non2xx || one.socketErrors || many.non2xx || many.socketErrors) lines.push('INVALID: some requests got a non-2xx answer or a socket error (see the table)');
  return lines;
}
