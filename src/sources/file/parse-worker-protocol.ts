// The messages between FileSource's main thread and the parse worker (parse-worker.ts). Both ends
// are this package, compiled together; structured clone carries them, so values arrive exactly
// as the worker built them (undefined fields, key order) and results match an in-process parse.
import type { SourceContribution } from '../../store/build-snapshot.js';
import type { ParseLimits } from './config-limits.js';
import type { ConfigFileRef } from './scan-config-tree.js';

/** `workerData` of the worker. */
export interface ParseWorkerData {
  readonly limits: ParseLimits;
}

/** Main thread → worker: one file at a time, so a failure always blames the file in hand. */
export interface ParseRequest {
  readonly kind: 'load';
  readonly id: number;
  readonly file: ConfigFileRef;
}

/** Worker → main thread. */
export type ParseReply =
  /** Work on the file began: its deadline starts now, not while the worker was still booting. */
  | { readonly kind: 'started'; readonly id: number }
  | { readonly kind: 'loaded'; readonly id: number; readonly contribution: SourceContribution; readonly fingerprint: string }
  /** The file vanished since the scan (a deletion in progress). */
  | { readonly kind: 'vanished'; readonly id: number };
