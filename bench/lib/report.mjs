// Machine facts and the BENCHMARKS.md / terminal rendering of a run's results.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { summaryMarkdown } from '../profile-summary.mjs';
import { outageTable, outageVerdicts } from './redis-outage.mjs';
import { h2Markdown } from './h2-report.mjs';
import { workersMarkdown } from './workers-part.mjs';

function readOr(file, fallback) {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

function versionOf(cmd, args) {
  if (!cmd) return 'not installed';
  // nginx -v prints to stderr; wrk --version exits 1 after printing its banner.
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean);
  return text ?? 'unknown';
}

export function machineInfo({ nginx, wrk }) {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: availableParallelism(),
    cpu: model,
    kernel: release(),
    srso: readOr('/sys/devices/system/cpu/vulnerabilities/spec_rstack_overflow', 'unknown'),
    nginx: versionOf(nginx, ['-v']).replace(/^nginx version:\s*/, ''),
    wrk: versionOf(wrk, ['--version']).replace(/\s*Copyright.*$/, ''),
    loadAtStart: loadavg()[0],
  };
}

const k = (rps) => (rps === null || rps === undefined ? '–' : `${(rps / 1000).toFixed(1)}k`);
const ms = (us) => (us === null || us === undefined ? '–' : us < 1000 ? `${us.toFixed(0)} µs` : `${(us / 1000).toFixed(2)} ms`);
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '–');
const mib = (v) => (v === null || v === undefined ? '–' : `${v.toFixed(0)} MiB`);
const verdict = (ok) => (ok ? 'PASS' : 'MISS');
const cpu = (r) => (r.cpuUsPerReq ? `${r.cpuUsPerReq.toFixed(1)} (${r.userUsPerReq.toFixed(1)})` : '–');

export const LABELS = {
  nginx: 'nginx (1 worker, upstream keepalive 64)',
  isthmus: 'Isthmus (routing + metrics, access log off)',
  bare: 'bare node:http + undici Pool.dispatch',
};

