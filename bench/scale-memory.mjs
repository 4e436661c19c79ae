// The "flat memory" check of issue 12: Isthmus on the scale part's 10,000 Ingress paths over 1,000
// hosts, started `--runs` times, each loaded the way `run.mjs --scale` loads it (a warm-up, then
// rounds interleaved with the 10-path gateway, so the large one also sits idle between rounds), and
// RSS read after load. Beside RSS it records what explains a high run (docs/memory.md): VmHWM, the V8
// heap (from /metrics), the young generation's size, threads alive (a parse worker left running),
// and where the resident memory lies (/proc/PID/smaps: the V8 heap's and malloc arenas' anonymous
// mappings, the main brk heap, file-backed pages).
//
//   node bench/scale-memory.mjs [--gwapi] [--runs 5] [--rounds 3] [--duration 10] [--warmup 3] [--variant 'NAME|NODE FLAGS|K=V K=V' ...]
//
// Without --variant the gateway starts as the launcher starts it (bin/isthmus.js's first line: its
// environment and node flags). Each --variant is a label, node flags and environment assignments;
// with several, runs are interleaved (a, b, a, b, ...) so that the machine's load falls on each alike,
// and the CPU µs per request (CPU time of the process over the rounds / requests) compares their cost.
// `--cpu-rounds N` then compares that cost more closely: one gateway per variant, all up at once,
// N rounds of `--duration` s interleaved across them, and per round each variant's CPU µs/request
// over the first variant's (adjacent in time, so the machine's load drifts less between them).
// `--runs 0 --cpu-rounds 10` does only that.
//
// Needs `npx tsc -p tsconfig.json` and wrk; nginx for the origin when installed (else bench/origin.mjs).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts, groupCpuSeconds, httpGet, installCleanup, stopProcess } from './lib/processes.mjs';
import { writeGatewayScaleConfig, writeScaleConfig } from './lib/config-gen.mjs';
import { BENCH_DIR, NGINX, checkProxied, launcherCommand, startGateway, startOrigin } from './lib/targets.mjs';
import { median, requireWrk, runWrk } from './lib/wrk.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' },
    variant: { type: 'string', multiple: true, default: [] },
    'no-small': { type: 'boolean' }, 'cpu-rounds': { type: 'string', default: '0' }, gwapi: { type: 'boolean' },
  },
});
const num = (name) => Number(opts[name]);
const LIMIT_MB = 150;
const log = (line) => process.stdout.write(`${line}\n`);
const workDir = join(BENCH_DIR, 'results', `memory-${new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '')}`);

/** VmRSS, VmHWM, Threads and RssAnon/RssFile of a live process, in MiB (threads a count). */
export function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024, threads: kb('Threads') };
}

/**
 * Resident MiB by kind of mapping: `brk` (the main malloc heap), `arena` (anonymous mappings inside a
 * 64 MiB-aligned reservation, how glibc's per-thread arenas look), `anon` (the rest: V8's pages, big
 * malloc blocks, thread stacks), `file`.
 */
export function smapsBreakdown(pid) {
  const out = { brk: 0, arena: 0, anon: 0, file: 0, arenas: 0 };
  let current = null;
  const regions = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      current = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), perms: head[3], name: head[4].trim(), rss: 0 };
      regions.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rss = Number(rss[1]) / 1024;
  }
  // A glibc arena heap is HEAP_MAX (64 MiB) aligned: its rw part and its PROT_NONE rest are adjacent.
  const align = 64n << 20n;
  for (let i = 0; i < regions.length; i++) {
    const r = regions[i];
    if (r.name === '[heap]') out.brk += r.rss;
    else if (r.name === '' && r.start % align === 0n && r.perms.startsWith('rw')) {
      const next = regions[i + 1];
      const size = r.end - r.start + (next && next.start === r.end && next.perms === '---p' ? next.end - next.start : 0n);
      if (size === align) {
        out.arena += r.rss;
        out.arenas++;
      } else out.anon += r.rss;
    } else if (r.name === '' || r.name.startsWith('[')) out.anon += r.rss;
    else out.file += r.rss;
  }
  return out;
}

/** Heap figures from the gateway's own /metrics (prom-client's default collectors), in MiB. */
async function heapFromMetrics(adminPort) {
  const res = await httpGet({ port: adminPort, path: '/metrics', timeoutMs: 5000 });
  const value = (re) => {
    const m = re.exec(res.body);
    return m ? Number(m[1]) / 1048576 : null;
  };
  const seconds = (re) => {
    const m = re.exec(res.body);
    return m ? Number(m[1]) : null;
  };
  return {
    heapUsed: value(/^nodejs_heap_size_used_bytes (\S+)/m),
    heapTotal: value(/^nodejs_heap_size_total_bytes (\S+)/m),
    external: value(/^nodejs_external_memory_bytes (\S+)/m),
    newSpace: value(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m),
    // Seconds of main-thread GC pauses so far, scavenges (minor) and the rest.
    gcMinorS: seconds(/^nodejs_gc_duration_seconds_sum\{kind="minor"\} (\S+)/m),
    gcOtherS: ['major', 'incremental', 'weakcb'].reduce((a, kind) => a + (seconds(new RegExp(`^nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\} (\\S+)`, 'm')) ?? 0), 0),
    oldSpace: value(/^nodejs_heap_space_size_total_bytes\{space="old"\} (\S+)/m),
  };
}

