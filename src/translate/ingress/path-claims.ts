import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrPathMatch } from '../../ir/types.js';
import type { HttpIngressPath } from '../../resources/ingress.js';
import { refOf, type Ingress } from '../../resources/resource.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { checkIngressHost } from './ingress-host.js';
import { checkIngressPath, pathMatchKey } from './ingress-path.js';

/** The virtual host of rules without `host`: they match any host no other rule names. */
export const ANY_HOST = '*';

/** One valid path of one rule: a claim on (host, match) that may lose to an older claim. */
export interface PathClaim {
  /** The rule's host, or `*` for a rule without one. */
  readonly host: string;
  readonly ingress: Ingress;
  readonly ruleIndex: number;
  readonly pathIndex: number;
  readonly path: HttpIngressPath;
  readonly match: Extract<IrPathMatch, { kind: 'exact' | 'prefix' }>;
}

export function claimFieldPath(claim: Pick<PathClaim, 'ruleIndex' | 'pathIndex'>): string {
  return `spec.rules[${claim.ruleIndex}].http.paths[${claim.pathIndex}]`;
}

/** Every valid (host, path) of the Ingresses; invalid hosts drop their rule, invalid paths their path. */
export function collectPathClaims(ingresses: readonly Ingress[], diagnostics: Diagnostic[]): PathClaim[] {
  const claims: PathClaim[] = [];
  for (const ingress of ingresses) {
    const blame = (code: Diagnostic['code'], path: string, message: string): void => {
      diagnostics.push({ severity: 'error', code, object: refOf(ingress), source: ingress.source, path, message });
    };
    ingress.spec.rules.forEach((rule, ruleIndex) => {
      const host = rule.host === undefined || rule.host === '' ? ANY_HOST : rule.host;
      if (host !== ANY_HOST) {
        const problem = checkIngressHost(host);
        if (problem) {
          blame('ERR_INGRESS_INVALID_HOST', `spec.rules[${ruleIndex}].host`, `${problem}; this rule is ignored`);
          return;
        }
      }
      rule.http?.paths.forEach((path, pathIndex) => {
        const checked = checkIngressPath(path.path, path.pathType);
        if (checked.kind === 'invalid') {
          blame('ERR_INGRESS_INVALID_PATH', `${claimFieldPath({ ruleIndex, pathIndex })}.path`, `${checked.message}; this path is ignored`);
          return;
        }
        claims.push({ host, ingress, ruleIndex, pathIndex, path, match: checked.match });
      });
    });
  }
  return claims;
}

function compareClaims(a: PathClaim, b: PathClaim): number {
  return compareByCreation(a.ingress, b.ingress) || a.ruleIndex - b.ruleIndex || a.pathIndex - b.pathIndex;
}

function describeHost(host: string): string {
  return host === ANY_HOST ? 'in rules without host' : `on host "${host}"`;
}

/**
 * Keeps one claim per (host, match). The oldest Ingress wins (creationTimestamp, then
 * namespace/name; inside one Ingress the first path); each loser gets a warning naming the winner.
 */
export function resolvePathConflicts(claims: readonly PathClaim[], diagnostics: Diagnostic[]): PathClaim[] {
  const groups = new Map<string, PathClaim[]>();
  for (const claim of claims) {
    const key = `${claim.host}\n${pathMatchKey(claim.match)}`;
    const group = groups.get(key);
    if (group) group.push(claim);
    else groups.set(key, [claim]);
  }
  const winners: PathClaim[] = [];
  for (const group of groups.values()) {
    const [winner, ...losers] = group.sort(compareClaims);
    if (!winner) continue;
    winners.push(winner);
    for (const loser of losers) {
      const sameIngress = loser.ingress === winner.ingress;
      const by = sameIngress
        ? `${claimFieldPath(winner)} of this Ingress, which comes first`
        : `Ingress ${winner.ingress.metadata.namespace}/${winner.ingress.metadata.name} ${claimFieldPath(winner)}, which is older`;
      diagnostics.push({
        severity: 'warning',
        code: 'ERR_INGRESS_RULE_CONFLICT',
        object: refOf(loser.ingress),
        source: loser.ingress.source,
        path: claimFieldPath(loser),
        message: `${loser.path.pathType} path "${loser.path.path ?? ''}" ${describeHost(loser.host)} is also claimed by ${by}; this path is ignored`,
      });
    }
  }
  return winners;
}
