// The failures a test injects: RBAC-style denials (forbid/allow) and one-shot failures
// (failNext). Kept apart from routing so the order in which they apply stays in one place
// in FakeKubeApi: authentication, injected failure, authorization, then routing.

import { failureStatus, type KubeStatus } from './kube-status.js';

export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface InjectedFailure {
  readonly code: number;
  readonly reason: string;
  readonly message?: string;
}

export interface FailureMatch {
  readonly verbs?: readonly KubeVerb[];
  readonly plural?: string;
}

interface ResourceName {
  readonly plural: string;
  /** undefined: any group. */
  readonly group: string | undefined;
  readonly subresource: string | undefined;
}

interface ForbidRule extends ResourceName {
  readonly verbs: ReadonlySet<KubeVerb>;
}

interface PendingFailure {
  remaining: number;
  readonly status: KubeStatus;
  readonly verbs: ReadonlySet<KubeVerb> | undefined;
  readonly plural: string | undefined;
}

// "plural", "plural.group", or either with "/status": how RBAC rules name a resource.
function parseResourceName(resource: string): ResourceName {
  const [qualified = '', subresource] = resource.split('/');
  const dot = qualified.indexOf('.');
  if (dot === -1) return { plural: qualified, group: undefined, subresource };
  return { plural: qualified.slice(0, dot), group: qualified.slice(dot + 1), subresource };
}

export class AccessRules {
  readonly #forbidden: ForbidRule[] = [];
  readonly #failures: PendingFailure[] = [];

  forbid(resource: string, verbs: readonly KubeVerb[]): void {
    this.#forbidden.push({ ...parseResourceName(resource), verbs: new Set(verbs) });
  }

  /** Removes every rule written with exactly this resource name. */
  allow(resource: string): void {
    const target = parseResourceName(resource);
    for (let index = this.#forbidden.length - 1; index >= 0; index -= 1) {
      const rule = this.#forbidden[index];
      if (rule && rule.plural === target.plural && rule.group === target.group && rule.subresource === target.subresource) {
        this.#forbidden.splice(index, 1);
      }
    }
  }

  failNext(count: number, failure: InjectedFailure, match: FailureMatch): void {
    this.#failures.push({
      remaining: count,
      status: failureStatus(failure.code, failure.reason, failure.message ?? failure.reason),
      verbs: match.verbs === undefined ? undefined : new Set(match.verbs),
      plural: match.plural,
    });
  }

  isForbidden(group: string, plural: string, subresource: string | undefined, verb: KubeVerb): boolean {
    return this.#forbidden.some(
      (rule) =>
        rule.plural === plural &&
        (rule.group === undefined || rule.group === group) &&
        rule.subresource === subresource &&
        rule.verbs.has(verb),
    );
  }

  /** The injected Status for this request, if one is pending; consumes it. */
  takeFailure(verb: KubeVerb, plural: string): KubeStatus | undefined {
    const pending = this.#failures.find(
      (failure) =>
        failure.remaining > 0 &&
        (failure.verbs === undefined || failure.verbs.has(verb)) &&
        (failure.plural === undefined || failure.plural === plural),
    );
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    return pending.status;
  }
}