const f = (v) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(0));

/** 'NAME|FLAGS|K=V K=V' → { name, flags, env }. */
function parseVariant(text) {
  const [name, flags = '', env = ''] = text.split('|');
  const words = (t) => t.trim().split(/\s+/).filter(Boolean);
  return { name, flags: words(flags), env: Object.fromEntries(words(env).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
}

async function oneRun(run, variant, origin, large) {
  const started = [];
  try {
    const gws = [];
    for (const [name, dir] of [['large', 'config-large'], ...(opts['no-small'] ? [] : [['small', 'config-small']])]) {
      const [http, https, admin] = await freePorts(3);
      const gw = await startGateway({
        name: `${name}-${variant.name}-${run}`,
        configDir: join(workDir, dir),
        ports: { http, https, admin },
        originPort: origin.port,
        workDir,
        readyTimeoutMs: 60_000,
        ...(variant.launcher ? {} : { gatewayCmd: ['node', ...variant.flags, 'bin/isthmus.js'].join(' '), env: variant.env }),
      });
      started.push(gw);
      await checkProxied(gw, large);
      gws.push(gw);
    }
    const atReady = procStatus(gws[0].handle.pid);
    for (const gw of gws) await runWrk({ port: gw.port, host: large.host, path: large.path, durationS: num('warmup') });
    const gcBefore = await heapFromMetrics(gws[0].adminPort);
    let requests = 0;
    let cpu = 0;
    for (let round = 0; round < num('rounds'); round++) {
      for (const gw of gws) {
        const before = groupCpuSeconds(gw.handle.pid);
        const r = await runWrk({ port: gw.port, host: large.host, path: large.path, durationS: num('duration') });
        const after = groupCpuSeconds(gw.handle.pid);
        if (gw === gws[0]) {
          requests += r.requests;
          cpu += after.user + after.sys - before.user - before.sys;
        }
      }
    }
    const status = procStatus(gws[0].handle.pid);
    const maps = smapsBreakdown(gws[0].handle.pid);
    const heap = await heapFromMetrics(gws[0].adminPort);
    const gcUsPerReq = (key) => ((heap[key] - gcBefore[key]) * 1e6) / requests;
    return { run, atReady, status, maps, heap, cpuUsPerReq: (cpu * 1e6) / requests, gcMinorUs: gcUsPerReq('gcMinorS'), gcOtherUs: gcUsPerReq('gcOtherS'), rps: requests / (num('rounds') * num('duration')) };
  } finally {
    for (const gw of started) await stopProcess(gw.handle, 15_000);
  }
}

/** One gateway per variant, all up at once, rounds interleaved; paired CPU ratios to the first. */
async function cpuComparison(variants, origin, large) {
  const gws = [];
  try {
    for (const variant of variants) {
      const [http, https, admin] = await freePorts(3);
      const gw = await startGateway({
        name: `cpu-${variant.name}`, configDir: join(workDir, 'config-large'), ports: { http, https, admin }, originPort: origin.port, workDir, readyTimeoutMs: 60_000,
        ...(variant.launcher ? {} : { gatewayCmd: ['node', ...variant.flags, 'bin/isthmus.js'].join(' '), env: variant.env }),
      });
      gws.push(gw);
      await checkProxied(gw, large);
      await runWrk({ port: gw.port, host: large.host, path: large.path, durationS: num('warmup') });
    }
    const perRound = variants.map(() => []);
    for (let round = 0; round < num('cpu-rounds'); round++) {
      for (const [i, gw] of gws.entries()) {
        const before = groupCpuSeconds(gw.handle.pid);
        const gcBefore = await heapFromMetrics(gw.adminPort);
        const r = await runWrk({ port: gw.port, host: large.host, path: large.path, durationS: num('duration') });
        const after = groupCpuSeconds(gw.handle.pid);
        const gcAfter = await heapFromMetrics(gw.adminPort);
        const gcS = gcAfter.gcMinorS + gcAfter.gcOtherS - gcBefore.gcMinorS - gcBefore.gcOtherS;
        perRound[i].push({ cpuUs: ((after.user + after.sys - before.user - before.sys) * 1e6) / r.requests, gcUs: (gcS * 1e6) / r.requests, rps: r.rps });
      }
      log(`  cpu round ${round + 1}: ${variants.map((v, i) => `${v.name} ${perRound[i].at(-1).cpuUs.toFixed(1)} µs/req (GC ${perRound[i].at(-1).gcUs.toFixed(2)})`).join(', ')}`);
    }
    log(`\n| variant | CPU µs/req (median) | GC µs/req (median) | CPU vs ${variants[0].name} (median of per-round ratios) | RSS after |`);
    log('|---|---|---|---|---|');
    for (const [i, v] of variants.entries()) {
      const ratios = perRound[i].map((r, k) => r.cpuUs / perRound[0][k].cpuUs);
      log(`| ${v.name} | ${median(perRound[i].map((r) => r.cpuUs)).toFixed(1)} | ${median(perRound[i].map((r) => r.gcUs)).toFixed(2)} | ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(', ')}) | ${f(procStatus(gws[i].handle.pid).rss)} |`);
    }
  } finally {
    for (const gw of gws) await stopProcess(gw.handle, 15_000);
  }
}

async function main() {
  installCleanup();
  requireWrk();
  mkdirSync(workDir, { recursive: true });
  const variants = opts.variant.length === 0 ? [{ name: 'launcher', launcher: true, flags: [], env: {} }] : opts.variant.map(parseVariant);
  const [originPort] = await freePorts(1);
  const origin = await startOrigin({ workDir, port: originPort, useNginx: NGINX !== null });
  const base = { upstreamPort: origin.port, endpointsKind: 'slice' };
  // --gwapi: the Gateway API scale part's shape instead (1,000 HTTPRoutes × 10 rules against 1 × 10).
  const large = opts.gwapi
    ? writeGatewayScaleConfig(join(workDir, 'config-large'), { ...base, routes: 1000, rulesPerRoute: 10 })
    : writeScaleConfig(join(workDir, 'config-large'), { ...base, ingresses: 100, hostsPerIngress: 10, pathsPerHost: 10 });
  if (opts.gwapi) writeGatewayScaleConfig(join(workDir, 'config-small'), { ...base, routes: 1, rulesPerRoute: 10, firstHostIndex: 999 });
  else writeScaleConfig(join(workDir, 'config-small'), { ...base, ingresses: 1, hostsPerIngress: 1, pathsPerHost: 10, firstHostIndex: 999 });
  const launcher = launcherCommand();
  log(`scale-memory: ${large.paths} ${opts.gwapi ? 'HTTPRoute rules' : 'Ingress paths'} over ${large.hosts ?? 1000} hosts; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const v of variants) log(`  ${v.name}: ${v.launcher ? `the launcher: ${launcher}` : `${Object.entries(v.env).map(([k, x]) => `${k}=${x} `).join('')}node ${v.flags.join(' ')} bin/isthmus.js`}`);
  log('| variant | run | RSS ready | RSS after load | HWM | anon | brk | arenas (n) | other anon | heap used/total | new space | external | threads | CPU µs/req | GC µs/req (minor + other) | req/s |');
  log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const results = [];
  try {
    for (let run = 1; run <= num('runs'); run++) {
      for (const variant of variants) {
        const r = await oneRun(run, variant, origin, large);
        results.push({ ...r, variant: variant.name });
        const { status: s, maps: m, heap: h } = r;
        log(`| ${variant.name} | ${run} | ${f(r.atReady.rss)} | **${f(s.rss)}** | ${f(s.hwm)} | ${f(s.anon)} | ${f(m.brk)} | ${f(m.arena)} (${m.arenas}) | ${f(m.anon)} | ${f(h.heapUsed)}/${f(h.heapTotal)} | ${f(h.newSpace)} | ${f(h.external)} | ${s.threads} | ${r.cpuUsPerReq.toFixed(1)} | ${r.gcMinorUs.toFixed(2)} + ${r.gcOtherUs.toFixed(2)} | ${f(r.rps)} |`);
      }
    }
    if (num('cpu-rounds') > 0) await cpuComparison(variants, origin, large);
  } finally {
    await stopProcess(origin.handle);
  }
  let over = 0;
  for (const v of variants) {
    const mine = results.filter((r) => r.variant === v.name);
    if (mine.length === 0) continue;
    const high = mine.filter((r) => (r.status.rss * 1048576) / 1e6 >= LIMIT_MB);
    over += high.length;
    log(`\n${v.name}: RSS after load (MiB) ${mine.map((r) => f(r.status.rss)).join(', ')}; ${high.length === 0 ? `all under ${LIMIT_MB} MB` : `${high.length} of ${mine.length} at or over ${LIMIT_MB} MB`}; CPU µs/req median ${median(mine.map((r) => r.cpuUsPerReq)).toFixed(1)}, GC µs/req median ${median(mine.map((r) => r.gcMinorUs + r.gcOtherUs)).toFixed(2)}`);
  }
  log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  process.exitCode = over === 0 ? 0 : 1;
}

await main();
