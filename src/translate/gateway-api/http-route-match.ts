import type { IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import type { HttpRouteMatch } from '../../resources/resource.js';

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
 * HTTPRouteRule): an Exact path, then the longest PathPrefix, then a method match, then the most
 * header matches, then the most query parameter matches. RegularExpression paths are
 * implementation-specific: here after Exact and before PathPrefix, longest first (as Envoy
 * Gateway). Ties go to the older route, then namespace/name, then rule and match order (the
 * caller sorts stably).
 */
export function compareMatchPrecedence(a: IrRouteMatch, b: IrRouteMatch): number {
  const rank = (m: IrRouteMatch): number => (m.path.kind === 'exact' ? 0 : m.path.kind === 'regex' ? 1 : 2);
  const len = (m: IrRouteMatch): number => ('value' in m.path ? m.path.value.length : 0);
  return (
    rank(a) - rank(b) ||
    len(b) - len(a) ||
    (b.method !== undefined ? 1 : 0) - (a.method !== undefined ? 1 : 0) ||
    (b.headers?.length ?? 0) - (a.headers?.length ?? 0) ||
    (b.queryParams?.length ?? 0) - (a.queryParams?.length ?? 0)
  );
}
