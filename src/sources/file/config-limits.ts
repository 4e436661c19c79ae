// Bounds on what one config file may cost. A file in a watched folder is input, and input can be
// hostile or simply broken (a generator bug, a half-written file): whatever it holds, the gateway
// must keep serving. Each limit is generous next to a real 10,000-path configuration
// (bench/lib/config-gen.mjs: 1.9 MB, about 84,000 nodes and 640,000 characters in one file).

/** Limits checked while a file is read and parsed: pure, the same in the worker and in `validate`. */
export interface ParseLimits {
  /** A bigger file is refused before it is parsed. */
  readonly maxFileBytes: number;
  /** Nodes (mappings, sequences, scalars) once every alias is expanded, summed over the file's documents. */
  readonly maxExpandedNodes: number;
  /** Characters of keys and string values once every alias is expanded, summed over the file. */
  readonly maxExpandedChars: number;
  /** Mappings and sequences nested inside each other (after expansion). */
  readonly maxDepth: number;
  /** Diagnostics kept per file; the rest are counted in one last diagnostic. */
  readonly maxDiagnosticsPerFile: number;
}

/** Limits on the parse worker: what a file may cost that only running it can tell. */
export interface WorkerLimits {
  /** Wall time one file may take in the worker (read, parse, schema check); then it is restarted. */
  readonly parseDeadlineMs: number;
  /** V8 old-generation heap of the worker; a file that needs more kills the worker, not the gateway. */
  readonly parserHeapMb: number;
  /** An idle worker is stopped after this (its heap is returned); the next change starts another. */
  readonly parserIdleExitMs: number;
}

export type ConfigLimits = ParseLimits & WorkerLimits;

export const DEFAULT_CONFIG_LIMITS: ConfigLimits = {
  // 8x the 10,000-path file; a 16 MiB file of the same shape parses in about 1 s and 120 MB.
  maxFileBytes: 16 * 1024 * 1024,
  // 12x the 10,000-path file, and more than a 16 MiB file of Ingress YAML holds without aliases.
  maxExpandedNodes: 1_000_000,
  // Twice the file cap: room for a large CA bundle aliased a few dozen times, not for a bomb.
  maxExpandedChars: 32 * 1024 * 1024,
  // Kubernetes objects nest about 10 levels (an Ingress backend port), CRD schemas a few dozen.
  maxDepth: 128,
  // Enough to show what is wrong; a million `---` documents must not become a million values.
  maxDiagnosticsPerFile: 100,
  // A 16 MiB file takes about 1 s on an idle core; ten times that on a loaded machine is a hang.
  parseDeadlineMs: 10_000,
  // A 16 MiB file peaks near 250 MB while js-yaml and the schemas run.
  parserHeapMb: 512,
  // Measured with 10,000 HTTPRoute rules: an idle worker kept the gateway's RSS 40 MB higher.
  parserIdleExitMs: 2000,
};
