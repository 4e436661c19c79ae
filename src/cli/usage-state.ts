// Usage metering for one gateway process: the UsageMeter, its sink and its subscription to the
// data plane's requestEnd channel. With `--redis-url` the counts go to Redis (summed across
// replicas); else to `<state-dir>/usage.json`, reloaded at start simply by being the file new
// counts are added to. A state folder that cannot be written (a read-only root file system) or a
// file that does not parse is reported once, and the counts are kept in memory instead: metering
// must never stop the gateway from serving.
import { accessSync, constants, readFileSync, renameSync } from 'node:fs';
import { makeFoldersSync } from '../core/make-folders.js';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { UsageMeter, type UsageEntry, type UsageRange, type UsageSink } from '../state/usage-meter.js';
import { FileUsageSink, MemoryUsageSink } from '../state/usage-file-sink.js';
import { RedisUsageSink } from '../state/usage-redis-sink.js';
import { meterRequests } from '../observability/usage-metering.js';

/** How often counts leave memory: what a crash (not a SIGTERM) can lose. */
export const USAGE_FLUSH_INTERVAL_MS = 10_000;
/** One log line per failure streak at most this often. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

export interface UsageState {
  /** `redis`, the state file's path, or `memory`. */
  readonly where: string;
  report(range: UsageRange): Promise<readonly UsageEntry[]>;
  /** Counts a `--workers` worker flushed to the primary: written with this process's own. */
  merge(entries: readonly UsageEntry[]): void;
  /** Unsubscribes, then makes the last flush (after the drain, so every request is counted). */
  close(): Promise<void>;
}

export function createUsageState(options: {
  readonly clock: Clock;
  readonly redisUrl: string | undefined;
  readonly stateDir: string | undefined;
  readonly log: (line: string) => void;
}): UsageState {
  const { sink, where } = chooseSink(options);
  const meter = new UsageMeter(options.clock, sink);
  let lastLogged = -Infinity;
  meter.start(USAGE_FLUSH_INTERVAL_MS, (err) => {
    const now = options.clock.now();
    if (now - lastLogged < FAILURE_LOG_INTERVAL_MS) return;
    lastLogged = now;
    options.log(`isthmus: usage counts could not be written to ${where} (${messageOf(err)}); they are kept for the next flush`);
  });
  const unsubscribe = meterRequests(meter);
  return {
    where,
    report: (range) => meter.report(range),
    merge: (entries) => meter.merge(entries),
    async close() {
      unsubscribe();
      try {
        await meter.close();
      } catch (err) {
        options.log(`isthmus: the last usage counts could not be written to ${where} (${messageOf(err)}); they are lost`);
      }
    },
  };
}

function chooseSink(options: { readonly redisUrl: string | undefined; readonly stateDir: string | undefined; readonly log: (line: string) => void }): { sink: UsageSink; where: string } {
  if (options.redisUrl !== undefined) return { sink: new RedisUsageSink({ url: options.redisUrl }), where: 'redis' };
  if (options.stateDir === undefined) return { sink: new MemoryUsageSink(), where: 'memory' };
  const file = path.join(options.stateDir, 'usage.json');
  try {
    makeFoldersSync(options.stateDir);
    accessSync(options.stateDir, constants.W_OK);
  } catch (err) {
    options.log(`isthmus: --state-dir ${options.stateDir} cannot be written (${messageOf(err)}); usage counts are kept in memory only and lost at restart`);
    return { sink: new MemoryUsageSink(), where: 'memory' };
  }
  setAsideIfUnreadable(file, options.log);
  return { sink: new FileUsageSink(file), where: file };
}

/** A state file that does not parse would fail every flush: it is moved aside (kept for a human), and counting starts afresh. */
function setAsideIfUnreadable(file: string, log: (line: string) => void): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return; // Missing: no usage yet. Unreadable for another reason: the first flush will say so.
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return;
  } catch {
    // Falls through to the move below.
  }
  const aside = `${file}.unreadable-${Date.now()}`;
  try {
    renameSync(file, aside);
    log(`isthmus: ${file} is not a usage state file; moved to ${aside}, usage counting starts afresh`);
  } catch (err) {
    log(`isthmus: ${file} is not a usage state file and could not be moved aside (${messageOf(err)})`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
