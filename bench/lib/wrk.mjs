// Runs wrk (pinned with the origin on core 0) and parses its --latency report.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCommand, pinnedArgv, trackChild } from './processes.mjs';

export const WRK = findCommand('wrk');

export function requireWrk() {
  if (WRK) return WRK;
  throw new Error('wrk is not installed: the benchmark needs it (`apt-get install wrk`, or `sudo apt-get install wrk`).');
}

const UNIT_US = { us: 1, ms: 1000, s: 1e6, m: 60e6, h: 3600e6 };

/** "569.00us" | "1.23ms" | "2.00s" → microseconds. */
export function parseDurationUs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot parse duration "${text}"`);
  return Number(m[1]) * UNIT_US[m[2]];
}

/**
 * Parses wrk 4.x output:
 *   Latency Distribution / 50% 569.00us / ... / 99% 1.23ms
 *   512345 requests in 10.00s, 80.00MB read
 *   Non-2xx or 3xx responses: 12
 *   Socket errors: connect 0, read 0, write 0, timeout 0
 *   Requests/sec:  51234.50
 */
export function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)\\s*$`, 'm').exec(text);
    return m ? parseDurationUs(m[1]) : null;
  };
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps === null) throw new Error(`wrk: no "Requests/sec" in output:\n${text}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  // `    Latency   3.58ms    2.11ms  45.00ms   89.12%`: average, deviation, maximum.
  const latency = /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(text);
  return {
    rps,
    requests: num(/^\s*(\d+) requests in/m),
    maxUs: latency ? parseDurationUs(latency[1]) : null,
    p50Us: pct(50),
    p75Us: pct(75),
    p90Us: pct(90),
    p99Us: pct(99),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    socketErrors,
  };
}

/** One wrk run against `http://127.0.0.1:port{path}` with `Host: host` and `headers` ("Name: value"). */
/**
 * wrk puts the URL's path in the request line; a forward proxy's clients send the absolute form
 * (`GET http://host/path HTTP/1.1`), which only a script can set.
 */
function absoluteFormScript(target) {
  const file = join(mkdtempSync(join(tmpdir(), 'isthmus-wrk-')), 'absolute-form.lua');
  writeFileSync(file, `wrk.path = ${JSON.stringify(target)}\n`);
  return file;
}

/** `path` may be an absolute-form target (`http://host/path`), sent as is in the request line. */
export function runWrk({ port, path = '/', host, headers = [], durationS, threads = 1, connections = 50, cpu = 0 }) {
  const wrk = requireWrk();
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency'];
  if (host) args.push('-H', `Host: ${host}`);
  for (const header of headers) args.push('-H', header);
  const absolute = /^https?:\/\//.test(path);
  if (absolute) args.push('-s', absoluteFormScript(path));
  args.push(`http://127.0.0.1:${port}${absolute ? '/' : path}`);
  const [file, argv] = pinnedArgv(cpu, wrk, args);
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { timeout: (durationS + 30) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stdout}${stderr}`));
      try {
        resolve({ ...parseWrk(stdout), raw: stdout });
      } catch (parseErr) {
        reject(parseErr);
      }
    });
    trackChild(child, 'wrk');
  });
}

export function median(values) {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median req/s and latencies over the rounds of one target. */
export function summarise(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Us: median(runs.map((r) => r.p50Us)),
    p99Us: median(runs.map((r) => r.p99Us)),
    userUsPerReq: median(runs.map((r) => r.userUsPerReq ?? null)),
    cpuUsPerReq: median(runs.map((r) => r.cpuUsPerReq ?? null)),
    cpuRounds: runs.map((r) => r.cpuUsPerReq ?? null).filter((v) => v !== null),
    rounds: runs.map((r) => r.rps),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    socketErrors: runs.reduce((a, r) => a + r.socketErrors, 0),
  };
}
