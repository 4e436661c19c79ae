import { sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import { refOf, resourceKey, type Resource } from '../resources/resource.js';
import type { ResourceSnapshot } from './resource-snapshot.js';

/** What one unit of input (a file, a watch stream) contributed, in document order. */
export interface SourceContribution {
  readonly resources: readonly Resource[];
  readonly diagnostics: readonly Diagnostic[];
}

function compareResources(a: Resource, b: Resource): number {
  return (
    a.kind.localeCompare(b.kind, 'en') ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '', 'en') ||
    a.metadata.name.localeCompare(b.metadata.name, 'en')
  );
}

/**
 * Merges contributions, in the order given, into one snapshot. A later object with the same
 * kind/namespace/name replaces an earlier one (as a second `kubectl apply` would) and says so.
 */
export function buildSnapshot(contributions: readonly SourceContribution[], generation: number): ResourceSnapshot {
  const byKey = new Map<string, Resource>();
  const diagnostics: Diagnostic[] = [];
  for (const contribution of contributions) {
    diagnostics.push(...contribution.diagnostics);
    for (const resource of contribution.resources) {
      const key = resourceKey(resource);
      const earlier = byKey.get(key);
      if (earlier) {
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_RESOURCE_DUPLICATE',
          object: refOf(resource),
          source: resource.source,
          message: `defined again; this definition replaces the one from ${earlier.source}`,
        });
        byKey.delete(key);
      }
      byKey.set(key, resource);
    }
  }
  return {
    generation,
    resources: [...byKey.values()].sort(compareResources),
    diagnostics: sortDiagnostics(diagnostics),
  };
}
