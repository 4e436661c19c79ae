// GRPCRouteMatch → IR match. A gRPC call is an HTTP/2 POST to `/<service>/<method>` (gRPC over
// HTTP/2, "Path"), so a method match becomes a path match and every match requires POST.
import type { IrPathMatch, IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import type { GrpcRouteMatch } from '../../resources/resource.js';
import { ROUTE_FAMILY_RANK } from './route-precedence.js';

/** RE2 for one path segment: what an unset service or method matches. */
const ANY_SEGMENT = '[^/]+';

/**
 * Exact: both → that path; service only → every method of it (prefix `/<service>/`); method only
 * → that method of any service. The CRD's CEL rules keep Exact names to `[A-Za-z0-9_.]`, so they
 * need no escaping in a regex. RegularExpression: each part is RE2 over its own segment; the IR
 * regex must match the whole path, so the parts are grouped to keep an alternation inside its
 * segment.
 */
function pathOf(method: GrpcRouteMatch['method']): IrPathMatch {
  if (!method || (method.service === undefined && method.method === undefined)) return { kind: 'prefix', value: '/' };
  const { service, method: name } = method;
  if ((method.type ?? 'Exact') === 'RegularExpression') {
    return { kind: 'regex', value: `/(?:${service ?? ANY_SEGMENT})/(?:${name ?? ANY_SEGMENT})` };
  }
  if (service !== undefined && name !== undefined) return { kind: 'exact', value: `/${service}/${name}` };
  if (service !== undefined) return { kind: 'prefix', value: `/${service}/` };
  return { kind: 'regex', value: `/${ANY_SEGMENT}/${name ?? ANY_SEGMENT}` };
}

/** Header names are case-insensitive (lower-cased), as for HTTPRoute. */
export function translateGrpcMatch(match: GrpcRouteMatch): IrRouteMatch {
  const headers: IrStringMatch[] = (match.headers ?? []).map((h) => ({
    name: h.name.toLowerCase(),
    kind: h.type === 'RegularExpression' ? 'regex' : 'exact',
    value: h.value,
  }));
  return { path: pathOf(match.method), ...(headers.length > 0 ? { headers } : {}), method: 'POST' };
}

/**
 * GRPCRouteRule precedence (gateway.networking.k8s.io/v1 GRPCRouteRule): the most characters in a
 * matching service, then in a matching method, then the most header matches. Hostnames are ranked
 * by the virtual host already; age and name break ties in the caller. The spec does not say what a
 * RegularExpression's characters are; here its names count as none (a pattern's length says
 * nothing about how narrow it is), so Exact names outrank patterns, and longer patterns come
 * first among themselves.
 */
export function rankGrpcMatch(match: GrpcRouteMatch): number[] {
  const m = match.method;
  const exact = (m?.type ?? 'Exact') === 'Exact';
  return [
    ROUTE_FAMILY_RANK.GRPCRoute,
    exact ? -(m?.service?.length ?? 0) : 0,
    exact ? -(m?.method?.length ?? 0) : 0,
    exact ? 0 : -((m?.service?.length ?? 0) + (m?.method?.length ?? 0)),
    -(match.headers?.length ?? 0),
  ];
}
