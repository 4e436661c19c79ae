// `node bench/kube-proxy-scale.mjs`: issue 11's kube-proxy numbers at 10,000 Services × 10
// endpoints. Times `isthmus kube-proxy render` for iptables and nftables (the CLI end to end, and
// the render function alone on the same Service ports), then `isthmus kube-proxy apply --mode
// iptables` and `--mode nftables` (`--mode` picks one) each in a network namespace it creates:
// the full sync, and partial syncs of one changed endpoint. Writes its section into BENCHMARKS.md or `--out FILE`. Needs `npm run build` (dist/).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeKubeProxyScale } from './lib/kube-proxy-gen.mjs';
import { runApply } from './lib/kube-proxy-apply-run.mjs';
import { kubeProxyMarkdown, kubeProxyVerdicts } from './lib/kube-proxy-report.mjs';
import { installCleanup, trackChild } from './lib/processes.mjs';
import { machineInfo, spliceMarkdown } from './lib/report.mjs';
import { BENCH_DIR, NGINX, ROOT } from './lib/targets.mjs';
import { median, WRK } from './lib/wrk.mjs';

const HELP = `usage: node bench/kube-proxy-scale.mjs [flags]
  --services N      Services (10000), one TCP port each, every tenth a NodePort
  --endpoints N     endpoints per Service, in one EndpointSlice (10)
  --rounds N        renders per mode, CLI and function each (3)
  --changes N       one-endpoint changes applied after the full sync (3)
  --mode MODE       apply mode: nftables, iptables or both (both)
  --layout LAYOUT   nftables apply: kube-proxy (kube-proxy's own chains), compact, or both (kube-proxy)
  --no-apply        render only (the apply part needs root, ip, and nft or iptables)
  --out FILE        report file (default BENCHMARKS.md; its kube-proxy section is replaced)`;

const { values: opts } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' }, endpoints: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' }, changes: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'both' }, layout: { type: 'string', default: 'kube-proxy' }, 'no-apply': { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
if (!['nftables', 'iptables', 'both'].includes(opts.mode)) throw new Error(`--mode must be nftables, iptables or both, got ${opts.mode}`);
if (!['kube-proxy', 'compact', 'both'].includes(opts.layout)) throw new Error(`--layout must be kube-proxy, compact or both, got ${opts.layout}`);
const layouts = opts.layout === 'both' ? ['kube-proxy', 'compact'] : [opts.layout];
const settings = {
  // One apply run per mode and nftables layout; a compact one is reported as `nftables --layout compact`.
  applyModes: (opts.mode === 'both' ? ['iptables', 'nftables'] : [opts.mode]).flatMap((m) => (m === 'nftables' ? layouts.map((l) => (l === 'compact' ? 'nftables --layout compact' : m)) : [m])),
  services: positive('services'), endpoints: positive('endpoints'), rounds: positive('rounds'), changes: positive('changes'),
  apply: !opts['no-apply'], command: `node bench/kube-proxy-scale.mjs ${process.argv.slice(2).join(' ')}`.trim(),
};
const log = (line) => process.stdout.write(`${line}\n`);
const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '');
const workDir = join(BENCH_DIR, 'results', `kube-proxy-${stamp}`);
const MODES = ['iptables', 'nftables'];
const RENDER_FLAGS = ['--node-ip', '192.168.0.10'];

/**
 * `bin/isthmus.js kube-proxy render` as a user runs it (the launcher's own node flags), stdout to a
 * file as `> rules.txt` would, or (outFile null) into a pipe this process drains and counts, as
 * `| nft -f -` would: the file adds the kernel's page-cache work for the 47 MB, which on this VM
 * varies from nothing to half a second between runs.
 */
function renderCli(mode, configDir, outFile) {
  const fd = outFile === null ? 'pipe' : openSync(outFile, 'w');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'bin', 'isthmus.js'), ['kube-proxy', 'render', '--mode', mode, '--config', configDir, ...RENDER_FLAGS], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
    trackChild(child, 'kube-proxy render');
    let stderr = '';
    let piped = 0;
    child.stdout?.on('data', (d) => (piped += d.length));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      if (outFile !== null) closeSync(fd);
      if (code !== 0) return reject(new Error(`kube-proxy render --mode ${mode} exited ${code}: ${stderr}`));
      resolve({ ms, bytes: outFile === null ? piped : statSync(outFile).size });
    });
  });
}

