// Runs h2load (nghttp2-client; pinned with the origin on the load core) over HTTPS and parses its
// report, plus its per-request log for the latency percentiles its summary does not give.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { findCommand, pinnedArgv, trackChild } from './processes.mjs';
import { parseDurationUs } from './wrk.mjs';

export const H2LOAD = findCommand('h2load');
export const TLS13_CIPHER = 'TLS_AES_128_GCM_SHA256';
export const TLS12_CIPHER = 'ECDHE-ECDSA-AES128-GCM-SHA256';

export function requireH2load() {
  if (H2LOAD) return H2LOAD;
  throw new Error('h2load is not installed: the HTTP/2 part needs it (`apt-get install nghttp2-client`).');
}

/**
 * Parses h2load 1.x output:
 *   TLS Protocol: TLSv1.2 / Cipher: ECDHE-ECDSA-AES128-GCM-SHA256 / Application protocol: h2
 *   finished in 10.00s, 51234.50 req/s, 3.91MB/s
 *   requests: 512345 total, 512445 started, 512345 done, 512345 succeeded, 0 failed, 0 errored, 0 timeout
 *   status codes: 512345 2xx, 0 3xx, 0 4xx, 0 5xx
 *   time for request:      618us     67.09ms     11.86ms      7.94ms    78.57%
 * In a timed run (-D) the requests still in flight when the time is up are "started" but not
 * "done"; they are not failures.
 */
export function parseH2load(text) {
  const line = (re) => re.exec(text);
  const finished = line(/^finished in ([\d.]+)s, ([\d.]+) req\/s/m);
  const req = line(/^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m);
  const codes = line(/^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m);
  if (!finished || !req || !codes) throw new Error(`h2load: no "finished in", "requests:" or "status codes:" line in output:\n${text}`);
  const [total, started, done, succeeded, failed, errored, timeout] = req.slice(1).map(Number);
  const [s2xx, s3xx, s4xx, s5xx] = codes.slice(1).map(Number);
  const timing = line(/^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m);
  return {
    elapsedS: Number(finished[1]),
    rps: Number(finished[2]),
    requests: succeeded,
    counts: { total, started, done, succeeded, failed, errored, timeout },
    status: { '2xx': s2xx, '3xx': s3xx, '4xx': s4xx, '5xx': s5xx },
    // The same two figures wrk reports, so lib/wrk.mjs's summarise and the tables apply unchanged.
    non2xx: s3xx + s4xx + s5xx,
    // h2load's "failed" holds the error statuses and the requests that got no answer (reset,
    // connection error, timeout); the latter are wrk's socket errors.
    socketErrors: Math.max(failed - (s3xx + s4xx + s5xx), errored + timeout),
    protocol: line(/^Application protocol: (\S+)/m)?.[1] ?? null,
    tls: { protocol: line(/^TLS Protocol: (\S+)/m)?.[1] ?? null, cipher: line(/^Cipher: (\S+)/m)?.[1] ?? null },
    meanUs: timing ? parseDurationUs(timing[3]) : null,
    maxUs: timing ? parseDurationUs(timing[2]) : null,
  };
}

/** Percentiles of h2load's --log-file (tab-separated: start µs, status, µs to the end of the response). */
export function logPercentiles(text) {
  const times = [];
  for (const row of text.split('\n')) {
    const tab = row.lastIndexOf('\t');
    if (tab > 0) times.push(Number(row.slice(tab + 1)));
  }
  const sorted = Float64Array.from(times).sort();
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
  return { logged: sorted.length, p50Us: at(50), p75Us: at(75), p90Us: at(90), p99Us: at(99) };
}

/**
 * One timed h2load run: `clients` connections, each with up to `streams` concurrent streams, to
 * `https://127.0.0.1:port{path}` with `:authority` set to `authority` (the IP in the URL means no
 * SNI, so both proxies serve their one certificate). `logFile` is written and removed again.
 */
export function runH2load({ port, path = '/', authority, clients, streams, durationS, logFile, cpu = 0 }) {
  const h2load = requireH2load();
  // One cipher offered, so both proxies negotiate the same one whatever their preference order
  // (nginx follows the client's, Node's OpenSSL its own); AES-128-GCM is what browsers offer first.
  const args = ['-t1', `-c${clients}`, `-m${streams}`, `-D${durationS}`, `--log-file=${logFile}`, `--tls13-ciphers=${TLS13_CIPHER}`, `--ciphers=${TLS12_CIPHER}`];
  if (authority) args.push('-H', `:authority: ${authority}`);
  args.push(`https://127.0.0.1:${port}${path}`);
  const [file, argv] = pinnedArgv(cpu, h2load, args);
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { timeout: (durationS + 30) * 1000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      // h2load prints its progress lines too; the report is what follows them.
      const raw = stdout.split('\n').filter((l) => !l.startsWith('progress: ')).join('\n');
      if (err) return reject(new Error(`h2load failed: ${err.message}\n${raw}${stderr}`));
      try {
        const parsed = parseH2load(raw);
        let pct;
        try {
          pct = logPercentiles(readFileSync(logFile, 'utf8'));
        } finally {
          rmSync(logFile, { force: true });
        }
        resolve({ ...parsed, ...pct, raw });
      } catch (parseErr) {
        reject(parseErr);
      }
    });
    trackChild(child, 'h2load');
  });
}
