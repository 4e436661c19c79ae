import type { Diagnostic } from '../core/diagnostic.js';
import type { Resource } from '../resources/resource.js';

/**
 * Everything a source knows at one moment, immutable. Sources push whole snapshots (never
 * deltas) and the latest always wins; `generation` grows by one per snapshot of a source.
 */
export interface ResourceSnapshot {
  readonly generation: number;
  /** Sorted by kind, namespace and name; at most one object per kind/namespace/name. */
  readonly resources: readonly Resource[];
  /** Load and parse problems (bad YAML, unknown kinds, schema violations, duplicates), sorted. */
  readonly diagnostics: readonly Diagnostic[];
}
