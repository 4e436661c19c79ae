import type { IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import type { HttpRouteMatch } from '../../resources/resource.js';
import { ROUTE_FAMILY_RANK } from './route-precedence.js';

/** The default match of a rule without matches: every request (`PathPrefix /`). */
export const MATCH_ALL: HttpRouteMatch = { path: { type: 'PathPrefix', value: '/' } };

/** HTTPRouteMatch → IR match. Header names are case-insensitive (lower-cased); query names are not. */
export function translateMatch(match: HttpRouteMatch): IrRouteMatch {
  const pathType = match.path?.type ?? 'PathPrefix';
  const value = match.path?.value ?? '/';
  const path: IrRouteMatch['path'] =
    pathType === 'Exact'
      ? { kind: 'exact', value }
      : pathType === 'RegularExpression'
        ? { kind: 'regex', value }
        : value === '/'
          ? { kind: 'prefix', value: '/' }
          : { kind: 'prefix', value };
  const headers: IrStringMatch[] = (match.headers ?? []).map((h) => ({
    name: h.name.toLowerCase(),
    kind: h.type === 'RegularExpression' ? 'regex' : 'exact',
    value: h.value,
  }));
  const queryParams: IrStringMatch[] = (match.queryParams ?? []).map((q) => ({
    name: q.name,
    kind: q.type === 'RegularExpression' ? 'regex' : 'exact',
    value: q.value,
  }));
  return {
    path,
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParams.length > 0 ? { queryParams } : {}),
    ...(match.method !== undefined ? { method: match.method } : {}),
  };
}

/**
 * HTTPRouteRule precedence across every route of a hostname (gateway.networking.k8s.io/v1
 * HTTPRouteRule) as a sort key (route-precedence.ts): an Exact path, then the longest PathPrefix,
 * then a method match, then the most header matches, then the most query parameter matches.
 * RegularExpression paths are implementation-specific: here after Exact and before PathPrefix,
 * longest first (as Envoy Gateway).
 */
export function rankHttpMatch(m: IrRouteMatch): number[] {
  const kind = m.path.kind === 'exact' ? 0 : m.path.kind === 'regex' ? 1 : 2;
  const len = 'value' in m.path ? m.path.value.length : 0;
  return [ROUTE_FAMILY_RANK.HTTPRoute, kind, -len, m.method !== undefined ? 0 : 1, -(m.headers?.length ?? 0), -(m.queryParams?.length ?? 0)];
}
