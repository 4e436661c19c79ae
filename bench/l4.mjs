// `node bench/l4.mjs`: issue 11's L4 numbers. One 1 GiB TCP stream and short connections
// (connect, a small request, the answer, close) through HAProxy in TCP mode and Isthmus's L4
// listener, each pinned to one core, against a direct (no proxy) baseline; rounds interleaved,
// medians, Isthmus/HAProxy ratios. Writes its section into BENCHMARKS.md (the splice of
// bench/run.mjs) or into `--out FILE`. `--help` lists the flags.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { L4_PROXY_CPU, L4_LOAD_CPU, HAPROXY, runStream, startHaproxy, startIsthmusL4, startStreamOrigin } from './lib/l4-targets.mjs';
import { l4Markdown, l4Table, l4Verdicts, summariseL4 } from './lib/l4-report.mjs';
import { describeExit, freePorts, groupCpuSeconds, httpGet, installCleanup, pinningAvailable, stopProcess } from './lib/processes.mjs';
import { machineInfo, spliceMarkdown } from './lib/report.mjs';
import { BENCH_DIR, NGINX, ROOT, startOrigin } from './lib/targets.mjs';
import { requireWrk, runWrk, WRK } from './lib/wrk.mjs';
import { formatSummary, summariseProfile } from './profile-summary.mjs';

const HELP = `usage: node bench/l4.mjs [flags]
  --rounds N            interleaved rounds per path (3)
  --stream-mib N        MiB per stream (1024)
  --conn-duration S     seconds of wrk per round (5)
  --connections N       wrk connections (50)
  --warmup S            seconds of wrk warm-up per path (2; plus one stream)
  --profile             also take a CPU profile of Isthmus (one stream, one wrk run) and print where the time goes
  --gateway-cmd CMD     command standing in for "node bin/isthmus.js"
  --out FILE            report file (default BENCHMARKS.md; its L4 section is replaced)`;

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' }, 'stream-mib': { type: 'string', default: '1024' },
    'conn-duration': { type: 'string', default: '5' }, connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '2' }, profile: { type: 'boolean' }, 'gateway-cmd': { type: 'string' },
    out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const positive = (name) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${opts[name]}`);
  return n;
};
const settings = {
  rounds: positive('rounds'), streamBytes: positive('stream-mib') * (1 << 20), connDurationS: positive('conn-duration'),
  connections: positive('connections'), warmupS: positive('warmup'),
  command: `node bench/l4.mjs ${process.argv.slice(2).join(' ')}`.trim(),
};
const log = (line) => process.stdout.write(`${line}\n`);
const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '');
const workDir = join(BENCH_DIR, 'results', `l4-${stamp}`);

function haproxyVersion() {
  const res = spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' });
  return /version (\S+)/.exec(res.stdout ?? '')?.[1] ?? 'unknown';
}

/** One stream and one wrk run through `t`, with the proxy's CPU time around each. */
async function measureOnce(t, durationS) {
  const cpu = () => (t.handle ? groupCpuSeconds(t.handle.pid) : null);
  let before = cpu();
  const stream = await runStream({ port: t.streamPort, bytes: settings.streamBytes });
  let after = cpu();
  if (before && after) stream.cpuMsPerGiB = ((after.user + after.sys - before.user - before.sys) * 1000) / (stream.bytes / 2 ** 30);
  before = cpu();
  const conn = await runWrk({ port: t.connPort, headers: ['Connection: close'], durationS, connections: settings.connections, cpu: L4_LOAD_CPU });
  after = cpu();
  if (before && after && conn.requests) conn.cpuUsPerConn = ((after.user + after.sys - before.user - before.sys) * 1e6) / conn.requests;
  return { stream, conn };
}

/** Every path must carry a 200 from nginx on a fresh connection before it is measured. */
async function checkPath(t) {
  const res = await httpGet({ port: t.connPort, headers: { connection: 'close' }, timeoutMs: 5000 });
  if (res.status !== 200 || res.body !== 'hello world\n') throw new Error(`${t.name}: GET / answered ${res.status} ${JSON.stringify(res.body.slice(0, 200))}`);
}

async function profileIsthmus(ports, origins) {
  const dir = join(workDir, 'profile');
  mkdirSync(dir, { recursive: true });
  const [streamPort, connPort, http, https, admin] = await freePorts(5);
  const gw = await startIsthmusL4({ workDir, name: 'isthmus-profile', gatewayCmd: opts['gateway-cmd'], nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir], ports: { ...origins, streamPort, connPort }, adminPorts: { http, https, admin } });
  await measureOnce(gw, settings.connDurationS);
  await stopProcess(gw.handle, 15_000);
  const file = (await import('node:fs')).readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return log('  profile: no .cpuprofile written');
  log(`\n== Where Isthmus's time goes (one stream + one wrk run), ${relative(ROOT, join(dir, file))}`);
  log(formatSummary(summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), { root: ROOT })));
}