async function main() {
  installCleanup();
  const dist = join(ROOT, 'dist', 'src');
  if (!existsSync(join(dist, 'kubeproxy', 'renderers.js'))) throw new Error('dist/ is missing: run `npm run build` (or npx tsc -p tsconfig.json) first');
  const machine = machineInfo({ nginx: NGINX, wrk: WRK });
  log(`kube-proxy-scale: Node ${machine.node}, ${machine.nproc} cores, load average ${machine.loadAtStart.toFixed(2)}; work folder ${relative(ROOT, workDir)}`);
  if (machine.loadAtStart > 0.5) log(`kube-proxy-scale: warning: load average ${machine.loadAtStart.toFixed(2)}: something else is running, figures will be noisy`);
  const configDir = join(workDir, 'config');
  const gen = writeKubeProxyScale(configDir, { services: settings.services, endpoints: settings.endpoints });
  log(`  generated ${settings.services} Services × ${settings.endpoints} endpoints in ${gen.files.length} files`);

  // In-process: the same functions the CLI calls, loaded once, then each step timed.
  const imp = (p) => import(pathToFileURL(join(dist, p)).href);
  const [{ loadDirs }, { indexResources }, { collectServicePorts }, { rendererFor, outputText }] = await Promise.all([
    imp('sources/file/load-dirs.js'), imp('store/resource-index.js'), imp('kubeproxy/service-ports.js'), imp('kubeproxy/renderers.js'),
  ]);
  const render = { cli: {}, cliPipe: {}, fn: {}, loadMs: [], portsMs: [], outputBytes: {} };
  let ports;
  for (let round = 1; round <= settings.rounds; round++) {
    let t = performance.now();
    const snapshot = await loadDirs([configDir]);
    render.loadMs.push(performance.now() - t);
    t = performance.now();
    ports = collectServicePorts(indexResources(snapshot.resources)).ports;
    render.portsMs.push(performance.now() - t);
    for (const mode of MODES) {
      t = performance.now();
      const out = rendererFor(mode).render(ports, { nodeIPs: ['192.168.0.10'], clusterCIDRs: [], masqueradeAll: false, scheduler: 'rr' });
      // Outputs render when their chunks are asked for (the CLI writes them chunk by chunk): the
      // function's figure is the whole text made as one string.
      const texts = out.outputs.map(outputText);
      (render.fn[mode] ??= []).push(performance.now() - t);
      render.outputBytes[mode] = texts.reduce((a, text) => a + Buffer.byteLength(text), 0);
    }
  }
  log(`  in process: load ${median(render.loadMs).toFixed(0)} ms, Service ports ${median(render.portsMs).toFixed(0)} ms, ${MODES.map((m) => `${m} ${median(render.fn[m]).toFixed(0)} ms`).join(', ')}`);
  ports = undefined;
  for (let round = 1; round <= settings.rounds; round++) {
    for (const mode of MODES) {
      for (const into of ['file', 'pipe']) {
        const r = await renderCli(mode, configDir, into === 'file' ? join(workDir, `rules-${mode}.txt`) : null);
        if (r.bytes !== render.outputBytes[mode]) throw new Error(`the CLI wrote ${r.bytes} bytes of ${mode} rules into a ${into}, the function ${render.outputBytes[mode]}`);
        (into === 'file' ? (render.cli[mode] ??= []) : (render.cliPipe[mode] ??= [])).push(r.ms);
        log(`  round ${round}/${settings.rounds} CLI ${mode} into a ${into}: ${r.ms.toFixed(0)} ms, ${(r.bytes / 1e6).toFixed(1)} MB`);
      }
    }
  }
  // Per mode: { full, partial } or { error }. The changes go on from where the last mode left the
  // file (gen keeps the current address), which neither mode's figures depend on.
  let apply;
  if (settings.apply) {
    apply = {};
    for (const mode of settings.applyModes) {
      log(`  apply (${mode}) in a new network namespace: full sync, then one endpoint at a time`);
      try {
        const [base, , layout] = mode.split(' ');
        apply[mode] = await runApply({ mode: base, layout, configDir, gen, changes: settings.changes, log });
      } catch (err) {
        apply[mode] = { error: err.message };
        log(`  apply ${mode} FAILED: ${err.message}`);
      }
    }
  }
  const report = { settings, render, apply, lines: readFileSync(join(workDir, 'rules-nftables.txt'), 'utf8').split('\n').length - 1 };
  for (const line of kubeProxyVerdicts(report)) log(line);
  writeReport(machine, kubeProxyMarkdown(report));
  if (Object.values(apply ?? {}).some((a) => a.error)) process.exitCode = 1;
}

function writeReport(machine, sectionLines) {
  const out = opts.out ?? join(ROOT, 'BENCHMARKS.md');
  const rendered = ['# Benchmarks', '', ...sectionLines].join('\n');
  const existing = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const spliced = spliceMarkdown(existing, rendered, { machine, settings }, { ownSetup: true });
  const head = `# Benchmarks\n\n_\`${settings.command}\` on ${machine.date}, Node ${machine.node}, ${machine.nproc} cores (${machine.cpu}), 1-minute load average at start ${machine.loadAtStart.toFixed(2)}._\n\n`;
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, spliced ?? head + sectionLines.join('\n'));
  log(`\nkube-proxy-scale: wrote ${out}${spliced ? ' (its kube-proxy section replaced)' : ''}`);
}

main().catch((err) => {
  process.stderr.write(`kube-proxy-scale: ${err.stack ?? err}\n`);
  process.exit(1);
});