/** The main comparison table (markdown; also readable in a terminal). */
export function mainTable(main) {
  const { results } = main;
  const nginx = results.nginx?.rps;
  const bare = results.bare?.rps;
  const out = [
    '| proxy | req/s (median) | p50 | p99 | vs nginx | vs bare Node | CPU µs/req (user) | rounds (req/s) | RSS after load |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const name of main.order) {
    const r = results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${LABELS[name] ?? name} | failed: ${r.error.split('\n')[0].replaceAll('|', '\\|')} | | | | | | | |`);
      continue;
    }
    const extra = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    out.push(
      `| ${LABELS[name] ?? name}${extra} | ${k(r.rps)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ratio(r.rps, nginx)} | ${ratio(r.rps, bare)} | ${cpu(r)} | ${r.rounds.map(k).join(', ')} | ${mib(r.rssMiB)} |`,
    );
  }
  return out.join('\n');
}

export function mainVerdict(main) {
  const isthmus = main.results.isthmus?.rps;
  const bare = main.results.bare?.rps;
  if (!isthmus || !bare) return 'Isthmus ≥ 0.75 × bare Node proxy: not measured';
  const r = isthmus / bare;
  return `Isthmus ≥ 0.75 × bare Node proxy: ${r.toFixed(2)} → ${verdict(r >= 0.75)}`;
}

/** What a scale config counts: Ingress paths, or HTTPRoute rules. */
const unitOf = (scale) => (scale.kind === 'gateway-api' ? 'rules' : 'paths');

export function scaleTable(scale) {
  const { small, large } = scale;
  const unit = unitOf(scale);
  const out = [
    `| | ${small.paths} ${unit}, ${small.hosts} host | ${large.paths.toLocaleString('en')} ${unit}, ${large.hosts.toLocaleString('en')} hosts |`,
    '|---|---:|---:|',
    `| start → /ready (incl. process start) | ${small.readyMs.toFixed(0)} ms | ${large.readyMs.toFixed(0)} ms |`,
    `| req/s (median) | ${k(small.rps)} | ${k(large.rps)} |`,
    `| p50 / p99 | ${ms(small.p50Us)} / ${ms(small.p99Us)} | ${ms(large.p50Us)} / ${ms(large.p99Us)} |`,
    `| rounds (req/s) | ${small.rounds.map(k).join(', ')} | ${large.rounds.map(k).join(', ')} |`,
    `| RSS after load | ${mib(small.rssMiB)} | ${mib(large.rssMiB)} |`,
    `| diagnostics | ${diag(small.diagnostics)} | ${diag(large.diagnostics)} |`,
  ];
  return out.join('\n');
}

function diag(d) {
  if (!d) return 'unavailable';
  const parts = Object.entries(d.bySeverity).map(([s, n]) => `${n} ${s}`);
  return `${d.total}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export function scaleVerdicts(scale) {
  const { small, large } = scale;
  const unit = unitOf(scale);
  const n = `${large.paths.toLocaleString('en')} ${unit}`;
  const rel = large.rps && small.rps ? large.rps / small.rps : null;
  const applyMs = Number(/applied in ([\d.]+) ?ms/.exec(scale.applyLog ?? '')?.[1] ?? NaN);
  const own = Number.isFinite(applyMs) ? [`apply ${n} < 1 s, as the gateway logs it ("applied in"): ${applyMs.toFixed(0)} ms → ${verdict(applyMs < 1000)}`] : [];
  return [
    ...own,
    `(for information, not the apply: start → ready, which adds process start and reading the files in the parse worker, is ${large.readyMs.toFixed(0)} ms; the ${small.paths}-${unit.slice(0, -1)} start takes ${small.readyMs.toFixed(0)} ms)`,
    `req/s within 10 % of the ${small.paths}-${unit.slice(0, -1)} config: ${rel === null ? 'not measured' : `${(rel * 100).toFixed(1)} % → ${verdict(rel >= 0.9)}`}`,
    `RSS < 150 MB after load: ${large.rssMiB === null ? 'not measured → MISS' : `${large.rssMiB.toFixed(0)} MiB (${((large.rssMiB * 1048576) / 1e6).toFixed(0)} MB) → ${verdict(large.rssMiB * 1048576 < 150e6)}`}`,
  ];
}

export const GWAPI_LABELS = {
  'isthmus-route': 'Isthmus, HTTPRoute without filters',
  'isthmus-filters': 'Isthmus, HTTPRoute + RequestHeaderModifier + ResponseHeaderModifier + CORS',
  bare: 'bare node:http + undici Pool.dispatch',
};

/** The Gateway API one-route table: both Isthmus configs and the bare proxy. */
export function gwapiTable(gwapi) {
  const { results } = gwapi;
  const bare = results.bare?.rps;
  const plain = results['isthmus-route'];
  const out = [
    '| proxy | req/s (median) | p50 | p99 | vs bare Node | vs no filters | CPU µs/req (user) | CPU/req vs no filters | rounds (req/s) | RSS after load |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const name of gwapi.order) {
    const r = results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${GWAPI_LABELS[name] ?? name} | failed: ${r.error.split('\n')[0].replaceAll('|', '\\|')} | | | | | | | | |`);
      continue;
    }
    const extra = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    const cpuRel = r.cpuUsPerReq && plain?.cpuUsPerReq ? (r.cpuUsPerReq / plain.cpuUsPerReq).toFixed(3) : '–';
    out.push(
      `| ${GWAPI_LABELS[name] ?? name}${extra} | ${k(r.rps)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ratio(r.rps, bare)} | ${ratio(r.rps, plain?.rps)} | ${cpu(r)} | ${cpuRel} | ${r.rounds.map(k).join(', ')} | ${mib(r.rssMiB)} |`,
    );
  }
  return out.join('\n');
}

/** CPU µs/req of each round, for the spread (medians alone hide how noisy the rounds were). */
const cpuRounds = (r) => (r.cpuRounds ?? []).map((v) => v.toFixed(0)).join(', ');

export function gwapiVerdicts(gwapi) {
  const plain = gwapi.results['isthmus-route'];
  const filters = gwapi.results['isthmus-filters'];
  const bare = gwapi.results.bare;
  const lines = [];
  if (plain?.rps && bare?.rps) {
    const r = plain.rps / bare.rps;
    lines.push(`HTTPRoute without filters ≥ 0.75 × bare Node proxy: ${r.toFixed(2)} → ${verdict(r >= 0.75)}`);
  } else lines.push('HTTPRoute without filters ≥ 0.75 × bare Node proxy: not measured');
  if (plain?.cpuUsPerReq && filters?.cpuUsPerReq) {
    const c = filters.cpuUsPerReq / plain.cpuUsPerReq - 1;
    lines.push(`header modifiers + CORS cost ≤ 10 % more CPU per request: ${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)} % (median ${filters.cpuUsPerReq.toFixed(1)} vs ${plain.cpuUsPerReq.toFixed(1)} µs; rounds ${cpuRounds(filters)} vs ${cpuRounds(plain)} µs) → ${verdict(c <= 0.1)}`);
  } else lines.push('header modifiers + CORS cost ≤ 10 % more CPU per request: not measured');
  if (plain?.rps && filters?.rps) {
    const t = 1 - filters.rps / plain.rps;
    lines.push(`(the same at saturation, as throughput: ${(t * 100).toFixed(1)} % fewer req/s with the filters)`);
  }
  return lines;
}

const ISTIO_LABELS = {
  'isthmus-ingress': 'Isthmus, Ingress route',
  'isthmus-istio': 'Isthmus, VirtualService route to a subset, with retries',
  'isthmus-sidecar': 'isthmus sidecar, explicit mode (absolute-form requests), mesh VirtualService with retries',
  bare: 'bare node:http + undici Pool.dispatch',
};

/** The Istio one-route table: the VirtualService route against the Ingress route and the bare proxy. */
export function istioTable(istio) {
  const { results } = istio;
  const bare = results.bare?.rps;
  const ingress = results['isthmus-ingress'];
  const out = [
    '| proxy | req/s (median) | p50 | p99 | vs bare Node | vs Ingress route | CPU µs/req (user) | rounds (req/s) | RSS after load |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const name of istio.order) {
    const r = results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${ISTIO_LABELS[name] ?? name} | failed: ${r.error.split('\n')[0].replaceAll('|', '\\|')} | | | | | | | |`);
      continue;
    }
    const extra = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    out.push(`| ${ISTIO_LABELS[name] ?? name}${extra} | ${k(r.rps)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ratio(r.rps, bare)} | ${ratio(r.rps, ingress?.rps)} | ${cpu(r)} | ${r.rounds.map(k).join(', ')} | ${mib(r.rssMiB)} |`);
  }
  return out.join('\n');
}

