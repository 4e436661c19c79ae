import type { Diagnostic } from '../../core/diagnostic.js';
import { refOf, type Pod } from '../../resources/resource.js';
import { formatFieldPath } from '../../resources/schema-issue.js';

export const ENDPOINT_WEIGHT_ANNOTATION = 'isthmus.dev/endpoint-weight';

/** Upper bound keeps weighted tables (and smooth round-robin sums) small and exact. */
const MAX_WEIGHT = 1_000_000;

/** Reads each Pod's weight annotation once per translation, warning once per bad value. */
export function createPodWeights(diagnostics: Diagnostic[]): (pod: Pod | undefined) => number {
  const cache = new Map<Pod, number>();
  return (pod) => {
    if (!pod) return 1;
    const cached = cache.get(pod);
    if (cached !== undefined) return cached;
    const raw = pod.metadata.annotations[ENDPOINT_WEIGHT_ANNOTATION];
    let weight = 1;
    if (raw !== undefined) {
      const parsed = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
      if (parsed >= 1 && parsed <= MAX_WEIGHT) weight = parsed;
      else {
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_RESOURCE_INVALID',
          object: refOf(pod),
          source: pod.source,
          path: formatFieldPath(['metadata', 'annotations', ENDPOINT_WEIGHT_ANNOTATION]),
          message: `expected a positive integer up to ${MAX_WEIGHT}, found "${raw}"; using 1`,
        });
      }
    }
    cache.set(pod, weight);
    return weight;
  };
}
