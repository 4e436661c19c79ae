// One HTTPRoute rule → one IR route per match (the data plane's route is one match): action,
// filters in the order written, mirrors, timeouts, retry. GRPCRoute rules go through the same
// translateRuleMatches: their filters and backendRefs are a subset of HTTPRoute's.
import type { IrFilter, IrHeaderModifier, IrMirror, IrPathRewrite, IrRedirect, IrRetryCondition, IrRetryPolicy, IrRoute, IrRouteAction, IrRouteMatch, IrTimeouts } from '../../ir/types.js';
import { refOf, type HttpRouteFilter, type HttpRouteRule } from '../../resources/resource.js';
import { parseGatewayDuration } from './durations.js';
import { resolveBackendCluster, weightedBackend, type BackendContext, type BackendRefLike } from './http-route-backends.js';
import { MATCH_ALL, translateMatch } from './http-route-match.js';
import { firstInvalidRegex } from './invalid-regex.js';

/** What HTTPRoute and GRPCRoute rules share (GRPCRoute filters are HTTPRoute filter types). */
export interface RouteRuleLike {
  readonly filters?: readonly HttpRouteFilter[];
  readonly backendRefs?: readonly (BackendRefLike & { readonly weight?: number; readonly filters?: readonly HttpRouteFilter[] })[];
  readonly timeouts?: HttpRouteRule['timeouts'];
}

type Header = { readonly name: string; readonly value: string };
type HeaderFilter = { readonly set?: readonly Header[]; readonly add?: readonly Header[]; readonly remove?: readonly string[] };

function headerModifier(f: HeaderFilter): IrHeaderModifier {
  return {
    ...(f.set && f.set.length > 0 ? { set: f.set.map((h) => ({ name: h.name, value: h.value })) } : {}),
    ...(f.add && f.add.length > 0 ? { add: f.add.map((h) => ({ name: h.name, value: h.value })) } : {}),
    ...(f.remove && f.remove.length > 0 ? { remove: [...f.remove] } : {}),
  };
}

type PathModifier = { readonly type: string; readonly replaceFullPath?: string; readonly replacePrefixMatch?: string };

/** ReplacePrefixMatch replaces the part the PathPrefix match matched (`/` when the match has none). */
function pathRewrite(modifier: PathModifier, match: IrRouteMatch): IrPathRewrite | undefined {
  if (modifier.type === 'ReplaceFullPath') return { kind: 'full', value: modifier.replaceFullPath ?? '/' };
  if (match.path.kind !== 'prefix') return undefined;
  return { kind: 'prefix', matchedPrefix: match.path.value, value: modifier.replacePrefixMatch ?? '/' };
}

interface FilterOutcome {
  readonly filters: IrFilter[];
  readonly mirrors: IrMirror[];
  redirect?: IrRedirect;
  unsupported?: string;
}

