// The L4 benchmark's section of BENCHMARKS.md (and its terminal table): MiB/s of one 1 GiB
// stream and connections/s of short connections, per path, with Isthmus/HAProxy ratios.
import { median } from './wrk.mjs';

export const L4_HEADING = '## L4 TCP proxying: Isthmus vs HAProxy';
/** Issue 11: Isthmus at least half of HAProxy's figure, on both. */
export const L4_TARGET_RATIO = 0.5;

const LABELS = {
  direct: 'direct (no proxy)',
  haproxy: 'HAProxy `mode tcp`, `nbthread 1`',
  isthmus: 'Isthmus L4 (`run --serve-services`, NodePort)',
};

const fmt = (v, digits = 0) => (v === null || v === undefined ? '–' : v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a, b) => (a && b ? a / b : null);

/** Medians over the rounds of one path. */
export function summariseL4(runs) {
  return {
    mibPerS: median(runs.stream.map((r) => r.mibPerS)),
    streamRounds: runs.stream.map((r) => r.mibPerS),
    cpuMsPerGiB: median(runs.stream.map((r) => r.cpuMsPerGiB ?? null)),
    connPerS: median(runs.conn.map((r) => r.rps)),
    connRounds: runs.conn.map((r) => r.rps),
    p50Us: median(runs.conn.map((r) => r.p50Us)),
    p99Us: median(runs.conn.map((r) => r.p99Us)),
    cpuUsPerConn: median(runs.conn.map((r) => r.cpuUsPerConn ?? null)),
    errors: runs.conn.reduce((a, r) => a + r.non2xx + r.socketErrors, 0),
  };
}

export function l4Table(l4) {
  const out = [
    '| path | 1 GiB stream, MiB/s (median) | rounds | proxy CPU ms per GiB | short connections/s (median) | rounds | p50 / p99 | proxy CPU µs per connection | errors |',
    '|---|---:|---|---:|---:|---|---:|---:|---:|',
  ];
  for (const name of l4.order) {
    const r = l4.results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${LABELS[name] ?? name} | failed: ${r.error.split('\n')[0]} | | | | | | | |`);
      continue;
    }
    out.push(`| ${LABELS[name] ?? name} | ${fmt(r.mibPerS)} | ${r.streamRounds.map((v) => fmt(v)).join(', ')} | ${fmt(r.cpuMsPerGiB)} | ${fmt(r.connPerS)} | ${r.connRounds.map((v) => fmt(v)).join(', ')} | ${fmt(r.p50Us / 1000, 2)} / ${fmt(r.p99Us / 1000, 2)} ms | ${fmt(r.cpuUsPerConn, 1)} | ${r.errors} |`);
  }
  return out.join('\n');
}

export function l4Verdicts(l4) {
  const i = l4.results.isthmus;
  const h = l4.results.haproxy;
  if (!i || !h || i.error || h.error) return ['No verdict: Isthmus or HAProxy did not run.'];
  const lines = [];
  for (const [what, key, unit] of [['1 GiB stream', 'mibPerS', 'MiB/s'], ['short connections', 'connPerS', 'connections/s']]) {
    const r = ratio(i[key], h[key]);
    const perRound = i[`${key === 'mibPerS' ? 'stream' : 'conn'}Rounds`].map((v, n) => ratio(v, h[`${key === 'mibPerS' ? 'stream' : 'conn'}Rounds`][n]));
    lines.push(`${what}: Isthmus/HAProxy ${fmt(r, 2)} (${fmt(i[key])} vs ${fmt(h[key])} ${unit}; per round ${perRound.map((v) => fmt(v, 2)).join(', ')}); target ≥ ${L4_TARGET_RATIO}: ${r !== null && r >= L4_TARGET_RATIO ? 'PASS' : 'MISS'}`);
  }
  const d = l4.results.direct;
  if (d && !d.error) lines.push(`Ceiling (direct, no proxy, the load core alone): ${fmt(d.mibPerS)} MiB/s, ${fmt(d.connPerS)} connections/s. A proxy near it is limited by the client and origin on core ${l4.loadCpu}, not by itself.`);
  return lines;
}

export function l4Markdown(l4) {
  const s = l4.settings;
  const out = [L4_HEADING, ''];
  out.push(`Issue 11's L4 numbers, by \`bench/l4.mjs\`. Each proxy pinned to core ${l4.proxyCpu} (\`taskset -c ${l4.proxyCpu}\`; Isthmus is one Node process, HAProxy ${l4.haproxyVersion} runs \`nbthread 1\` in the foreground, TCP mode, no splicing, its defaults otherwise); the origins and the clients pinned to core ${l4.loadCpu}. Every process binds 127.0.0.1.`, '');
  out.push(`- **Stream**: one connection; the origin (\`bench/lib/l4-stream-origin.mjs\`, Node) writes ${fmt(s.streamBytes / (1 << 20))} MiB from one reused buffer and closes; the client (\`bench/lib/l4-stream-client.mjs\`, Node, one reused read buffer) reads to the FIN and checks the byte count. MiB/s from the connect call to the FIN.`);
  out.push(`- **Short connections**: \`wrk -t1 -c${s.connections} -d${s.connDurationS}s\` with \`Connection: close\`: each connection carries one \`GET /\` (~60 bytes) and nginx's 12-byte answer (~170 bytes with headers), then nginx closes it and wrk opens the next. Every answer must be a 200. The origin is nginx (one worker) so that the load core's own cost per connection stays small.`);
  out.push(`- A warm-up per path (one stream, ${s.warmupS} s of wrk), then ${s.rounds} rounds interleaved (direct, HAProxy, Isthmus, direct, ...); medians. Proxy CPU: user + sys time of the proxy's process during the round, per GiB or per connection.`, '');
  out.push(l4Table(l4), '');
  for (const line of l4Verdicts(l4)) out.push(`- ${line}`);
  if (l4.isthmusCommand) out.push(`- Isthmus: \`${l4.isthmusCommand}\``);
  out.push('');
  return out;
}
