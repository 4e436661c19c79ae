// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function (name + url:line)
// and by area (our modules, each npm package, Node internals, GC), so "where the time goes"
// can be read without opening DevTools.
//
//   node bench/profile-summary.mjs FILE.cpuprofile [--top 25] [--skip MS]
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Where a frame's code lives, coarse enough to add up: "isthmus dataplane/http", "npm undici", "node _http_server". */
export function areaOf(callFrame) {
  const { functionName, url } = callFrame;
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native)';
  // The only WebAssembly in the gateway is undici's llhttp.
  if (url.startsWith('wasm://')) return 'npm undici (llhttp wasm)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/').filter((p) => p !== 'internal' && p !== 'deps');
    return `node ${parts[0] ?? url}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 14).split('/');
    return `npm ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = url.lastIndexOf('/dist/src/');
  if (src !== -1) {
    const rest = url.slice(src + 10).split('/');
    return `isthmus ${rest.length > 2 ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return shortUrl(url);
}

function shortUrl(url, root = process.cwd()) {
  let path = url;
  try {
    if (url.startsWith('file://')) path = fileURLToPath(url);
  } catch {
    // keep the URL as it is
  }
  if (path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  return path;
}

/**
 * Self time per function and per area. A sample's duration is the gap to the next sample
 * (DevTools' convention); the last sample gets the mean gap. Samples in the first `skipMs`
 * of the profile (process start-up, warm-up) are left out.
 */
export function summariseProfile(profile, { top = 25, root = process.cwd(), skipMs = 0 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  const total = Math.max(0, (profile.endTime ?? 0) - (profile.startTime ?? 0));
  const mean = samples.length ? total / samples.length : 0;
  let counted = 0;
  let atUs = 0;
  for (let i = 0; i < samples.length; i++) {
    atUs += timeDeltas[i] ?? 0;
    if (atUs < skipMs * 1000) continue;
    const dt = i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]) : mean;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
    counted++;
  }
  const functions = new Map();
  const areas = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') idleUs += us;
    const name = frame.functionName || '(anonymous)';
    const location = frame.url ? `${shortUrl(frame.url, root)}:${frame.lineNumber + 1}` : '';
    const key = `${name}\u0000${location}`;
    const fn = functions.get(key) ?? { name, location, area: areaOf(frame), selfUs: 0 };
    fn.selfUs += us;
    functions.set(key, fn);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const rows = [...functions.values()]
    .filter((f) => f.name !== '(idle)')
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, top)
    .map((f) => ({ ...f, selfMs: f.selfUs / 1000, pct: pct(f.selfUs) }));
  const areaRows = [...areas.entries()]
    .filter(([area]) => area !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, selfMs: us / 1000, pct: pct(us) }));
  return { totalMs: totalUs / 1000, busyMs: busyUs / 1000, idleMs: idleUs / 1000, samples: counted, skippedMs: skipMs, rows, areas: areaRows };
}

const fmt = (n, d = 1) => n.toFixed(d);

/** Plain-text tables for the terminal. */
export function formatSummary(summary) {
  const out = [];
  const skipped = summary.skippedMs ? ` after the first ${fmt(summary.skippedMs, 0)} ms` : '';
  out.push(`profile: ${summary.samples} samples${skipped}, ${fmt(summary.totalMs, 0)} ms, busy ${fmt(summary.busyMs, 0)} ms (percentages are of busy time)`);
  out.push('', 'self ms    busy %  function (location)');
  for (const r of summary.rows) {
    out.push(`${fmt(r.selfMs).padStart(8)}  ${fmt(r.pct).padStart(6)}%  ${r.name}${r.location ? ` (${r.location})` : ''}`);
  }
  out.push('', 'self ms    busy %  area');
  for (const a of summary.areas.slice(0, 20)) {
    out.push(`${fmt(a.selfMs).padStart(8)}  ${fmt(a.pct).padStart(6)}%  ${a.area}`);
  }
  return out.join('\n');
}

/** Markdown tables for BENCHMARKS.md. */
export function summaryMarkdown(summary, { areas = 15 } = {}) {
  const esc = (s) => s.replaceAll('|', '\\|');
  const out = [];
  const skipped = summary.skippedMs ? ` (start-up and warm-up, the first ${fmt(summary.skippedMs / 1000, 1)} s, left out)` : '';
  out.push(`${summary.samples} samples over ${fmt(summary.totalMs / 1000, 1)} s${skipped}; busy (not idle) ${fmt(summary.busyMs / 1000, 1)} s. Percentages are of busy time.`, '');
  out.push('| area | self ms | busy % |', '|---|---:|---:|');
  for (const a of summary.areas.slice(0, areas)) out.push(`| ${esc(a.area)} | ${fmt(a.selfMs)} | ${fmt(a.pct)} |`);
  out.push('', `Top ${summary.rows.length} functions by self time:`, '');
  out.push('| # | function | location | self ms | busy % |', '|---:|---|---|---:|---:|');
  summary.rows.forEach((r, i) => {
    out.push(`| ${i + 1} | \`${esc(r.name)}\` | ${esc(r.location || r.area)} | ${fmt(r.selfMs)} | ${fmt(r.pct)} |`);
  });
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, skip: { type: 'string', default: '0' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--skip MS]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  process.stdout.write(`${formatSummary(summariseProfile(profile, { top: Number(values.top), skipMs: Number(values.skip) }))}\n`);
}
