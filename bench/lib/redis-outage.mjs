// Redis failing under load (issue 9's third number): while wrk drives the API key + global rate
// limit route, Redis is made to fail for a few seconds and then recovers. Two ways of failing: hung
// (SIGSTOP: the connection stays up and nothing answers, so every command waits for
// `--redis-timeout`) and killed (SIGKILL: connections refused until it is started again on the same
// port). Fail-open must answer every request (0 non-2xx, 0 socket errors); fail-closed answers 503
// during the outage. In both, no request may wait much longer than the Redis timeout: the longest
// request of the outage run is compared with the timeout plus the longest request of a healthy run
// of the same gateway (queueing under load that has nothing to do with Redis). Recovery must be
// automatic: after the run, a request must be counted in Redis again within 5 s.
import { freePorts, httpGet, stopProcess } from './processes.mjs';
import { headerObject, metricValue, redisCommandCalls, startGateway, startRedis } from './targets.mjs';
import { runWrk } from './wrk.mjs';

export const OUTAGE = { timeoutMs: 100, runS: 9, outageAtS: 3, outageS: 3, baselineS: 3 };

function signal(handle, sig) {
  process.kill(handle.group === false ? handle.pid : -handle.pid, sig);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function scriptCalls(port) {
  try {
    const calls = await redisCommandCalls(port);
    return (calls.evalsha ?? 0) + (calls.eval ?? 0);
  } catch {
    return null;
  }
}

/** Sends requests until Redis counts one (recovery), up to `timeoutMs`; the time it took, or null. */
async function recoveryMs(gw, request, redisPort, timeoutMs = 5000) {
  const t0 = performance.now();
  const before = await scriptCalls(redisPort);
  while (performance.now() - t0 < timeoutMs) {
    await httpGet({ port: gw.port, path: request.path, host: request.host, headers: headerObject(request.headers), timeoutMs: 2000 }).catch(() => null);
    const now = await scriptCalls(redisPort);
    if (before !== null && now !== null && now > before) return performance.now() - t0;
    await sleep(50);
  }
  return null;
}

/**
 * `configDirs`: { open, closed } folders of the key + Redis route (writeApimConfig variant
 * key-redis) with onStoreFailure open and closed. Returns one row per scenario.
 */
export async function runRedisOutage({ origin, workDir, configDirs, request, gatewayCmd, log }) {
  const rows = [];
  const [redisPort] = await freePorts(1);
  let redis = await startRedis({ workDir, port: redisPort });
  const wrkOf = (gw, durationS) => runWrk({ port: gw.port, path: request.path, host: request.host, headers: request.headers, durationS });
  try {
    for (const [mode, how] of [['open', 'hung'], ['open', 'killed'], ['closed', 'hung']]) {
      const [http, https, admin] = await freePorts(3);
      const gw = await startGateway({
        name: `isthmus-outage-${mode}-${how}`, gatewayCmd, configDir: configDirs[mode], ports: { http, https, admin }, originPort: origin.port, workDir,
        extraArgs: ['--redis-url', redis.url, '--redis-timeout', String(OUTAGE.timeoutMs)],
      });
      try {
        if ((await recoveryMs(gw, request, redisPort, 10_000)) === null) throw new Error(`${gw.name}: no request was counted in Redis within 10 s`);
        const baseline = await wrkOf(gw, OUTAGE.baselineS);
        const failuresBefore = await metricValue(admin, 'isthmus_shared_store_failures_total');
        const run = wrkOf(gw, OUTAGE.runS);
        await sleep(OUTAGE.outageAtS * 1000);
        if (how === 'hung') {
          signal(redis.handle, 'SIGSTOP');
          await sleep(OUTAGE.outageS * 1000);
          signal(redis.handle, 'SIGCONT');
        } else {
          signal(redis.handle, 'SIGKILL');
          await redis.handle.exited;
          await sleep(OUTAGE.outageS * 1000);
          redis = await startRedis({ workDir, port: redisPort });
        }
        const during = await run;
        const failures = await metricValue(admin, 'isthmus_shared_store_failures_total');
        const recovered = await recoveryMs(gw, request, redisPort);
        const row = {
          mode, how,
          baseline: { requests: baseline.requests, maxUs: baseline.maxUs, p99Us: baseline.p99Us },
          run: { requests: during.requests, rps: during.rps, p99Us: during.p99Us, maxUs: during.maxUs, non2xx: during.non2xx, socketErrors: during.socketErrors },
          storeFailures: failures === null || failuresBefore === null ? null : failures - failuresBefore,
          recoveryMs: recovered,
        };
        rows.push(row);
        log(`  ${mode}/${how}: ${during.requests} requests, non-2xx ${during.non2xx}, socket errors ${during.socketErrors}, max ${(during.maxUs / 1000).toFixed(1)} ms (healthy max ${(baseline.maxUs / 1000).toFixed(1)} ms), store failures ${row.storeFailures}, counted in Redis again ${recovered === null ? 'NOT within 5 s' : `after ${recovered.toFixed(0)} ms`}`);
      } finally {
        await stopProcess(gw.handle);
      }
    }
  } finally {
    try {
      signal(redis.handle, 'SIGCONT');
    } catch {
      // already gone
    }
    await stopProcess(redis.handle);
  }
  return { ...OUTAGE, rows };
}

/** Verdict per scenario: bounded waits always; no error for fail-open; recovery without a restart. */
export function outageVerdicts(outage) {
  return outage.rows.map((r) => {
    const bound = outage.timeoutMs * 1000 + r.baseline.maxUs;
    const bounded = r.run.maxUs !== null && r.run.maxUs <= bound;
    const clean = r.run.non2xx === 0 && r.run.socketErrors === 0;
    const ok = bounded && r.recoveryMs !== null && (r.mode === 'closed' || clean) && r.storeFailures > 0;
    const errors = r.mode === 'open' ? `errors ${r.run.non2xx + r.run.socketErrors} (must be 0)` : `503s ${r.run.non2xx} (expected during the outage), socket errors ${r.run.socketErrors}`;
    return `Redis ${r.how} for ${outage.outageS} s under load, fail-${r.mode}: longest request ${(r.run.maxUs / 1000).toFixed(1)} ms ≤ timeout ${outage.timeoutMs} ms + healthy longest ${(r.baseline.maxUs / 1000).toFixed(1)} ms; ${errors}; ${r.storeFailures} requests met the outage; counted in Redis again ${r.recoveryMs === null ? 'not within 5 s' : `${r.recoveryMs.toFixed(0)} ms after the run`} → ${ok ? 'PASS' : 'MISS'}`;
  });
}

export function outageTable(outage) {
  const out = [
    '| Redis | policy | requests | req/s | p99 | longest | longest, healthy | non-2xx | socket errors | requests that met the outage |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of outage.rows) {
    out.push(`| ${r.how} ${outage.outageS} s | fail-${r.mode} | ${r.run.requests} | ${Math.round(r.run.rps)} | ${(r.run.p99Us / 1000).toFixed(1)} ms | ${(r.run.maxUs / 1000).toFixed(1)} ms | ${(r.baseline.maxUs / 1000).toFixed(1)} ms | ${r.run.non2xx} | ${r.run.socketErrors} | ${r.storeFailures ?? '?'} |`);
  }
  return out.join('\n');
}

