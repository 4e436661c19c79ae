// One VirtualService `http` route → IR routes, one per match (the IR's route is one match), in the
// order written: Istio's http routes are first-match, and so is the IR, so nothing is re-sorted.
// Action (route | redirect | directResponse), filters (CORS, header operations, rewrite), timeout,
// retries (Istio's default policy when `retries` is absent), mirrors. A delegating route is first
// replaced by its delegate's routes (virtual-service-delegates.ts). A unit that cannot be served
// answers 500 for its share (a destination) or for the route (an invalid rewrite), never silently
// disappears, so first-match order stays what the YAML says; a delegate route that cannot be
// merged is left out, as Istio does, with an error.
import type { IstioSource } from './source-match.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import { compileFullMatchRegex, compileRegexRewrite } from '../../core/linear-regex.js';
import type { IrCors, IrFilter, IrOriginPattern, IrHeaderModifier, IrMirror, IrPathRewrite, IrRetryCondition, IrRetryPolicy, IrRoute, IrRouteAction, IrTimeouts, IrWeightedBackend } from '../../ir/types.js';
import { refOf, type VirtualService } from '../../resources/resource.js';
import type { IstioDestination, IstioHeaders, IstioHttpMatch, IstioHttpRoute } from '../../resources/istio-kinds.js';
import type { IstioClusters } from './destination-rules.js';
import { parseIstioDuration } from './istio-durations.js';
import { blameOf, expandDelegates, type FindVirtualService, type HttpRouteSource } from './virtual-service-delegates.js';
import { translateIstioMatch } from './virtual-service-match.js';

export interface IstioRoute {
  readonly route: IrRoute;
  /** Match `port`: only the listener on this port serves it. */
  readonly port?: number;
  /** Match `gateways` (`namespace/name`): only servers of these Gateways serve it. */
  readonly gateways?: readonly string[];
  /** False when the match names gateways and not `mesh`: sidecars leave the route out. */
  readonly meshBound: boolean;
  /** Match `sourceLabels` / `sourceNamespace`: only proxies that have them serve it (source-match.ts). */
  readonly source?: IstioSource;
}

export interface VirtualServiceContext {
  readonly clusters: IstioClusters;
  readonly diagnostics: Diagnostic[];
  /** The namespace of the proxy using the routes (the Gateway's, the sidecar's): whose DestinationRules and ServiceEntries apply. */
  readonly clientNamespace: string;
  /** The gateway port the routes serve: the destination port when a multi-port Service's is left out. */
  readonly listenerPort?: number;
  /** Looks up delegate VirtualServices; without it a delegating route is not served. */
  readonly findVirtualService?: FindVirtualService;
}

/**
 * Istio's default retry policy when a route says nothing (pilot's DefaultPolicy): 2 retries on
 * connect-failure, refused-stream, unavailable, cancelled and retriable-status-codes 503. The gRPC
 * pair is read from a trailers-only answer's grpc-status; a gRPC body is streamed with a copy kept
 * for the retry (replayable-body.ts teeBody), so streaming calls are never held back.
 */
export const ISTIO_DEFAULT_RETRY: IrRetryPolicy = {
  attempts: 2,
  // `unavailable` and `cancelled` are gRPC statuses 14 and 1.
  retryOn: [{ kind: 'connect-failure' }, { kind: 'reset' }, { kind: 'retriable-status-codes', codes: [503] }, { kind: 'grpc-status', codes: [1, 14] }],
  allowNonIdempotent: true,
};

/** Envoy's x-envoy-retry-grpc-on names → the gRPC status codes they mean. */
const GRPC_CONDITIONS: ReadonlyMap<string, number> = new Map([['cancelled', 1], ['deadline-exceeded', 4], ['resource-exhausted', 8], ['internal', 13], ['unavailable', 14]]);