export function istioVerdicts(istio) {
  const ingress = istio.results['isthmus-ingress'];
  const vs = istio.results['isthmus-istio'];
  if (!ingress?.rps || !vs?.rps) return ['VirtualService route (subset + retries) within 5 % of an Ingress route: not measured'];
  const r = vs.rps / ingress.rps;
  const lines = [`VirtualService route (subset + retries) within 5 % of an Ingress route: ${r.toFixed(3)} → ${verdict(r >= 0.95)}`];
  if (vs.cpuUsPerReq && ingress.cpuUsPerReq) lines.push(`(CPU per request: ${vs.cpuUsPerReq.toFixed(1)} vs ${ingress.cpuUsPerReq.toFixed(1)} µs, ${((vs.cpuUsPerReq / ingress.cpuUsPerReq - 1) * 100).toFixed(1)} %)`);
  const sidecar = istio.results['isthmus-sidecar'];
  const bare = istio.results.bare;
  if (sidecar?.rps && bare?.rps) lines.push(`sidecar (explicit mode) ≥ 0.75 × the bare Node proxy: ${(sidecar.rps / bare.rps).toFixed(2)} → ${verdict(sidecar.rps / bare.rps >= 0.75)}`);
  else lines.push('sidecar (explicit mode) ≥ 0.75 × the bare Node proxy: not measured');
  return lines;
}

/**
 * Where the filters' CPU goes: self µs per request by area and by function, `b` (with) minus `a`
 * (without). `labels` names both sides and the heading (the Gateway API filters by default).
 */
