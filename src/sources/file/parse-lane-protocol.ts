// The messages between loadDirs' main thread and its parse-lane worker (parse-lane-worker.ts).
// Both ends are this package, compiled together. Structured clone carries the contributions, so
// they arrive exactly as the worker built them (undefined fields, key order), as an in-process
// parse would have built them.
import type { SourceContribution } from '../../store/build-snapshot.js';
import type { ParseLimits } from './config-limits.js';
import type { ConfigFileRef } from './scan-config-tree.js';

/** Main thread → worker, once: the files, and the counter both sides claim the next file from. */
export interface LaneStart {
  readonly files: readonly ConfigFileRef[];
  readonly limits: ParseLimits;
  /** One Int32: the index of the next unclaimed file (Atomics.add claims it). */
  readonly next: SharedArrayBuffer;
}

/** Worker → main thread, one per claimed file; `contribution` undefined: it vanished since the scan. */
export interface LaneResult {
  readonly index: number;
  readonly contribution: SourceContribution | undefined;
}