/** `namespace/name` of a gateway reference as written in a VirtualService in `namespace`; undefined for `mesh`. */
export function gatewayRefKey(ref: string, namespace: string): string | undefined {
  if (ref === 'mesh') return undefined;
  return ref.includes('/') ? ref : `${namespace}/${ref}`;
}

/**
 * Istio treats `:authority` and `Host` in header operations as the upstream authority, not as a
 * header (pilot's TranslateHeadersOperations: `isAuthorityHeader`; `set` wins over `add`), and
 * drops every other pseudo-header and `remove: [host]` (`isInternalHeader`): Envoy cannot write
 * them, and an HTTP/1.1 upstream would refuse a `:authority` field. The authority becomes a Host
 * rewrite (Envoy `host_rewrite_literal`).
 */
interface HeaderOperations {
  readonly filters: IrFilter[];
  /** The authority `set` (or else `add`) names in `request`, if any. */
  readonly authority?: string;
}

function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ':authority' || lower === 'host';
}

function isInternalHeader(name: string): boolean {
  return name.startsWith(':') || name.toLowerCase() === 'host';
}

function headerModifier(ops: NonNullable<IstioHeaders['request']> | undefined, at: string, report: Report | undefined): { modifier?: IrHeaderModifier; authority?: string } {
  if (!ops) return {};
  let authority: string | undefined;
  const toList = (r: Readonly<Record<string, string>> | undefined, op: 'set' | 'add') =>
    Object.entries(r ?? {}).flatMap(([name, value]) => {
      if (isAuthorityHeader(name)) {
        // `set` is read after `add`, so it wins, as pilot picks `set` when both name it.
        if (op === 'set' || authority === undefined) authority = value;
        return [];
      }
      if (isInternalHeader(name)) {
        report?.('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.${op}`, `pseudo-header "${name}" cannot be set (only :authority can, as the upstream Host); ignored`);
        return [];
      }
      return [{ name, value }];
    });
  const add = toList(ops.add, 'add');
  const set = toList(ops.set, 'set');
  const remove = (ops.remove ?? []).filter((n) => !isInternalHeader(n));
  const withAuthority = authority !== undefined ? { authority } : {};
  if (set.length + add.length + remove.length === 0) return withAuthority;
  return { modifier: { ...(set.length > 0 ? { set } : {}), ...(add.length > 0 ? { add } : {}), ...(remove.length > 0 ? { remove } : {}) }, ...withAuthority };
}

function headerOperations(headers: IstioHeaders | undefined, at: string, report?: Report): HeaderOperations {
  const filters: IrFilter[] = [];
  const request = headerModifier(headers?.request, `${at}.request`, report);
  // Response headers have no authority: `:authority`/`host` there is dropped like any pseudo-header.
  const response = headerModifier(headers?.response, `${at}.response`, report);
  if (request.modifier) filters.push({ kind: 'request-header-modifier', modifier: request.modifier });
  if (response.modifier) filters.push({ kind: 'response-header-modifier', modifier: response.modifier });
  return { filters, ...(request.authority !== undefined ? { authority: request.authority } : {}) };
}

export function translateVirtualServiceRoutes(vs: VirtualService, ctx: VirtualServiceContext): IstioRoute[] {
  const out: IstioRoute[] = [];
  // Delegating routes are replaced by their delegate's routes, merged (virtual-service-delegates.ts).
  const sources = ctx.findVirtualService ? expandDelegates(vs, ctx.findVirtualService, ctx.diagnostics) : vs.spec.http.map((http, i) => ({ http, owner: vs, at: `spec.http[${i}]`, name: `virtualservice/${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}/http/${i}` }) as HttpRouteSource);
  for (const source of sources) {
    const { http, at, name: routeName, matchPaths } = source;
    // Diagnostics blame the object that wrote the field (a delegate, or its root for what the
    // delegate inherits), and destinations resolve in that object's namespace.
    const report = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
      const blame = blameOf(source, path);
      ctx.diagnostics.push({ severity, code, object: refOf(blame.owner), source: blame.owner.source, path: blame.path, message });
    };
    const resolve = (dest: IstioDestination, path: string): string => {
      const ns = blameOf(source, path).owner.metadata.namespace ?? 'default';
      const r = ctx.clusters.resolve(dest.host, dest.subset, dest.port?.number, ns, ctx.clientNamespace, ctx.listenerPort);
      if (r.kind === 'ok') return r.cluster;
      report('error', r.code, path, `${r.message}; its share of requests gets 500`);
      return `invalid/${routeName}/${path}`;
    };
    const routeHeaders = headerOperations(http.headers, `${at}.headers`, report);
    // pilot: `rewrite.authority` wins over a header-set authority; either one wins over a destination's.
    const routeAuthority = http.rewrite?.authority ?? routeHeaders.authority;
    const action = translateAction(http, at, resolve, report, ctx.listenerPort, routeAuthority !== undefined);
    const filters = [...translateFilters(http, at, report), ...routeHeaders.filters];
    const timeouts = translateTimeouts(http, at, report);
    const retry = translateRetry(http, at, report);
    const mirrors = translateMirrors(http, at, resolve);
    const matches: readonly (IstioHttpMatch | undefined)[] = http.match && http.match.length > 0 ? http.match : [undefined];
    matches.forEach((m, j) => {
      const name = m === undefined ? routeName : `${routeName}/match/${j}`;
      let match: IrRoute['match'] = { path: { kind: 'any' } };
      let port: number | undefined;
      let gateways: readonly string[] | undefined;
      let meshBound = true;
      let proxySource: IstioSource | undefined;
      const routeAction = action.kind === 'redirect' ? redirectForMatch(action, http, m, `${at}.redirect`, report) : action;
      if (m !== undefined) {
        const result = translateIstioMatch(m, matchPaths?.[j] ?? `${at}.match[${j}]`);
        if (result.kind === 'invalid' || result.kind === 'unsupported') {
          // The route is dropped (it could match too much or too little); later routes still serve.
          report('error', result.kind === 'invalid' ? 'ERR_ROUTE_INVALID_VALUE' : 'ERR_ISTIO_UNSUPPORTED', result.path, `${result.message}; this match is dropped`);
          return;
        }
        for (const u of result.unsupported) report('warning', 'ERR_ISTIO_UNSUPPORTED', u.path, u.message);
        match = result.match;
        port = result.port;
        // Gateway names resolve in the root's namespace, merged matches included (pilot resolves
        // them after merging, against the root).
        gateways = result.gateways?.flatMap((g) => gatewayRefKey(g, vs.metadata.namespace ?? 'default') ?? []);
        meshBound = result.gateways === undefined || result.gateways.includes('mesh');
        proxySource = result.source;
      }
      const rewrite = translateRewrite(http, m, `${at}.rewrite`, report, routeAuthority);
      // Filters in one list; the data plane runs them in its own fixed order (filter-order.ts).
      const routeFilters = rewrite.filter ? [...filters, rewrite.filter] : filters;
      const route: IrRoute = {
        name,
        origin: refOf(source.owner),
        match,
        action: rewrite.invalid ? { kind: 'reject', reason: 'invalid_route' } : routeAction,
        filters: routeFilters,
        ...(timeouts ? { timeouts } : {}),
        ...(retry && routeAction.kind === 'forward' ? { retry } : {}),
        ...(mirrors.length > 0 ? { mirrors } : {}),
      };
      out.push({ route, meshBound, ...(proxySource !== undefined ? { source: proxySource } : {}), ...(port !== undefined ? { port } : {}), ...(gateways !== undefined ? { gateways } : {}) });
    });
  }
  return out;
}