function translateFilters(filters: readonly HttpRouteFilter[], match: IrRouteMatch, fieldPath: string, ctx: BackendContext, perBackend: boolean): FilterOutcome {
  const out: FilterOutcome = { filters: [], mirrors: [] };
  filters.forEach((f, i) => {
    const path = `${fieldPath}[${i}]`;
    switch (f.type) {
      case 'RequestHeaderModifier':
        if (f.requestHeaderModifier) out.filters.push({ kind: 'request-header-modifier', modifier: headerModifier(f.requestHeaderModifier) });
        return;
      case 'ResponseHeaderModifier':
        if (f.responseHeaderModifier) out.filters.push({ kind: 'response-header-modifier', modifier: headerModifier(f.responseHeaderModifier) });
        return;
      case 'URLRewrite': {
        const rw = f.urlRewrite;
        if (!rw) return;
        const rewrite = rw.path ? pathRewrite(rw.path, match) : undefined;
        if (rw.path && !rewrite) {
          out.unsupported ??= `${path}: ReplacePrefixMatch needs a PathPrefix match`;
          return;
        }
        out.filters.push({ kind: 'url-rewrite', ...(rw.hostname !== undefined ? { hostname: rw.hostname } : {}), ...(rewrite ? { path: rewrite } : {}) });
        return;
      }
      case 'RequestRedirect': {
        const r = f.requestRedirect;
        if (!r || perBackend) {
          out.unsupported ??= `${path}: RequestRedirect is not allowed on a backendRef`;
          return;
        }
        const rewrite = r.path ? pathRewrite(r.path, match) : undefined;
        if (r.path && !rewrite) {
          out.unsupported ??= `${path}: ReplacePrefixMatch needs a PathPrefix match`;
          return;
        }
        out.redirect = {
          ...(r.scheme === 'http' || r.scheme === 'https' ? { scheme: r.scheme } : {}),
          ...(r.hostname !== undefined ? { hostname: r.hostname } : {}),
          ...(r.port !== undefined ? { port: r.port } : {}),
          ...(rewrite ? { path: rewrite } : {}),
          status: r.statusCode ?? 302,
        };
        return;
      }
      case 'CORS': {
        const c = f.cors;
        if (!c) return;
        out.filters.push({
          kind: 'cors',
          cors: {
            allowOrigins: [...(c.allowOrigins ?? [])],
            ...(c.allowMethods ? { allowMethods: [...c.allowMethods] } : {}),
            ...(c.allowHeaders ? { allowHeaders: [...c.allowHeaders] } : {}),
            ...(c.exposeHeaders ? { exposeHeaders: [...c.exposeHeaders] } : {}),
            ...(c.maxAge !== undefined ? { maxAgeSeconds: c.maxAge } : {}),
            ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
          },
        });
        return;
      }
      case 'RequestMirror': {
        const m = f.requestMirror;
        if (!m) return;
        const { cluster, ok } = resolveBackendCluster(m.backendRef, `${path}.requestMirror.backendRef`, ctx);
        if (!ok) return;
        const percent = m.percent ?? (m.fraction ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : undefined);
        out.mirrors.push(percent === undefined ? { cluster } : { cluster, percent });
        return;
      }
      default:
        out.unsupported ??= `${path}: filter type ${f.type} is not supported`;
    }
  });
  return out;
}

function timeoutsOf(rule: RouteRuleLike): IrTimeouts | undefined {
  const t = rule.timeouts;
  if (!t) return undefined;
  const requestMs = t.request !== undefined ? parseGatewayDuration(t.request) : undefined;
  const backendRequestMs = t.backendRequest !== undefined ? parseGatewayDuration(t.backendRequest) : undefined;
  if (requestMs === undefined && backendRequestMs === undefined) return undefined;
  return { ...(requestMs !== undefined ? { requestMs } : {}), ...(backendRequestMs !== undefined ? { backendRequestMs } : {}) };
}

/**
 * HTTPRouteRetry (GEP-1731). `attempts` counts retries (absent: 1). Every retry stanza retries what
 * never produced a response: a failed connection, a reset, a try that outlived
 * `timeouts.backendRequest` (conformance HTTPRouteRetryWithTimeouts retries those with no `codes`);
 * `codes` adds exactly those statuses. `backoff` is the minimum wait, grown exponentially with
 * jitter up to 10 × itself; absent, Envoy's 25 ms.
 */
function retryOf(rule: RouteRuleLike): IrRetryPolicy | undefined {
  const r = (rule as { readonly retry?: { readonly attempts?: number; readonly codes?: readonly number[]; readonly backoff?: string } }).retry;
  if (!r) return undefined;
  const baseMs = r.backoff !== undefined ? parseGatewayDuration(r.backoff) : undefined;
  const retryOn: IrRetryCondition[] = [{ kind: 'connect-failure' }, { kind: 'reset' }, { kind: 'per-try-timeout' }];
  if (r.codes && r.codes.length > 0) retryOn.push({ kind: 'retriable-status-codes', codes: [...r.codes] });
  return {
    attempts: r.attempts ?? 1,
    retryOn,
    ...(baseMs !== undefined ? { backoff: { baseMs } } : {}),
  };
}

