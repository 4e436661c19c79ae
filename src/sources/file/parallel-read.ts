// Reads and parses many config files on two threads: the caller's, and one worker lane
// (parse-lane-worker.ts). Parsing YAML and checking every object against its schema is most of
// loading a large folder (10,000 Services: about 1 s on one core), and a one-shot command such as
// `kube-proxy render` has a second core doing nothing meanwhile.
//
// Both threads claim the next file from one shared counter, so neither waits for the other and a
// slow file does not hold up a fixed half of the list; results land by index, so the order (and
// with it every diagnostic and which duplicate wins) is the file order, whichever thread read each
// file. A worker that dies leaves its files to the main thread, which parses them as it would
// have alone: the worst case is the single-threaded result, never a different one.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SourceContribution } from '../../store/build-snapshot.js';
import type { ParseLimits } from './config-limits.js';
import type { LaneResult, LaneStart } from './parse-lane-protocol.js';
import { readConfigFile } from './read-config-file.js';
import type { ConfigFileRef } from './scan-config-tree.js';

/**
 * Below this many files a worker is not started: it needs about 0.3 s of one core to boot and
 * load the schemas, more than a few files take to parse.
 */
export const MIN_FILES_FOR_WORKER = 16;

export interface ParallelReadOptions {
  /**
   * `auto` (default): a worker when there are enough files and a second core; `off`: this thread
   * only; `on`: a worker whatever the count; `only`: the worker reads every file (this thread only
   * those it leaves by dying), so tests can compare its results with this thread's.
   */
  readonly worker?: 'auto' | 'on' | 'off' | 'only';
}

export interface ParallelRead {
  /** What each file contributed, in the order of the files; undefined where one vanished since the scan. */
  readonly contributions: readonly (SourceContribution | undefined)[];
  /** How many of them the worker read (0 without one). */
  readonly byWorker: number;
}

export async function readConfigFiles(files: readonly ConfigFileRef[], limits: ParseLimits, options: ParallelReadOptions = {}): Promise<ParallelRead> {
  const mode = options.worker ?? 'auto';
  const wanted = mode === 'on' || mode === 'only' || (mode === 'auto' && files.length >= MIN_FILES_FOR_WORKER && availableParallelism() > 1);
  const results: (SourceContribution | undefined)[] = new Array(files.length);
  const have = new Uint8Array(files.length);
  let count = 0;
  let byWorker = 0;
  const settle = (index: number, contribution: SourceContribution | undefined): void => {
    if (have[index] === 1) return;
    have[index] = 1;
    results[index] = contribution;
    count++;
  };

  const counter = new Int32Array(new SharedArrayBuffer(4));
  const lane = wanted && files.length > 0 ? startLane({ files, limits, next: counter.buffer as SharedArrayBuffer }, (index, contribution) => {
    if (have[index] === 0) byWorker++;
    settle(index, contribution);
  }) : undefined;
  while (mode !== 'only' || lane === undefined) {
    const index = Atomics.add(counter, 0, 1);
    if (index >= files.length) break;
    settle(index, await readConfigFile(files[index]!, limits));
  }
  if (lane !== undefined) {
    // Every file is claimed; wait for the worker's, unless it stopped first.
    if (count < files.length) await Promise.race([lane.allIn(() => count === files.length), lane.stopped]);
    void lane.worker.terminate();
    // Files a dead worker claimed but never returned: parsed here, as without a worker.
    for (let index = 0; index < files.length; index++) if (have[index] === 0) settle(index, await readConfigFile(files[index]!, limits));
  }
  return { contributions: results, byWorker };
}

interface Lane {
  readonly worker: Worker;
  /** Resolves once `done()` holds after a result arrives. */
  readonly allIn: (done: () => boolean) => Promise<void>;
  /** Resolves when the worker exits or fails (its unreturned files are then the caller's). */
  readonly stopped: Promise<void>;
}

function startLane(start: LaneStart, settle: (index: number, contribution: SourceContribution | undefined) => void): Lane {
  // The caller terminates it once every file is in, even one still booting that claimed none.
  const worker = new Worker(new URL('./parse-lane-worker.js', import.meta.url));
  let check: (() => void) | undefined;
  worker.on('message', (result: LaneResult) => {
    settle(result.index, result.contribution);
    check?.();
  });
  const stopped = new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    // An error is followed by 'exit'; listening keeps it from being thrown as uncaught.
    worker.on('error', () => resolve());
  });
  worker.postMessage(start);
  const allIn = (done: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      check = () => {
        if (done()) resolve();
      };
      check();
    });
  return { worker, allIn, stopped };
}
