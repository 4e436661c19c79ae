// One VirtualService HTTPMatchRequest → one IR route match. Istio's `prefix` is a plain string
// prefix (Envoy's route prefix), not Gateway API's element-wise one; `ignoreUriCase` becomes an RE2
// `(?i)` regex over the quoted value, which the IR's full-path regex expresses exactly. Every regex
// is compiled here with the data plane's RE2 rules, so a pattern RE2 refuses is reported on its field.
import type { IstioSource } from './source-match.js';
import { compileFullMatchRegex } from '../../core/linear-regex.js';
import type { IrPathMatch, IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import type { IstioHttpMatch, IstioStringMatch } from '../../resources/istio-kinds.js';

export type MatchResult =
  | { readonly kind: 'ok'; readonly match: IrRouteMatch; readonly port?: number; readonly gateways?: readonly string[]; readonly source?: IstioSource; readonly unsupported: readonly { path: string; message: string }[] }
  | { readonly kind: 'invalid'; readonly path: string; readonly message: string }
  | { readonly kind: 'unsupported'; readonly path: string; readonly message: string };

/** RE2 syntax for a literal: QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function checkRegex(value: string, path: string): MatchResult | undefined {
  const compiled = compileFullMatchRegex(value);
  return compiled.kind === 'invalid' ? { kind: 'invalid', path, message: compiled.message } : undefined;
}

function pathMatchOf(uri: IstioStringMatch | undefined, ignoreCase: boolean): IrPathMatch | undefined {
  if (!uri) return { kind: 'any' };
  if (uri.exact !== undefined) return ignoreCase ? { kind: 'regex', value: `(?i)${quoteMeta(uri.exact)}` } : { kind: 'exact', value: uri.exact };
  if (uri.prefix !== undefined) return ignoreCase ? { kind: 'regex', value: `(?i)${quoteMeta(uri.prefix)}.*` } : { kind: 'string-prefix', value: uri.prefix };
  if (uri.regex !== undefined) return { kind: 'regex', value: ignoreCase ? `(?i)${uri.regex}` : uri.regex };
  return undefined;
}

function stringMatch(name: string, m: IstioStringMatch): IrStringMatch | undefined {
  if (m.exact !== undefined) return { name, kind: 'exact', value: m.exact };
  if (m.prefix !== undefined) return { name, kind: 'prefix', value: m.prefix };
  // `regex: "*"` is not RE2: pilot reads it as "present" (canBeConvertedToPresentMatch).
  if (m.regex !== undefined && m.regex !== '*') return { name, kind: 'regex', value: m.regex };
  // An empty match (`{}`) means "present" in Istio (the header must exist).
  return { name, kind: 'present' };
}

/**
 * `withoutHeaders`: the header match, inverted (pilot's TranslateRouteMatch). `{}` and
 * `regex: "*"` become a present match ("`*` is not RE2, it is a metacharacter", istio/istio#20629),
 * so inverted they mean "no such header". Every other match is inverted with a missing header read
 * as empty: `exact: jason` holds without the header, and `regex: .*` never holds.
 */
function withoutMatch(name: string, m: IstioStringMatch): IrStringMatch {
  const empty = m.exact === undefined && m.prefix === undefined && m.regex === undefined;
  if (empty || m.regex === '*') return { name, kind: 'absent' };
  return { ...stringMatch(name, m)!, invert: true };
}

export function translateIstioMatch(m: IstioHttpMatch, at: string): MatchResult {
  const unsupported: { path: string; message: string }[] = [];
  const path = pathMatchOf(m.uri, m.ignoreUriCase === true);
  if (!path) return { kind: 'unsupported', path: `${at}.uri`, message: 'expected one of exact, prefix or regex' };
  if (path.kind === 'regex') {
    const bad = checkRegex(path.value, `${at}.uri.regex`);
    if (bad) return bad;
  }
  const headers: IrStringMatch[] = [];
  let method: string | undefined;
  for (const [rawName, hm] of Object.entries(m.headers ?? {})) {
    const name = rawName.toLowerCase();
    const field = `${at}.headers.${rawName}`;
    if (name === ':method' && hm.exact !== undefined) {
      method = hm.exact.toUpperCase();
      continue;
    }
    const built = stringMatch(name === ':authority' ? 'host' : name, hm);
    if (!built) continue;
    if (built.kind === 'regex') {
      const bad = checkRegex(built.value ?? '', `${field}.regex`);
      if (bad) return bad;
    }
    if (name.startsWith(':') && name !== ':authority' && name !== ':method' && name !== ':scheme') {
      return { kind: 'unsupported', path: field, message: `pseudo-header ${name} matches are not implemented (:authority, :method and :scheme are)` };
    }
    headers.push(built);
  }
  if (m.authority) {
    const built = stringMatch('host', m.authority)!;
    if (built.kind === 'regex') {
      const bad = checkRegex(built.value ?? '', `${at}.authority.regex`);
      if (bad) return bad;
    }
    headers.push(built);
  }
  for (const [rawName, hm] of Object.entries(m.withoutHeaders ?? {})) {
    const built = withoutMatch(rawName.toLowerCase(), hm);
    if (built.kind === 'regex') {
      const bad = checkRegex(built.value ?? '', `${at}.withoutHeaders.${rawName}.regex`);
      if (bad) return bad;
    }
    headers.push(built);
  }
  // An exact method is the IR's `method`; prefix and regex are `:method` matches (case-sensitive,
  // as Envoy's header match on `:method`).
  const requestLine: [string, IstioStringMatch | undefined, string][] = [
    [':method', m.method, `${at}.method`],
    [':scheme', m.scheme, `${at}.scheme`],
  ];
  for (const [name, sm, field] of requestLine) {
    if (sm === undefined) continue;
    if (name === ':method' && sm.exact !== undefined) {
      method = sm.exact.toUpperCase();
      continue;
    }
    if (sm.exact === undefined && sm.prefix === undefined && sm.regex === undefined) return { kind: 'unsupported', path: field, message: 'expected one of exact, prefix or regex' };
    const built = stringMatch(name, sm)!;
    if (built.kind === 'regex') {
      const bad = checkRegex(built.value ?? '', `${field}.regex`);
      if (bad) return bad;
    }
    headers.push(built);
  }
  const queryParams: IrStringMatch[] = [];
  for (const [name, qm] of Object.entries(m.queryParams ?? {})) {
    const built = stringMatch(name, qm)!;
    if (built.kind === 'regex') {
      const bad = checkRegex(built.value ?? '', `${at}.queryParams.${name}.regex`);
      if (bad) return bad;
    }
    queryParams.push(built);
  }
  // Matched against the proxy itself, not per request (source-match.ts): known at apply time.
  const source: IstioSource | undefined =
    m.sourceLabels === undefined && m.sourceNamespace === undefined
      ? undefined
      : { ...(m.sourceLabels !== undefined ? { labels: m.sourceLabels } : {}), ...(m.sourceNamespace !== undefined ? { namespace: m.sourceNamespace } : {}) };
  const match: IrRouteMatch = {
    path,
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParams.length > 0 ? { queryParams } : {}),
    ...(method !== undefined ? { method } : {}),
  };
  return { kind: 'ok', match, ...(m.port !== undefined ? { port: m.port } : {}), ...(m.gateways !== undefined ? { gateways: m.gateways } : {}), ...(source !== undefined ? { source } : {}), unsupported };
}