async function main() {
  installCleanup();
  requireWrk();
  if (!NGINX) throw new Error('nginx is not installed (`apt-get install nginx-light`): the short-connection origin is nginx');
  if (!HAPROXY) throw new Error('haproxy is not installed (`apt-get install haproxy`)');
  if (!pinningAvailable()) log('l4: warning: not pinning (needs taskset and 2 cores): figures are not comparable');
  mkdirSync(workDir, { recursive: true });
  const machine = machineInfo({ nginx: NGINX, wrk: WRK });
  log(`l4: Node ${machine.node}, ${machine.nproc} cores, load average ${machine.loadAtStart.toFixed(2)}; work folder ${relative(ROOT, workDir)}`);
  if (machine.loadAtStart > 0.5) log(`l4: warning: load average ${machine.loadAtStart.toFixed(2)}: something else is running, figures will be noisy`);
  const [streamOrigin, connOrigin, hStream, hConn, iStream, iConn, http, https, admin] = await freePorts(9);
  const started = [];
  const results = {};
  const order = ['direct', 'haproxy', 'isthmus'];
  let isthmusCommand;
  try {
    started.push(await startOrigin({ workDir, port: connOrigin, useNginx: true, cpu: L4_LOAD_CPU }));
    started.push(await startStreamOrigin({ workDir, port: streamOrigin, bytes: settings.streamBytes }));
    const targets = [{ name: 'direct', streamPort: streamOrigin, connPort: connOrigin, handle: null }];
    const haproxy = await startHaproxy({ workDir, ports: { streamPort: hStream, streamOrigin, connPort: hConn, connOrigin } });
    started.push(haproxy);
    targets.push(haproxy);
    const isthmus = await startIsthmusL4({ workDir, gatewayCmd: opts['gateway-cmd'], ports: { streamOrigin, connOrigin, streamPort: iStream, connPort: iConn }, adminPorts: { http, https, admin } });
    isthmusCommand = isthmus.command.map((w) => (w === process.execPath ? 'node' : w.startsWith(`${ROOT}/`) ? relative(ROOT, w) : w)).join(' ');
    started.push(isthmus);
    targets.push(isthmus);
    for (const t of targets) {
      await checkPath(t);
      log(`  warm-up ${t.name}: one stream + ${settings.warmupS} s of wrk`);
      await measureOnce(t, settings.warmupS);
    }
    const runs = Object.fromEntries(targets.map((t) => [t.name, { stream: [], conn: [] }]));
    for (let round = 1; round <= settings.rounds; round++) {
      for (const t of targets) {
        const { stream, conn } = await measureOnce(t, settings.connDurationS);
        runs[t.name].stream.push(stream);
        runs[t.name].conn.push(conn);
        log(`  round ${round}/${settings.rounds} ${t.name.padEnd(8)} stream ${stream.mibPerS.toFixed(0)} MiB/s${stream.cpuMsPerGiB ? ` (${stream.cpuMsPerGiB.toFixed(0)} ms CPU/GiB)` : ''}; ${conn.rps.toFixed(0)} conn/s${conn.cpuUsPerConn ? ` (${conn.cpuUsPerConn.toFixed(1)} µs CPU/conn)` : ''}${conn.non2xx || conn.socketErrors ? `, ${conn.non2xx} non-2xx, ${conn.socketErrors} socket errors` : ''}`);
      }
    }
    for (const t of targets) results[t.name] = summariseL4(runs[t.name]);
    if (opts.profile) await profileIsthmus({}, { streamOrigin, connOrigin });
  } finally {
    for (const p of started.reverse()) {
      const info = await stopProcess(p.handle, 15_000);
      if (p.name === 'isthmus' && info?.code !== 0) log(`  warning: isthmus exited with ${describeExit(info)} after SIGTERM; log: ${p.handle.logPath}`);
    }
  }
  const l4 = { order, results, settings, proxyCpu: L4_PROXY_CPU, loadCpu: L4_LOAD_CPU, haproxyVersion: haproxyVersion(), isthmusCommand };
  log(`\n${l4Table(l4)}\n`);
  for (const line of l4Verdicts(l4)) log(line);
  writeReport(machine, l4Markdown(l4));
}

/** The section into an existing report (replacing its L4 section), or a new file with a short head. */
function writeReport(machine, sectionLines) {
  const out = opts.out ?? join(ROOT, 'BENCHMARKS.md');
  const rendered = ['# Benchmarks', '', ...sectionLines].join('\n');
  const existing = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const spliced = spliceMarkdown(existing, rendered, { machine, settings }, { ownSetup: true });
  const head = `# Benchmarks\n\n_\`${settings.command}\` on ${machine.date}, Node ${machine.node}, ${machine.nproc} cores (${machine.cpu}), 1-minute load average at start ${machine.loadAtStart.toFixed(2)}._\n\n`;
  writeFileSync(out, spliced ?? head + sectionLines.join('\n'));
  log(`\nl4: wrote ${out}${spliced ? ' (its L4 section replaced)' : ''}`);
}

main().catch((err) => {
  process.stderr.write(`l4: ${err.stack ?? err}\n`);
  process.exit(1);
});