function profileDiffMarkdown(d, labels = { heading: 'Where the filters\' CPU goes', what: 'the filters', a: 'without filters', b: 'with filters', aShort: 'without', bShort: 'with' }) {
  if (d.error) return [`Profiles of ${labels.what}: ${d.error}`];
  const esc = (t) => String(t).replaceAll('|', '\\|');
  const out = [
    `### ${labels.heading}`,
    '',
    `\`node --cpu-prof\`, one warm-up and one round per route (${k(d.rps[0])} and ${k(d.rps[1])} req/s); busy CPU per request in the profiles: ${d.busyUsPerReq[0].toFixed(1)} µs ${labels.a}, ${d.busyUsPerReq[1].toFixed(1)} µs ${labels.b} (${d.busyUsPerReq[1] >= d.busyUsPerReq[0] ? '+' : ''}${((d.busyUsPerReq[1] / d.busyUsPerReq[0] - 1) * 100).toFixed(1)} %). Profiles in ${d.files.join(' and ')} (gitignored). Self time per request; the largest increases first.`,
    '',
    `| area | ${labels.a} µs/req | ${labels.b} µs/req | Δ µs/req |`,
    '|---|---:|---:|---:|',
  ];
  for (const r of d.areas) out.push(`| ${esc(r.name)} | ${r.aUs.toFixed(2)} | ${r.bUs.toFixed(2)} | ${r.deltaUs >= 0 ? '+' : ''}${r.deltaUs.toFixed(2)} |`);
  out.push('', `| function | location | ${labels.aShort} µs/req | ${labels.bShort} µs/req | Δ µs/req |`, '|---|---|---:|---:|---:|');
  for (const r of d.rows) out.push(`| \`${esc(r.name)}\` | ${esc(r.location || r.area)} | ${r.aUs.toFixed(2)} | ${r.bUs.toFixed(2)} | ${r.deltaUs >= 0 ? '+' : ''}${r.deltaUs.toFixed(2)} |`);
  return out;
}

const APIM_LABELS = {
  'isthmus-route': 'Isthmus, HTTPRoute without policies',
  'isthmus-key-redis': 'Isthmus, + AuthPolicy API key + RateLimitPolicy global limit (Redis)',
  'isthmus-jwt': 'Isthmus, + AuthPolicy JWT (RS256, inline JWKS)',
};

/** The API-management table: the route with each policy set against the route without. */
export function apimTable(apim) {
  const { results } = apim;
  const route = results['isthmus-route'];
  const out = [
    '| proxy | req/s (median) | p50 | p99 | vs route | CPU µs/req (user) | CPU/req vs route | rounds (req/s) | RSS after load |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const name of apim.order) {
    const r = results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${APIM_LABELS[name] ?? name} | failed: ${r.error.split('\n')[0].replaceAll('|', '\\|')} | | | | | | | |`);
      continue;
    }
    const extra = r.non2xx || r.socketErrors ? ` (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})` : '';
    const cpuRel = r.cpuUsPerReq && route?.cpuUsPerReq ? (r.cpuUsPerReq / route.cpuUsPerReq).toFixed(2) : '–';
    out.push(`| ${APIM_LABELS[name] ?? name}${extra} | ${k(r.rps)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ratio(r.rps, route?.rps)} | ${cpu(r)} | ${cpuRel} | ${r.rounds.map(k).join(', ')} | ${mib(r.rssMiB)} |`);
  }
  return out.join('\n');
}

/** Per-round ratios of req/s (rounds are interleaved, so round i of both ran side by side in time). */
const roundRatios = (a, b) => a.rounds.map((v, i) => (b.rounds[i] ? (v / b.rounds[i]).toFixed(2) : '–')).join(', ');

export function apimVerdicts(apim) {
  const route = apim.results['isthmus-route'];
  const lines = [];
  const invalid = apim.problems?.length ? ' (INVALID: see below)' : '';
  for (const [name, what, target, note] of [
    ['isthmus-key-redis', 'API key + global rate limit in Redis', 0.75, '; Kong 3.10 loses 24 % for the same pair, 0.76'],
    ['isthmus-jwt', 'JWT (RS256)', 0.85, ''],
  ]) {
    const r = apim.results[name];
    if (!route?.rps || !r?.rps) {
      lines.push(`${what} ≥ ${target.toFixed(2)} × the route's req/s: not measured`);
      continue;
    }
    const q = r.rps / route.rps;
    // With the gateway's core saturated, req/s would go as 1 / CPU per request: the same ratio without the load core's share.
    const c = r.cpuUsPerReq && route.cpuUsPerReq ? `; the gateway's CPU per request ${r.cpuUsPerReq.toFixed(1)} vs ${route.cpuUsPerReq.toFixed(1)} µs (+${(r.cpuUsPerReq - route.cpuUsPerReq).toFixed(1)} µs, ${((r.cpuUsPerReq / route.cpuUsPerReq - 1) * 100).toFixed(1)} %), i.e. ${(route.cpuUsPerReq / r.cpuUsPerReq).toFixed(2)} × the route's req/s where the gateway's core is the limit` : '';
    lines.push(`${what} ≥ ${target.toFixed(2)} × the route's req/s${note}: ${q.toFixed(2)} (per round ${roundRatios(r, route)}) → ${verdict(q >= target)}${invalid}${c}`);
  }
  const rs = apim.redis;
  if (rs?.requests) {
    lines.push(`(Redis, during the key + Redis rounds: ${rs.takesPerReq === undefined || rs.takesPerReq === null ? 'unmeasured' : rs.takesPerReq.toFixed(3)} requests counted in Redis per request, in ${rs.scriptCallsPerReq.toFixed(3)} rate-limit script calls (EVALSHA) per request (the requests of one event-loop turn share one call); redis-server CPU ${rs.cpuUsPerReq === undefined ? 'unmeasured' : `${rs.cpuUsPerReq.toFixed(1)} µs`} per request, on the load core and not in the gateway's figure; requests that fell back to a local count (Redis failed or answered after the 100 ms timeout; over 0.1 % invalidates the run): ${rs.storeFailures ?? 'unknown'})`);
  }
  return lines;
}

