// Which policy of one kind governs one route (GEP-713 direct attachment, no merging):
// 1. the most specific attachment wins: a route rule (sectionName) over the whole route, the
//    route over a Gateway listener (sectionName), the listener over the whole Gateway, and any
//    of those over a workload-wide one (Istio RequestAuthentication);
// 2. between policies at that same level, the oldest (creationTimestamp, then namespace/name:
//    `order`, from compareByCreation) wins; the others are Conflicted on that route.
// Policies at a less specific level are overridden, not conflicted: that is the hierarchy working.
// A policy that targets a route twice (the route and one of its rules) counts at its most
// specific attachment. Pure.
import { levelRank, type AttachmentLevel } from './target-refs.js';

export interface Candidate<T> {
  readonly item: T;
  /** Stable identity of the policy (`ns/name`). */
  readonly key: string;
  readonly level: AttachmentLevel;
  /** Position in creation order: lower is older. */
  readonly order: number;
  /** Which targetRef brought it (for diagnostics). */
  readonly targetIndex: number;
}

export interface Decision<T> {
  readonly winner?: Candidate<T>;
  /** Same level as the winner, younger: Conflicted here. */
  readonly conflicted: readonly Candidate<T>[];
}

export function decide<T>(candidates: readonly Candidate<T>[]): Decision<T> {
  const best = new Map<string, Candidate<T>>();
  for (const c of candidates) {
    const seen = best.get(c.key);
    if (seen === undefined || levelRank(c.level) > levelRank(seen.level)) best.set(c.key, c);
  }
  const all = [...best.values()];
  if (all.length === 0) return { conflicted: [] };
  const top = Math.max(...all.map((c) => levelRank(c.level)));
  const atTop = all.filter((c) => levelRank(c.level) === top).sort((a, b) => a.order - b.order);
  return { winner: atTop[0]!, conflicted: atTop.slice(1) };
}
