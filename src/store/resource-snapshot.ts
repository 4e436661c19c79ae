import type { Diagnostic } from '../core/diagnostic.js';
import type { Resource } from '../resources/resource.js';

/**
 * What the file source found at an API version's `openapi.file`: the document's text, or why it
 * was not read (outside the config folders, missing, too large). Translators are pure, so the
 * source reads the document and the translator only parses the text (docs/api-management.md#openapi).
 */
export type OpenApiFileRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'refused'; readonly message: string };

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
  /**
   * The documents API versions name by `openapi.file`, keyed by openApiFileKey. Only the file
   * source has files; absent elsewhere (Kubernetes), where `openapi.file` is refused.
   */
  readonly openApiFiles?: ReadonlyMap<string, OpenApiFileRead>;
}

/**
 * The declaring object's source (`dir/apis.yaml#0`: one object) and the path as written: the same
 * path means a different file in another folder, and the translator can compute this without I/O.
 */
export function openApiFileKey(source: string, file: string): string {
  return `${source}\n${file}`;
}