const REFERENCE = `| proxy | host 1 | host 2 |
|---|---|---|
| nginx-proxy | 1.00 (80.7k req/s) | 1.00 (53.5k req/s) |
| HAProxy | 0.89 | – |
| bare node:http + undici Pool.dispatch | 0.52 | 0.32 |
| node:http + http.Agent | 0.36 | 0.18 |
| fastify + @fastify/http-proxy | 0.33 | 0.15 |
| Caddy (GOMAXPROCS=1) | 0.30 | – |
| http-proxy | 0.30 | – |
| fast-gateway | 0.28 | – |`;

export function renderMarkdown({ machine, settings, main, scale, profile, gwapi, gwapiScale, istio, apim, h2, h2Error, workersScaling, workersScalingError }) {
  const out = [];
  out.push('# Benchmarks', '');
  out.push(`Generated by bench/run.mjs (\`npm run bench\`) on ${machine.date}; rerun it rather than editing this file.`, '');
  out.push('## Setup', '');
  out.push(`- Command: \`${settings.command}\``);
  out.push(`- Node ${machine.node}; nproc ${machine.nproc}; CPU ${machine.cpu}; kernel ${machine.kernel}; SRSO mitigation: ${machine.srso}`);
  out.push(`- nginx ${machine.nginx}; ${machine.wrk}; 1-minute load average at start ${machine.loadAtStart.toFixed(2)}`);
  out.push(`- Origin: ${settings.origin}, 12-byte body \`hello world\\n\`; every process binds 127.0.0.1.`);
  out.push(
    settings.pinned
      ? '- Each proxy under test pinned to core 1 (`taskset -c 1`), wrk and the origin to core 0.'
      : '- Not pinned (taskset missing or a single core): figures are less comparable.',
  );
  out.push(`- wrk \`-t${settings.threads} -c${settings.connections} --latency\`, ${settings.warmupS} s warm-up per proxy, then ${settings.rounds} interleaved rounds × ${settings.durationS} s; the table shows medians over the rounds.`);
  out.push('- CPU µs/req: CPU time (user + sys, user alone in brackets) of the proxy\'s processes during the rounds, per request served.');
  out.push('- Absolute req/s drift by 10 % or more between runs on these machines; the ratios within one run are what holds.', '');
  if (main) {
    out.push('## Proxy throughput', '', mainTable(main), '', `${mainVerdict(main)}`, '');
  }
  if (h2) out.push(...h2Markdown(h2, { main, settings }));
  else if (h2Error) out.push('## HTTPS with HTTP/2 downstream', '', `Failed: ${h2Error}`, '');
  if (scale) {
    out.push(`## ${scale.large.paths.toLocaleString('en')} Ingress paths over ${scale.large.hosts.toLocaleString('en')} hosts`, '');
    out.push(`The same request (\`Host: ${scale.target.host}\`, \`GET ${scale.target.path}\`, the last host's last path) against a config with ${scale.small.paths} paths and one with ${scale.large.paths.toLocaleString('en')} (${scale.shape}); rounds interleaved as above.`, '');
    out.push(scaleTable(scale), '');
    for (const line of scaleVerdicts(scale)) out.push(`- ${line}`);
    if (scale.applyLog) out.push(`- The gateway's own apply log line: \`${scale.applyLog.replaceAll('`', "'")}\``);
    out.push('');
  }
  if (profile) {
    out.push('## Where the time goes (CPU profile of Isthmus)', '');
    if (profile.error) out.push(`Profile not taken: ${profile.error}`, '');
    else out.push(`\`node --cpu-prof\`, one ${settings.warmupS} s warm-up and one ${settings.durationS} s round at ${k(profile.rps)} req/s; the profile stays in ${profile.file} (gitignored). \`(native)\` is C++ and system calls (\`writev\` is the socket write).`, '', summaryMarkdown(profile.summary), '');
  }
  if (gwapi) {
    out.push('## Gateway API: one HTTPRoute', '');
    out.push(`Gateway \`bench/edge\` (one HTTP listener), HTTPRoute \`bench/bench\` (\`${gwapi.request.host}\`, one PathPrefix \`/\` rule to the origin Service). Two Isthmus processes, one without filters and one whose rule has RequestHeaderModifier (set, add, remove) + ResponseHeaderModifier (set, remove) + CORS (the request's Origin is allowed, so the allow headers are added to every response), measured interleaved with the bare proxy as above. Every request sends \`${gwapi.request.headers.join(', ')}\` to all three.`, '');
    out.push(gwapiTable(gwapi), '');
    for (const line of gwapiVerdicts(gwapi)) out.push(`- ${line}`);
    out.push('');
    if (gwapi.profileDiff) out.push(...profileDiffMarkdown(gwapi.profileDiff), '');
  }
  if (gwapiScale) {
    out.push(`## ${gwapiScale.large.paths.toLocaleString('en')} HTTPRoute rules over ${gwapiScale.large.hosts.toLocaleString('en')} hostnames`, '');
    out.push(`The same request (\`Host: ${gwapiScale.target.host}\`, \`GET ${gwapiScale.target.path}\`, the last hostname's last rule) against one HTTPRoute with ${gwapiScale.small.paths} rules and ${gwapiScale.shape}; Gateway \`bench/edge\` with one HTTP listener; rounds interleaved as above.`, '');
    out.push(scaleTable(gwapiScale), '');
    for (const line of scaleVerdicts(gwapiScale)) out.push(`- ${line}`);
    if (gwapiScale.large.rssAtReadyMiB) out.push(`- RSS right after /ready: ${mib(gwapiScale.small.rssAtReadyMiB)} (${gwapiScale.small.paths} rules), ${mib(gwapiScale.large.rssAtReadyMiB)} (${gwapiScale.large.paths.toLocaleString('en')} rules)`);
    if (gwapiScale.applyLog) out.push(`- The gateway's own apply log line: \`${gwapiScale.applyLog.replaceAll('`', "'")}\``);
    out.push('');
  }
  if (istio) {
    out.push('## Istio: one VirtualService route', '');
    out.push(`An Istio Gateway (\`bench/edge\`, one HTTP server for \`${istio.request.host}\`), a VirtualService whose one route sends everything to subset \`v1\` of \`bench/origin\` with \`retries: {attempts: 2, perTryTimeout: 2s, retryOn: 5xx,connect-failure,reset}\`, and the DestinationRule defining \`v1\` by Pod label; against an Ingress route to the same origin (the main benchmark's config) and the bare proxy, interleaved as above. \`isthmus sidecar\` runs in explicit mode on a VirtualService bound to \`mesh\` for \`origin.bench.svc.cluster.local\` (one route to the origin Service, the same retry policy); wrk sends it absolute-form requests (\`GET http://origin.bench/\`), as a workload with \`HTTP_PROXY\` does.`, '');
    out.push(istioTable(istio), '');
    for (const line of istioVerdicts(istio)) out.push(`- ${line}`);
    out.push('');
  }
  if (apim) {
    out.push('## API management: API key + global rate limit (Redis), JWT', '');
    out.push(`The Gateway API part's HTTPRoute (\`${apim.request.host}\`, one PathPrefix \`/\` rule to the origin Service, no filters) in three Isthmus processes: without policies; with an AuthPolicy (API key in header \`x-api-key\`, a Consumer holding the key's SHA-256) and a RateLimitPolicy of one \`scope: global\` limit (${'100,000,000 a minute'}, never reached; \`by: route\`, so one Redis key) counted in a redis-server the benchmark starts (no persistence, \`--redis-url\`, on the load core with wrk and the origin); with an AuthPolicy JWT method (issuer and audience checked, an inline JWKS of one RSA-${apim.jwt.modulusLength} key, an ${apim.jwt.alg} token of ${apim.jwt.tokenBytes} bytes signed with jose, valid for a day, the same token on every request). Every request sends both the key and the \`Authorization: Bearer\` token to all three, so only the policies differ. Before the rounds, each policy is seen refusing a request without credentials and one with wrong ones (401), every warm-up must be all 2xx, and Redis must be seen counting; after them, every request of the key + Redis route must have been counted in Redis (the gateway's \`isthmus_shared_store_takes_total\` per request served; the requests of one event-loop turn on one counter share one script call, and Redis's own count of calls is reported), with at most 0.1 % of the requests falling back to a local count (a Redis answer later than \`--redis-timeout\`, 100 ms). Redis's own CPU (on the load core) and the round trip it adds to every request are not in the gateway's CPU figure, so req/s can fall by more than the gateway's CPU per request rises; the verdicts give both. Rounds interleaved as above.`, '');
    out.push(apimTable(apim), '');
    for (const line of apimVerdicts(apim)) out.push(`- ${line}`);
    for (const p of apim.problems ?? []) out.push(`- INVALID: ${p}`);
    out.push('');
    if (apim.outage || apim.outageError) {
      out.push('### Redis failing under load', '');
      out.push(`The API key + global limit route under the same wrk load for ${apim.outage?.runS ?? '?'} s; ${apim.outage?.outageAtS ?? '?'} s in, Redis fails for ${apim.outage?.outageS ?? '?'} s: hung (SIGSTOP, then SIGCONT: the connection stays open and nothing answers, so each command waits for \`--redis-timeout\`, ${apim.outage?.timeoutMs ?? '?'} ms here) or killed (SIGKILL, then started again on the same port). One fresh gateway per row; "longest, healthy" is the longest request of a ${apim.outage?.baselineS ?? '?'} s run of the same gateway just before, with Redis answering. The bound is the timeout plus that. Recovery: after the run, requests are sent until Redis counts one again.`, '');
      if (apim.outage) {
        out.push(outageTable(apim.outage), '');
        for (const line of outageVerdicts(apim.outage)) out.push(`- ${line}`);
      } else out.push(`- failed: ${apim.outageError}`);
      out.push('');
    }
    for (const [name, d] of Object.entries(apim.profileDiffs ?? {})) {
      const what = name === 'isthmus-jwt' ? 'JWT' : 'API key + Redis';
      out.push(...profileDiffMarkdown(d, { heading: `Where the ${what} CPU goes`, what: `the ${what} route`, a: 'route', b: `with ${what}`, aShort: 'route', bShort: what }), '');
    }
  }
  if (workersScaling) out.push(...workersMarkdown(workersScaling));
  else if (workersScalingError) out.push('## Workers: --workers N against --workers 1', '', `Failed: ${workersScalingError}`, '');
  out.push('## Reference figures', '');
  out.push('From shared/bench/README.md (same setup: one core each, wrk -t1 -c50, 12-byte body, interleaved rounds), req/s relative to nginx on two other hosts. Host 2 is an AMD Zen 3 guest whose kernel mitigates SRSO with "Safe RET", which costs JIT-compiled code far more than nginx; compare Isthmus with the bare Node proxy of the same run as well as with nginx.', '');
  out.push(REFERENCE, '');
  out.push('Targets (issue 3): Isthmus ≥ 0.75 × the bare Node proxy of the same run; 10,000 paths: apply < 1 s, req/s within 10 % of 10 paths, RSS < 150 MB.', '');
  out.push('Targets (Gateway API): an HTTPRoute without filters ≥ 0.75 × the bare Node proxy; header modifiers + CORS ≤ 10 % more CPU per request than the same route without filters; 10,000 HTTPRoute rules (1,000 HTTPRoutes × 10 rules): apply < 1 s, req/s within 10 % of 10 rules, RSS < 150 MB.', '');
  out.push('Targets (Istio): a VirtualService route with a subset and a retry policy within 5 % of an Ingress route; the sidecar (explicit mode) ≥ 0.75 × the bare Node proxy.', '');
  out.push('Targets (API management, issue 9): an API key + a global rate limit in Redis cost at most 25 % of the req/s of the same route without policies (≥ 0.75; Kong 3.10 loses 24 % for the same pair); a JWT ≥ 0.85 × the route.', '');
  return out.join('\n');
}

/** Each part's section of BENCHMARKS.md, by its heading (`## ...`). */
const PART_SECTIONS = [
  ['main', /^## Proxy throughput$/],
  ['h2', /^## HTTPS with HTTP\/2 downstream$/],
  ['scale', /^## [\d,]+ Ingress paths over /],
  ['profile', /^## Where the time goes \(CPU profile of Isthmus\)$/],
  ['gwapi', /^## Gateway API: one HTTPRoute$/],
  ['gwapiScale', /^## [\d,]+ HTTPRoute rules over /],
  ['istio', /^## Istio: /],
  ['apim', /^## API management: /],
  ['workersScaling', /^## Workers: --workers /],
  // Written by bench/l4.mjs and bench/kube-proxy-scale.mjs, not run.mjs: spliced in by those.
  ['l4', /^## L4 TCP proxying: /],
  ['kubeProxyScale', /^## kube-proxy at /],
  ['reference', /^## Reference figures$/],
];

/** The document cut at its `## ` headings: [{ heading, part, lines }], the head (title, Setup) first with heading null. */
function sections(text) {
  const out = [{ heading: null, part: null, lines: [] }];
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) out.push({ heading: line, part: PART_SECTIONS.find(([, re]) => re.test(line))?.[0] ?? null, lines: [line] });
    else out.at(-1).lines.push(line);
  }
  return out;
}

/**
 * A run of some parts only: `existing` (the report file as it is) with the sections of the parts
 * this run measured replaced by `rendered`'s (or inserted in part order), each headed by a line
 * naming this run, and the reference figures (fixed text, the targets) refreshed. The title and
 * Setup stay those of the run that wrote the rest. Null when `existing` is no report of ours.
 */
export function spliceMarkdown(existing, rendered, { machine, settings }, { ownSetup = false } = {}) {
  if (!existing.startsWith('# Benchmarks')) return null;
  const have = sections(existing);
  const order = PART_SECTIONS.map(([part]) => part);
  // bench/l4.mjs and bench/kube-proxy-scale.mjs describe their own setup in their section.
  const setup = ownSetup ? 'its setup is described below, not by the Setup above' : 'the setup above otherwise applies';
  const note = `_This section is from a separate run, spliced in: \`${settings.command}\` on ${machine.date}, Node ${machine.node}, ${machine.nproc} cores (${machine.cpu}), 1-minute load average at start ${machine.loadAtStart.toFixed(2)}; ${setup}._`;
  for (const fresh of sections(rendered)) {
    if (!fresh.part) continue;
    const lines = fresh.part === 'reference' ? fresh.lines : [fresh.lines[0], '', note, ...fresh.lines.slice(1)];
    const section = { ...fresh, lines };
    const at = have.findIndex((s) => s.part === fresh.part);
    if (at >= 0) {
      have[at] = section;
      continue;
    }
    // Before the first section of a later part (the reference figures at the latest), else at the end.
    const later = have.findIndex((s) => s.part && order.indexOf(s.part) > order.indexOf(fresh.part));
    if (later >= 0) have.splice(later, 0, section);
    else have.push(section);
  }
  return have.map((s) => s.lines.join('\n')).join('\n');
}

/** Parts other harnesses write (bench/l4.mjs, bench/kube-proxy-scale.mjs), not run.mjs. */
const OTHER_HARNESS_PARTS = ['l4', 'kubeProxyScale'];

/**
 * A run of all of run.mjs's parts rewrites the report: the sections the other harnesses spliced
 * in stay (with the line naming their own run), before the reference figures.
 */
export function keepOtherHarnessSections(existing, rendered) {
  if (!existing.startsWith('# Benchmarks')) return rendered;
  const kept = sections(existing).filter((s) => OTHER_HARNESS_PARTS.includes(s.part));
  if (kept.length === 0) return rendered;
  const out = sections(rendered);
  const reference = out.findIndex((s) => s.part === 'reference');
  out.splice(reference >= 0 ? reference : out.length, 0, ...kept);
  return out.map((s) => s.lines.join('\n')).join('\n');
}
