// The HTTP/2 part's table, verdict lines and BENCHMARKS.md section (bench/run.mjs --h2).

const k = (rps) => (rps === null || rps === undefined ? '–' : `${(rps / 1000).toFixed(1)}k`);
const ms = (us) => (us === null || us === undefined ? '–' : us < 1000 ? `${us.toFixed(0)} µs` : `${(us / 1000).toFixed(2)} ms`);
const cpu = (r) => (r.cpuUsPerReq ? `${r.cpuUsPerReq.toFixed(1)} (${r.userUsPerReq.toFixed(1)})` : '–');
const esc = (t) => String(t).replaceAll('|', '\\|');

export const H2_LABELS = {
  'nginx-h2': 'nginx (1 worker, `listen ssl http2`, upstream keepalive 64)',
  'isthmus-h2': 'Isthmus (HTTPS listener, ALPN h2; routing + metrics, access log off)',
};

export function h2Table(h2) {
  const nginx = h2.results['nginx-h2']?.rps;
  const out = [
    '| proxy | req/s (median) | p50 | p99 | mean / max | vs nginx | CPU µs/req (user) | rounds (req/s) | TLS |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const name of h2.order) {
    const r = h2.results[name];
    if (!r) continue;
    if (r.error) {
      out.push(`| ${H2_LABELS[name] ?? name} | failed: ${esc(r.error.split('\n')[0])} | | | | | | | |`);
      continue;
    }
    const bad = r.non2xx || r.counts?.failed ? ` (non-2xx ${r.non2xx}, failed ${r.counts.failed})` : '';
    const t = h2.tls[name];
    out.push(`| ${H2_LABELS[name] ?? name}${bad} | ${k(r.rps)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ms(r.meanUs)} / ${ms(r.maxUs)} | ${r.rps && nginx ? (r.rps / nginx).toFixed(2) : '–'} | ${cpu(r)} | ${r.rounds.map(k).join(', ')} | ${t ? `${t.protocol} ${t.cipher}` : '–'} |`);
  }
  return out.join('\n');
}

/** Isthmus / nginx over h2, and beside it the HTTP/1.1 ratio of the main part when this run has it. */
export function h2Verdicts(h2, main) {
  const isthmus = h2.results['isthmus-h2'];
  const nginx = h2.results['nginx-h2'];
  const lines = [];
  if (isthmus?.rps && nginx?.rps) {
    const perRound = isthmus.rounds.map((v, i) => (nginx.rounds[i] ? (v / nginx.rounds[i]).toFixed(2) : '–')).join(', ');
    lines.push(`Isthmus / nginx over HTTPS + HTTP/2: ${(isthmus.rps / nginx.rps).toFixed(2)} of nginx's req/s (per round: ${perRound})`);
    if (isthmus.cpuUsPerReq && nginx.cpuUsPerReq) {
      lines.push(`CPU per request: Isthmus ${isthmus.cpuUsPerReq.toFixed(1)} µs, nginx ${nginx.cpuUsPerReq.toFixed(1)} µs (${(isthmus.cpuUsPerReq / nginx.cpuUsPerReq).toFixed(2)} ×); where the proxy's core is the limit, req/s goes as 1 / CPU per request`);
    }
  } else lines.push('Isthmus / nginx over HTTPS + HTTP/2: not measured (both must run; nginx needs `nginx-light`)');
  const m1 = main?.results?.isthmus?.rps;
  const n1 = main?.results?.nginx?.rps;
  if (m1 && n1) lines.push(`(the same ratio over cleartext HTTP/1.1 in this run's main part: ${(m1 / n1).toFixed(2)})`);
  for (const p of h2.problems ?? []) lines.push(`INVALID: ${p}`);
  return lines;
}

export function h2Markdown(h2, { main, settings }) {
  const load = h2.load;
  return [
    '## HTTPS with HTTP/2 downstream',
    '',
    `nginx (\`bench/nginx-proxy.conf\` with its listener made \`listen ... ssl http2\`) and Isthmus (the main part's Ingress \`bench/bench\` with a \`spec.tls\` entry, so an HTTPS listener offering ALPN h2 and http/1.1), both on one self-signed ECDSA P-256 certificate made with openssl for the run, both proxying HTTP/1.1 to the main part's origin; each pinned to the proxy core as in the main part${settings.workers > 1 ? ` (Isthmus with \`--workers ${settings.workers}\`, unpinned)` : ''}. Load: ${load.version}, \`h2load -t1 -c${load.clients} -m${load.streams}\` (${load.clients} TLS connections, each with up to ${load.streams} concurrent streams: ${load.clients * load.streams} requests in flight) on the load core with the origin, \`:authority: ${h2.request.host}\`, to \`https://127.0.0.1:PORT${h2.request.path}\` (no SNI, so each proxy serves its one certificate), offering one cipher (\`TLS_AES_128_GCM_SHA256\`; \`ECDHE-ECDSA-AES128-GCM-SHA256\` for TLS 1.2) so both proxies negotiate the same; nginx gets \`ssl_protocols TLSv1.2 TLSv1.3\` (1.22 leaves 1.3 out by default), and different TLS between the two fails the part; ${settings.warmupS} s warm-up per proxy, then ${settings.rounds} interleaved rounds × ${settings.durationS} s, medians. p50/p99 come from h2load's per-request log, mean/max from its summary. Every run must negotiate h2 (h2load's "Application protocol"), every warm-up and round must be all 2xx with no failed, errored or timed-out request, else the part fails; h2load's req/s counts completed requests only, and each h2load run opens its ${load.clients} connections anew, so their TLS handshakes fall inside it.`,
    '',
    h2Table(h2),
    '',
    ...h2Verdicts(h2, main).map((l) => `- ${l}`),
    '',
  ];
}
