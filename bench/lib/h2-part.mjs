// bench/run.mjs --h2: HTTPS with HTTP/2 downstream. nginx (`listen ... ssl http2`) and Isthmus
// (an HTTPS listener, ALPN h2) on the same certificate, proxying HTTP/1.1 to the main part's
// origin, each pinned to the proxy core; h2load with a fixed number of clients and streams on the
// load core; rounds interleaved. Every round must have been HTTP/2 and all 2xx.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProxiedH2, H2_HOST, makeCertificate, startIsthmusH2, startNginxH2Proxy, writeH2Config } from './h2-targets.mjs';
import { H2LOAD, requireH2load, runH2load } from './h2load.mjs';
import { measureInterleaved } from './measure.mjs';
import { freePorts, stopProcess } from './processes.mjs';
import { LOAD_CPU } from './targets.mjs';
import { median } from './wrk.mjs';

/**
 * `settings`: run.mjs's (rounds, durationS, warmupS, useNginx, workers, gatewayCmd,
 * endpointsKind) plus `h2Clients` and `h2Streams`. `stopGateway(target)` stops an Isthmus.
 * Resolves `{ order, results, request, load, tls, problems }`; `problems` non-empty means the
 * figures are invalid and the part failed.
 */
export async function runH2Part({ origin, workDir, settings, log, stopGateway }) {
  requireH2load();
  const load = { clients: settings.h2Clients, streams: settings.h2Streams, version: execFileSync(H2LOAD, ['--version'], { encoding: 'utf8' }).trim() };
  log(`\n== HTTPS + HTTP/2 downstream: nginx vs Isthmus (h2load -c${load.clients} -m${load.streams})`);
  const tlsDir = mkdtempSync(join(tmpdir(), 'isthmus-bench-h2-'));
  const order = [...(settings.useNginx ? ['nginx-h2'] : []), 'isthmus-h2'];
  const results = {};
  const started = [];
  const problems = [];
  const tls = {};
  try {
    const cert = makeCertificate(tlsDir, H2_HOST);
    const request = writeH2Config(join(workDir, 'config-h2'), { upstreamPort: origin.port, endpointsKind: settings.endpointsKind, cert });
    const starters = {
      'nginx-h2': async () => startNginxH2Proxy({ workDir, port: (await freePorts(1))[0], originPort: origin.port, cert, request }),
      'isthmus-h2': async () => {
        const [http, https, admin] = await freePorts(3);
        return startIsthmusH2({ configDir: join(workDir, 'config-h2'), originPort: origin.port, workDir, ports: { http, https, admin }, workers: settings.workers, gatewayCmd: settings.gatewayCmd, cert, request });
      },
    };
    for (const name of order) {
      try {
        const target = await starters[name]();
        started.push(target);
        log(`  ${name}: up on https://127.0.0.1:${target.port} (HTTP/2 checked)`);
      } catch (err) {
        results[name] = { error: err.message };
        log(`  ${name}: FAILED: ${err.message}`);
      }
    }
    let logSeq = 0;
    const runOnce = async (t, durationS) => {
      const r = await runH2load({ port: t.port, authority: request.host, path: request.path, clients: load.clients, streams: load.streams, durationS, cpu: LOAD_CPU, logFile: join(workDir, `h2load-${t.name}-${++logSeq}.tsv`) });
      // The point of the part: a run that was not HTTP/2 measured something else.
      if (r.protocol !== 'h2') throw new Error(`${t.name}: h2load negotiated ${r.protocol ?? 'no protocol'}, not h2\n${r.raw}`);
      tls[t.name] ??= r.tls;
      return r;
    };
    const measured = await measureInterleaved({ targets: started, runOnce, rounds: settings.rounds, warmupS: settings.warmupS, durationS: settings.durationS, log, requireOk: true });
    Object.assign(results, measured.results);
    for (const [name, runs] of Object.entries(measured.runs)) {
      const c = runs.reduce((a, r) => ({ failed: a.failed + r.counts.failed, errored: a.errored + r.counts.errored, timeout: a.timeout + r.counts.timeout }), { failed: 0, errored: 0, timeout: 0 });
      Object.assign(results[name], { counts: c, meanUs: median(runs.map((r) => r.meanUs)), maxUs: Math.max(...runs.map((r) => r.maxUs ?? 0)) });
      const r = results[name];
      if (r.non2xx || c.failed || c.errored || c.timeout) problems.push(`${name}: ${r.non2xx} non-2xx answers, ${c.failed} failed, ${c.errored} errored and ${c.timeout} timed-out requests during the rounds`);
    }
    const names = Object.keys(tls);
    if (names.length === 2 && JSON.stringify(tls[names[0]]) !== JSON.stringify(tls[names[1]])) {
      problems.push(`the proxies negotiated different TLS: ${names.map((n) => `${n} ${tls[n].protocol} ${tls[n].cipher}`).join(', ')}`);
    }
    // Both still answer over h2 after the load (nothing degraded to HTTP/1.1 or broke).
    for (const t of started) await checkProxiedH2(t, request, cert.certPem).catch((err) => problems.push(`after the rounds: ${err.message.split('\n')[0]}`));
    return { order, results, request, load, tls, problems };
  } finally {
    for (const t of started) {
      if (t.name === 'isthmus-h2') await stopGateway(t);
      else await stopProcess(t.handle);
    }
    rmSync(tlsDir, { recursive: true, force: true });
  }
}
