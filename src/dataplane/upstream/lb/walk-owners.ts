// Both consistent hashes (ring-hash.ts, maglev.ts) map a request's key to a position in a circular
// array of owners. When the owner there is unavailable (ejected) or excluded (already tried by
// this request), the walk goes on to the next distinct usable endpoint, so the key lands where it
// would go if that endpoint were gone: deterministic per key, as Envoy walks its ring.
import type { EndpointState } from '../endpoint-state.js';
import type { IsAvailable } from './types.js';
import type { VisitMarks } from './visit-marks.js';
import { isUsable } from './weighted-sampler.js';

/**
 * The first usable owner at or after `start` (wrapping), or undefined. `owning`: how many
 * endpoints own any position, so the walk stops once each has been turned down.
 */
export function usableOwnerFrom(
  owners: Uint16Array | Uint32Array,
  start: number,
  endpoints: readonly EndpointState[],
  marks: VisitMarks,
  owning: number,
  exclude: ReadonlySet<EndpointState> | undefined,
  isAvailable: IsAvailable,
): EndpointState | undefined {
  const len = owners.length;
  let p = start;
  let owner = owners[p]!;
  let ep = endpoints[owner]!;
  if (isUsable(ep, exclude, isAvailable)) return ep;
  marks.begin();
  marks.mark(owner);
  let rejected = 1;
  for (let step = 1; step < len && rejected < owning; step++) {
    p = p + 1 === len ? 0 : p + 1;
    owner = owners[p]!;
    if (!marks.mark(owner)) continue;
    ep = endpoints[owner]!;
    if (isUsable(ep, exclude, isAvailable)) return ep;
    rejected++;
  }
  return undefined;
}