type Report = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string) => void;

function translateAction(
  http: IstioHttpRoute,
  at: string,
  resolve: (d: IstioDestination, path: string) => string,
  report: Report,
  listenerPort: number | undefined,
  routeSetsAuthority: boolean,
): IrRouteAction {
  if (http.directResponse) {
    const body = http.directResponse.body;
    const text = body?.string ?? (body?.bytes !== undefined ? Buffer.from(body.bytes, 'base64').toString('utf8') : undefined);
    return { kind: 'respond', status: http.directResponse.status, ...(text !== undefined ? { body: text, contentType: 'text/plain' } : {}) };
  }
  if (http.redirect) {
    const r = http.redirect;
    const scheme = r.scheme === undefined ? undefined : r.scheme.toLowerCase();
    if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') report('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.redirect.scheme`, `scheme "${r.scheme}" is not http or https; the request's scheme is kept`);
    const status = r.redirectCode ?? 301;
    // Envoy keeps the request's port when only the scheme changes (derivePort unset, or
    // FROM_REQUEST_PORT, which pilot leaves to that default), unless derivePort says to use the
    // scheme's default; the IR drops it on a scheme change, so the gateway port is written. Without
    // a scheme change the IR keeps the request's port by itself.
    const port = r.port ?? (scheme !== undefined && r.derivePort !== 'FROM_PROTOCOL_DEFAULT' ? listenerPort : undefined);
    return {
      kind: 'redirect',
      redirect: {
        status,
        ...(scheme === 'http' || scheme === 'https' ? { scheme } : {}),
        ...(r.authority !== undefined ? { hostname: r.authority } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(r.uri !== undefined ? { path: { kind: 'full', value: r.uri } } : {}),
      },
    };
  }
  if (http.delegate) {
    // Only reached without a delegate lookup; expandDelegates replaces delegating routes.
    report('error', 'ERR_ISTIO_DELEGATE_INVALID', `${at}.delegate`, 'delegates are not looked up here; this route answers 500');
    return { kind: 'reject', reason: 'invalid_route' };
  }
  const destinations = http.route ?? [];
  if (destinations.length === 0) {
    report('error', 'ERR_RESOURCE_INVALID', at, 'expected one of route, redirect, directResponse or delegate; this route answers 500');
    return { kind: 'reject', reason: 'invalid_route' };
  }
  const anyWeight = destinations.some((d) => d.weight !== undefined);
  const backends: IrWeightedBackend[] = destinations.map((d, k) => {
    const path = `${at}.route[${k}].destination`;
    const cluster = resolve(d.destination, path);
    // One destination takes everything; several without any weight share equally.
    const weight = d.weight ?? (destinations.length === 1 ? 100 : anyWeight ? 0 : 1);
    const ops = headerOperations(d.headers, `${at}.route[${k}].headers`, report);
    // A destination's authority applies only when the route sets none (pilot's processDestination:
    // "only override if the top level rewrite is not set"); the same rule for weighted destinations.
    const filters: IrFilter[] = ops.authority !== undefined && !routeSetsAuthority ? [...ops.filters, { kind: 'url-rewrite', hostname: ops.authority }] : ops.filters;
    return filters.length > 0 ? { cluster, weight, filters } : { cluster, weight };
  });
  return { kind: 'forward', backends };
}

/**
 * `redirect.uri` replaces the whole path, whatever the match (Istio's HTTPRedirect: "the entire
 * path will be replaced, irrespective of the request URI being matched as an exact path or
 * prefix"); `redirect.prefixRewrite` replaces only the matched prefix, or the whole path after an
 * exact match, as Envoy's redirect `prefix_rewrite` does. Both depend on the match, so the
 * redirect is finished here, once per match.
 */
function redirectForMatch(action: Extract<IrRouteAction, { kind: 'redirect' }>, http: IstioHttpRoute, m: IstioHttpMatch | undefined, at: string, report: Report): IrRouteAction {
  const value = http.redirect?.prefixRewrite;
  if (value === undefined) return action;
  if (http.redirect?.uri !== undefined) {
    report('warning', 'ERR_RESOURCE_INVALID', `${at}.prefixRewrite`, 'uri and prefixRewrite are exclusive; uri replaces the whole path and prefixRewrite is ignored');
    return action;
  }
  const uri = m?.uri;
  let path: IrPathRewrite;
  if (uri?.exact !== undefined) path = { kind: 'full', value };
  else if (uri?.prefix !== undefined) path = { kind: 'prefix', matchedPrefix: uri.prefix, value };
  else if (uri?.regex !== undefined) {
    report('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.prefixRewrite`, 'a regex-matched path has no prefix to replace; the path is kept');
    return action;
  } else path = { kind: 'prefix', matchedPrefix: '/', value };
  return { kind: 'redirect', redirect: { ...action.redirect, path } };
}

/** gRPC status names (Istio writes `grpcStatus: UNAVAILABLE`) → codes. */
const GRPC_CODES: Readonly<Record<string, number>> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** HTTPFaultInjection → the IR fault filter. A share left unset means every request (Istio's examples always set it). */
function translateFault(http: IstioHttpRoute, at: string, report: Report): IrFilter | undefined {
  const f = http.fault;
  if (f === undefined) return undefined;
  const fault: { delay?: { ms: number; percent: number }; abort?: { httpStatus?: number; grpcStatus?: number; percent: number } } = {};
  if (f.delay !== undefined) {
    const ms = f.delay.fixedDelay !== undefined ? parseIstioDuration(f.delay.fixedDelay) : undefined;
    if (ms === undefined) report('warning', 'ERR_RESOURCE_INVALID', `${at}.fault.delay.fixedDelay`, `expected a duration such as "5s", found ${JSON.stringify(f.delay.fixedDelay ?? null)}; no delay is injected`);
    else fault.delay = { ms, percent: f.delay.percentage?.value ?? f.delay.percent ?? 100 };
  }
  if (f.abort !== undefined) {
    const percent = f.abort.percentage?.value ?? 100;
    if (f.abort.httpStatus !== undefined) fault.abort = { httpStatus: f.abort.httpStatus, percent };
    else if (f.abort.grpcStatus !== undefined) {
      const code = GRPC_CODES[f.abort.grpcStatus.toUpperCase()];
      if (code === undefined) report('warning', 'ERR_RESOURCE_INVALID', `${at}.fault.abort.grpcStatus`, `expected a gRPC status name such as "UNAVAILABLE", found "${f.abort.grpcStatus}"; no abort is injected`);
      else fault.abort = { grpcStatus: code, percent };
    } else report('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.fault.abort`, 'only httpStatus and grpcStatus aborts are implemented; no abort is injected');
  }
  return fault.delay === undefined && fault.abort === undefined ? undefined : { kind: 'fault', fault };
}

function translateFilters(http: IstioHttpRoute, at: string, report: Report): IrFilter[] {
  const out: IrFilter[] = [];
  const fault = translateFault(http, at, report);
  if (fault !== undefined) out.push(fault);
  const cors = http.corsPolicy;
  if (cors) {
    const origins: string[] = [...(cors.allowOrigin ?? [])];
    const patterns: IrOriginPattern[] = [];
    (cors.allowOrigins ?? []).forEach((o, k) => {
      if (o.exact !== undefined) origins.push(o.exact);
      // `*` as a prefix or regex is pilot's "any origin" (not RE2 for `*`).
      else if (o.prefix === '*' || o.regex === '.*' || o.regex === '*') origins.push('*');
      else if (o.prefix !== undefined) patterns.push({ kind: 'prefix', value: o.prefix });
      else if (o.regex !== undefined) {
        const compiled = compileFullMatchRegex(o.regex);
        if (compiled.kind === 'invalid') report('error', 'ERR_ROUTE_INVALID_VALUE', `${at}.corsPolicy.allowOrigins[${k}].regex`, `${compiled.message}; this origin is not allowed`);
        else patterns.push({ kind: 'regex', value: o.regex });
      } else report('warning', 'ERR_RESOURCE_INVALID', `${at}.corsPolicy.allowOrigins[${k}]`, 'expected one of exact, prefix or regex; this entry allows no origin');
    });
    const maxAge = cors.maxAge !== undefined ? parseIstioDuration(cors.maxAge) : undefined;
    if (cors.maxAge !== undefined && maxAge === undefined) report('warning', 'ERR_RESOURCE_INVALID', `${at}.corsPolicy.maxAge`, `expected a duration such as "24h", found "${cors.maxAge}"; no max age is sent`);
    const unmatched = cors.unmatchedPreflights;
    if (unmatched !== undefined && unmatched !== 'FORWARD' && unmatched !== 'IGNORE' && unmatched !== 'UNSPECIFIED') {
      report('warning', 'ERR_RESOURCE_INVALID', `${at}.corsPolicy.unmatchedPreflights`, `expected FORWARD or IGNORE, found "${unmatched}"; unmatched preflights are forwarded`);
    }
    const ir: IrCors = {
      allowOrigins: origins,
      ...(cors.allowMethods ? { allowMethods: [...cors.allowMethods] } : {}),
      ...(cors.allowHeaders ? { allowHeaders: [...cors.allowHeaders] } : {}),
      ...(cors.exposeHeaders ? { exposeHeaders: [...cors.exposeHeaders] } : {}),
      ...(maxAge !== undefined ? { maxAgeSeconds: Math.floor(maxAge / 1000) } : {}),
      ...(cors.allowCredentials !== undefined ? { allowCredentials: cors.allowCredentials } : {}),
      ...(patterns.length > 0 ? { allowOriginPatterns: patterns } : {}),
      // Istio's default (UNSPECIFIED) is FORWARD, Envoy's default; IGNORE answers them here.
      ...(unmatched === 'IGNORE' ? { unmatchedPreflight: 'respond' as const } : {}),
      listSeparator: ',',
    };
    out.push({ kind: 'cors', cors: ir });
  }
  return out;
}

/**
 * `rewrite.uri` replaces the matched prefix (a prefix match) or the whole path (an exact or a
 * regex match: "if the original URI was matched based on a regex, path will be replaced with this
 * value"), as Envoy's prefix_rewrite does for the route Istio generates. `rewrite.uriRegexRewrite`
 * replaces every match of its RE2 pattern in the path (Envoy regex_rewrite; `\1` is a capture
 * group). `rewrite.authority` sets Host. `invalid`: a pattern RE2 refuses, the route answers 500.
 */
function translateRewrite(http: IstioHttpRoute, m: IstioHttpMatch | undefined, at: string, report: Report, authority: string | undefined): { filter?: IrFilter; invalid?: true } {
  const rw = http.rewrite;
  if (!rw) return authority !== undefined ? { filter: { kind: 'url-rewrite', hostname: authority } } : {};
  let path: IrPathRewrite | undefined;
  if (rw.uriRegexRewrite !== undefined) {
    const { match: pattern, rewrite: substitution } = rw.uriRegexRewrite;
    if (rw.uri !== undefined) report('warning', 'ERR_RESOURCE_INVALID', `${at}.uri`, 'uri and uriRegexRewrite are exclusive; uriRegexRewrite is used');
    const compiled = compileRegexRewrite(pattern, substitution);
    if (compiled.kind === 'invalid') {
      report('error', 'ERR_ROUTE_INVALID_VALUE', `${at}.uriRegexRewrite`, `${compiled.message}; this route answers 500`);
      return { invalid: true };
    }
    path = { kind: 'regex', pattern, substitution };
  } else if (rw.uri !== undefined) {
    const uri = m?.uri;
    if (uri?.prefix !== undefined) path = { kind: 'prefix', matchedPrefix: uri.prefix, value: rw.uri };
    else if (uri !== undefined) path = { kind: 'full', value: rw.uri };
    else path = { kind: 'prefix', matchedPrefix: '/', value: rw.uri };
  }
  if (path === undefined && authority === undefined) return {};
  return { filter: { kind: 'url-rewrite', ...(authority !== undefined ? { hostname: authority } : {}), ...(path ? { path } : {}) } };
}

function translateTimeouts(http: IstioHttpRoute, at: string, report: Report): IrTimeouts | undefined {
  const duration = (text: string | undefined, path: string): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseIstioDuration(text);
    if (ms === undefined) report('warning', 'ERR_RESOURCE_INVALID', path, `expected a duration such as "1s" or "500ms", found "${text}"; ignored`);
    return ms;
  };
  const requestMs = duration(http.timeout, `${at}.timeout`);
  const backendRequestMs = http.retries && (http.retries.attempts ?? 0) > 0 ? duration(http.retries.perTryTimeout, `${at}.retries.perTryTimeout`) : undefined;
  if (requestMs === undefined && backendRequestMs === undefined) return undefined;
  return { ...(requestMs !== undefined ? { requestMs } : {}), ...(backendRequestMs !== undefined ? { backendRequestMs } : {}) };
}

function translateRetry(http: IstioHttpRoute, at: string, report: Report): IrRetryPolicy | undefined {
  const r = http.retries;
  if (!r) return ISTIO_DEFAULT_RETRY;
  const attempts = r.attempts ?? 0;
  if (attempts === 0) return undefined;
  if (r.retryOn === undefined) return { ...ISTIO_DEFAULT_RETRY, attempts };
  const conditions: IrRetryCondition[] = [];
  const codes: number[] = [];
  const grpcCodes: number[] = [];
  let statusCodes = false;
  for (const raw of r.retryOn.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (/^\d{3}$/.test(raw)) codes.push(Number(raw));
    else if (raw === 'retriable-status-codes') statusCodes = true;
    else if (raw === 'refused-stream' || raw === 'reset' || raw === 'reset-before-request') conditions.some((c) => c.kind === 'reset') || conditions.push({ kind: 'reset' });
    else if (raw === 'connect-failure' || raw === '5xx' || raw === 'gateway-error' || raw === 'retriable-4xx') conditions.push({ kind: raw });
    else if (GRPC_CONDITIONS.has(raw)) grpcCodes.push(GRPC_CONDITIONS.get(raw)!);
    else report('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.retries.retryOn`, `condition "${raw}" is not implemented; not retried on`);
  }
  if (codes.length > 0 || statusCodes) conditions.push({ kind: 'retriable-status-codes', codes: codes.length > 0 ? codes : [503] });
  if (grpcCodes.length > 0) conditions.push({ kind: 'grpc-status', codes: [...new Set(grpcCodes)].sort((a, b) => a - b) });
  return { attempts, retryOn: conditions, allowNonIdempotent: true };
}

function translateMirrors(http: IstioHttpRoute, at: string, resolve: (d: IstioDestination, path: string) => string): IrMirror[] {
  const out: IrMirror[] = [];
  const percentOf = (p: { value: number } | undefined): { percent?: number } => (p === undefined ? {} : { percent: Math.max(0, Math.min(100, p.value)) });
  if (http.mirror) {
    const pct = http.mirrorPercentage ?? (http.mirrorPercent !== undefined ? { value: http.mirrorPercent } : undefined);
    out.push({ cluster: resolve(http.mirror, `${at}.mirror`), ...percentOf(pct), shadowHost: true });
  }
  (http.mirrors ?? []).forEach((m, k) => out.push({ cluster: resolve(m.destination, `${at}.mirrors[${k}].destination`), ...percentOf(m.percentage), shadowHost: true }));
  return out;
}
