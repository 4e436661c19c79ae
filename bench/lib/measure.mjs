// Interleaved rounds, the method every part of bench/run.mjs shares: a warm-up per target, then
// rounds a, b, c, a, b, c, ... and medians per target. The load generator is a parameter
// (`runOnce`: wrk for HTTP/1.1, h2load for HTTP/2), so every part measures the same way.
import { groupCpuSeconds, rssMiB } from './processes.mjs';
import { summarise } from './wrk.mjs';

/** One round in a terminal line. */
export const fmtRun = (r) => `${(r.rps / 1000).toFixed(1)}k req/s, p50 ${(r.p50Us / 1000).toFixed(2)} ms, p99 ${(r.p99Us / 1000).toFixed(2)} ms${r.cpuUsPerReq ? `, ${r.cpuUsPerReq.toFixed(1)} µs CPU/req` : ''}${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}${r.socketErrors ? `, ${r.socketErrors} socket errors` : ''}`;

/**
 * `runOnce(target, durationS)` resolves one run's figures ({ rps, requests, p50Us, p99Us, non2xx,
 * socketErrors, raw }). With `requireOk`, a warm-up that got any non-2xx answer (a 401 or 429
 * means the setup is wrong) or no answer at all throws. `beforeRounds` runs between the warm-ups
 * and the first round. Each round gets the CPU time of the target's process group: `cpuS` (user +
 * sys seconds), `cpuUsPerReq` and `userUsPerReq` (the figure that explains a Node/nginx ratio,
 * shared/bench/README.md).
 */
export async function measureInterleaved({ targets, runOnce, rounds, warmupS, durationS, log, requireOk = false, beforeRounds }) {
  for (const t of targets) {
    log(`  warm-up ${t.name} (${warmupS} s)`);
    const w = await runOnce(t, warmupS);
    if (requireOk && (!w.requests || w.non2xx || w.socketErrors)) {
      throw new Error(`${t.name}: the warm-up got ${w.non2xx} non-2xx answers and ${w.socketErrors} socket errors out of ${w.requests} requests: the setup is wrong (a 401 or 429 means the credentials or the limit are)\n${w.raw}`);
    }
  }
  await beforeRounds?.();
  const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
  const roundsStartedAt = performance.now();
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      const before = groupCpuSeconds(t.handle.pid);
      const r = await runOnce(t, durationS);
      const after = groupCpuSeconds(t.handle.pid);
      if (before && after && r.requests) {
        r.cpuS = after.user + after.sys - before.user - before.sys;
        r.userUsPerReq = ((after.user - before.user) * 1e6) / r.requests;
        r.cpuUsPerReq = (r.cpuS * 1e6) / r.requests;
      }
      runs[t.name].push(r);
      log(`  round ${round}/${rounds} ${t.name.padEnd(12)} ${fmtRun(r)}`);
    }
  }
  const results = {};
  for (const t of targets) {
    results[t.name] = { ...summarise(runs[t.name]), requests: runs[t.name].reduce((a, r) => a + (r.requests ?? 0), 0), rssMiB: rssMiB(t.handle.pid) };
  }
  return { results, runs, roundsStartedAt };
}
