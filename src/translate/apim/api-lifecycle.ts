// One API version → what its routes do: `draft` is not served (the route answers 404, as if it
// did not exist, without running its filters or reaching its backends); `published`, `deprecated`
// and `retired` carry an IrApiLifecycle, which the api-lifecycle filter turns into Deprecation,
// Sunset and Link headers, or a 410 with a successor Link for retired versions.
// `successor` names another version of the API (its URL is the path its first route matches, a
// relative reference that the Link header resolves against the request) or is a URL. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrApiLifecycle } from '../../ir/apim.js';
import type { IrRoute } from '../../ir/types.js';
import { refOf, type Api } from '../../resources/resource.js';
import type { ApiVersion } from '../../resources/apim-kinds.js';

export type VersionTreatment = { readonly kind: 'draft' } | { readonly kind: 'lifecycle'; readonly lifecycle: IrApiLifecycle };

export interface VersionEvaluation {
  readonly treatment: VersionTreatment;
  readonly invalid?: string;
}

export function apiName(api: Api): string {
  return `api/${api.metadata.namespace ?? 'default'}/${api.metadata.name}`;
}

/** The path a route's match starts with, for a successor Link: exact and prefix matches only. */
export function linkPathOf(route: IrRoute): string | undefined {
  const p = route.match.path;
  return p.kind === 'exact' || p.kind === 'prefix' || p.kind === 'string-prefix' ? p.value : undefined;
}

const ABSOLUTE = /^https?:\/\//;

export function evaluateApiVersion(api: Api, version: ApiVersion, v: number, successorPath: (versionName: string) => string | undefined, diagnostics: Diagnostic[]): VersionEvaluation {
  if (version.stage === 'draft') return { treatment: { kind: 'draft' } };
  const problems: string[] = [];
  const invalid = (path: string, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_INVALID', object: refOf(api), source: api.source, path, message });
    problems.push(`${path}: ${message}`);
  };
  const path = `spec.versions[${v}]`;
  const time = (field: 'deprecatedAt' | 'sunsetAt'): string | undefined => {
    const value = version[field];
    if (value === undefined) return undefined;
    if (Number.isNaN(Date.parse(value))) {
      invalid(`${path}.${field}`, `expected an RFC 3339 time, found "${value}"; left out`);
      return undefined;
    }
    return value;
  };
  let successor: string | undefined;
  if (version.successor !== undefined) {
    const s = version.successor;
    if (api.spec.versions.some((other) => other.name === s)) {
      if (s === version.name) invalid(`${path}.successor`, 'a version cannot succeed itself; left out');
      else {
        successor = successorPath(s);
        if (successor === undefined) invalid(`${path}.successor`, `version "${s}" has no served route with a path prefix or exact path to link to; left out (give a URL instead)`);
      }
    } else if (ABSOLUTE.test(s) || s.startsWith('/')) successor = s;
    else invalid(`${path}.successor`, `expected the name of a version of this API (${api.spec.versions.map((o) => o.name).join(', ')}) or a URL, found "${s}"; left out`);
  }
  const deprecatedAt = time('deprecatedAt');
  const sunsetAt = time('sunsetAt');
  const policy = version.stage === 'published' ? undefined : api.spec.deprecationPolicy;
  const lifecycle: IrApiLifecycle = {
    api: `${apiName(api)}/${version.name}`,
    stage: version.stage,
    ...(deprecatedAt !== undefined ? { deprecatedAt } : {}),
    ...(sunsetAt !== undefined ? { sunsetAt } : {}),
    ...(successor !== undefined ? { successor } : {}),
    ...(policy !== undefined ? { policyLink: policy } : {}),
  };
  return problems.length === 0 ? { treatment: { kind: 'lifecycle', lifecycle } } : { treatment: { kind: 'lifecycle', lifecycle }, invalid: problems[0]! };
}
