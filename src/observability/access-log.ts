// The access log: one JSON line per downstream request, from the data plane's `requestEnd`
// channel, written through pino's buffered asynchronous destination. Every line carries every
// field (null when it does not apply), so log pipelines can rely on the schema; the names follow
// Envoy's access log operators in snake_case.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type pinoModule from 'pino';
import { subscribeL4ConnectionEnd, subscribeRequestEnd, type Unsubscribe } from './channel-subscription.js';
import { formatAccessLogLine } from './access-log-line.js';
import { makeFoldersSync } from '../core/make-folders.js';

export { toAccessLogEntry, type AccessLogEntry } from './access-log-line.js';

/** `stdout`, `off`, or a file path (appended to; its folder is created). */
export type AccessLogTarget = 'stdout' | 'off' | (string & {});

export interface AccessLog {
  /** Unsubscribes, then flushes buffered lines and closes the file (stdout stays open). */
  close(): Promise<void>;
}

export interface AccessLogOptions {
  /** Write failures after start-up (disk full, closed pipe); default: one line on stderr. */
  readonly onError?: (error: Error) => void;
  /**
   * `--workers N`: the cluster worker id, added to every line as `worker` (after the other fields),
   * so a line says which process served it. Absent in a single process: the schema stays as it was.
   */
  readonly worker?: number;
  /** Bytes held while the target is slower than the traffic; default 16 MiB (tests set less). */
  readonly maxBufferedBytes?: number;
  /** Lines dropped because the buffer was full; default: one line on stderr per overflow episode. */
  readonly onDrop?: (droppedBytes: number) => void;
}

/** Buffer up to 4 KiB (tens of lines) per write(2), but never hold a line longer than 1 s. */
const MIN_WRITE_BYTES = 4096;
const FLUSH_INTERVAL_MS = 1000;
/**
 * A target that stops taking lines (a stdout pipe nobody reads, a stalled disk) must not grow the
 * gateway's memory without bound: past this many buffered bytes new lines are dropped, and said so.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Opens the target synchronously, so a bad path fails here (the CLI reports it at start-up)
 * rather than as a later 'error' event.
 */
export function createAccessLog(target: AccessLogTarget, options: AccessLogOptions = {}): AccessLog {
  if (target === 'off') return { close: () => Promise.resolve() };

  const fd = target === 'stdout' ? 1 : openForAppend(target);
  // Loaded only when a log is written: with `--access-log off` the gateway does not carry pino
  // (9 MB of RSS). pino is CommonJS, so require keeps this function synchronous.
  const pino = createRequire(import.meta.url)('pino') as typeof pinoModule;
  const destination = pino.destination({
    dest: fd,
    sync: false,
    minLength: MIN_WRITE_BYTES,
    periodicFlush: FLUSH_INTERVAL_MS,
    // Lines are handed over as Buffers: in its default string mode sonic-boom measures the
    // UTF-8 length of the whole pending chunk on every write (up to 16 KiB scanned per line), which
    // was half of a line's cost.
    contentMode: 'buffer',
    maxLength: options.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
  });
  destination.on('drop', (data: Buffer | string) => (options.onDrop ?? dropReporter(target))(Buffer.byteLength(data)));
  // sonic-boom's typings know only strings; in buffer mode write() takes Buffers (its README).
  const write = (line: string): void => {
    (destination as unknown as { write(data: Buffer): boolean }).write(Buffer.from(line));
  };
  const onError = options.onError ?? reportToStderr(target);
  destination.on('error', onError);

  // Lines go straight to pino's asynchronous destination (sonic-boom) rather than through a
  // pino logger: a logger always opens the line with its level field (an empty level formatter
  // yields `{,"time"...`), which says nothing here; the line is built by access-log-line.ts.
  const worker = options.worker;
  const unsubscribeRequests = subscribeRequestEnd((message) => write(formatAccessLogLine(message, worker)));
  // One line per L4 connection (UDP: per flow) as it closes, marked `"kind":"l4"`.
  const unsubscribeL4 = subscribeL4ConnectionEnd((m) => {
    write(`${JSON.stringify({ kind: 'l4', time: new Date(m.startTime).toISOString(), ...m, startTime: undefined, ...(worker === undefined ? {} : { worker }) })}\n`);
  });
  let unsubscribe: Unsubscribe | undefined = () => {
    unsubscribeRequests();
    unsubscribeL4();
  };

  let closing: Promise<void> | undefined;
  return {
    close() {
      unsubscribe?.();
      unsubscribe = undefined;
      closing ??= new Promise<void>((resolve) => {
        destination.once('close', () => resolve());
        destination.once('error', () => resolve());
        // end() writes what is buffered, then closes the fd (sonic-boom leaves fd 1 open).
        destination.end();
      });
      return closing;
    },
  };
}

function openForAppend(file: string): number {
  try {
    makeFoldersSync(path.dirname(path.resolve(file)));
    return fs.openSync(file, 'a');
  } catch (error) {
    throw new Error(`access log ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** One stderr line when lines start being dropped, then quiet for a minute (a stuck pipe drops many). */
function dropReporter(target: string): (droppedBytes: number) => void {
  let quietUntil = 0;
  return () => {
    const now = Date.now();
    if (now < quietUntil) return;
    quietUntil = now + 60_000;
    process.stderr.write(`isthmus: access log ${target} is not keeping up; lines are dropped while ${MAX_BUFFERED_BYTES / 1024 / 1024} MiB wait to be written\n`);
  };
}

function reportToStderr(target: string): (error: Error) => void {
  let reported = false;
  return (error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`isthmus: access log ${target}: ${error.message}\n`);
  };
}