/** Answered with the documented local reply `invalid_route` (500); the diagnostic names the cause. */
const FIVE_HUNDRED = (_why: string, _route: string): IrRouteAction => ({ kind: 'reject', reason: 'invalid_route' });

/** The IR routes of one HTTPRoute rule, one per match. */
export function translateRule(rule: HttpRouteRule, ruleIndex: number, ctx: BackendContext): IrRoute[] {
  const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [MATCH_ALL];
  return translateRuleMatches(rule, ruleIndex, matches.map(translateMatch), ctx);
}

/** The IR routes of one rule, given its matches already in IR form (one route per match). */
export function translateRuleMatches(rule: RouteRuleLike, ruleIndex: number, matches: readonly IrRouteMatch[], ctx: BackendContext): IrRoute[] {
  const route = ctx.route;
  const rulePath = `spec.rules[${ruleIndex}]`;
  // A rule with a pattern RE2 refuses is dropped whole (as Envoy Gateway does); the route reports
  // it (PartiallyInvalid, or Accepted False when no rule is left) and the rest keeps serving.
  const badRegex = firstInvalidRegex(matches, route.kind);
  if (badRegex !== undefined) {
    const message = `${badRegex.message}; the rule is not served`;
    ctx.diagnostics.push({ severity: 'error', code: 'ERR_ROUTE_INVALID_VALUE', object: refOf(route), source: route.source, path: `${rulePath}.${badRegex.path}`, message });
    ctx.invalidRules.push(`${rulePath}.${badRegex.path}: ${message}`);
    return [];
  }
  return matches.map((match, m): IrRoute => {
    const name = `${ctx.routeName}/rule/${ruleIndex}/match/${m}`;
    // Backend problems are recorded once per rule, not once per match.
    const quiet: BackendContext = m === 0 ? ctx : { ...ctx, diagnostics: [], problems: [], invalidRules: [] };
    const routeFilters = translateFilters(rule.filters ?? [], match, `${rulePath}.filters`, quiet, false);
    const timeouts = timeoutsOf(rule);
    const retry = retryOf(rule);
    const base = {
      name,
      origin: refOf(route),
      match,
      ...(timeouts ? { timeouts } : {}),
      ...(retry ? { retry } : {}),
    };
    if (routeFilters.unsupported !== undefined) {
      if (m === 0) {
        ctx.diagnostics.push({ severity: 'error', code: 'ERR_ROUTE_UNSUPPORTED', object: refOf(route), source: route.source, path: rulePath, message: `${routeFilters.unsupported}; the rule answers 500` });
      }
      return { ...base, action: FIVE_HUNDRED('unsupported_filter', name), filters: [] };
    }
    if (routeFilters.redirect) return { ...base, action: { kind: 'redirect', redirect: routeFilters.redirect }, filters: routeFilters.filters };
    const backends = (rule.backendRefs ?? []).map((ref, b) => {
      const path = `${rulePath}.backendRefs[${b}]`;
      const { cluster } = resolveBackendCluster(ref, path, quiet);
      const own = translateFilters(ref.filters ?? [], match, `${path}.filters`, quiet, true);
      return weightedBackend(cluster, ref.weight ?? 1, own.filters);
    });
    const mirrors = routeFilters.mirrors;
    const withMirrors = mirrors.length > 0 ? { mirrors } : {};
    // "If no backendRefs or filters specified that would result in a response being sent, a 500
    // status code MUST be returned"; so do backendRefs that all have weight 0.
    if (backends.every((b) => b.weight === 0)) return { ...base, action: FIVE_HUNDRED('no_backends', name), filters: routeFilters.filters, ...withMirrors };
    return { ...base, action: { kind: 'forward', backends }, filters: routeFilters.filters, ...withMirrors };
  });
}
