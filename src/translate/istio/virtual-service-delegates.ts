// VirtualService delegation: a root VirtualService (one with `hosts`) hands an `http` route to a
// delegate VirtualService (`delegate: {name, namespace}`), whose own http routes take its place,
// in their order, under the root route. Istio's rules (pilot's mergeHTTPRoutes):
// - one level only: a delegate's route that delegates again is not served;
// - a delegate has no `hosts` (and its `gateways` mean nothing): only a VirtualService without
//   hosts can be a delegate;
// - the delegate must be exported to the root's namespace (`exportTo`, default everywhere);
// - each delegate match is merged with every root match it does not conflict with (it must lie
//   within the root's: same or longer prefix, same exact, no regex on one side and something else
//   on the other, the same value for a header both name); a delegate route none of whose matches
//   fits under the root is dropped; without matches on one side the other side's are used;
// - what a delegate route leaves unset (rewrite, timeout, retries, fault, mirrors, CORS, headers,
//   direct response) it takes from the root route.
// A delegate's short host names resolve in the delegate's namespace (its own YAML), as pilot
// resolves every VirtualService's short names against its own namespace.
import type { Diagnostic } from '../../core/diagnostic.js';
import { refOf, type VirtualService } from '../../resources/resource.js';
import type { IstioHttpMatch, IstioHttpRoute, IstioStringMatch } from '../../resources/istio-kinds.js';
import { describeExportTo, isExportedTo } from './istio-visibility.js';

/** One http route to translate, with where it was written and under which name it is served. */
export interface HttpRouteSource {
  readonly http: IstioHttpRoute;
  /** The object that wrote `http` (the root, or the delegate): diagnostics blame it. */
  readonly owner: VirtualService;
  /** Field path of `http` in its owner (`spec.http[2]`). */
  readonly at: string;
  /** IR route name prefix: `virtualservice/<ns>/<root>/http/<i>[/delegate/<ns>/<name>/http/<k>]`. */
  readonly name: string;
  /** Field paths of `http.match[j]` when they are not `${at}.match[j]` (merged matches). */
  readonly matchPaths?: readonly string[];
  /** Fields a delegate route took from its root route: their diagnostics blame the root, their hosts resolve in its namespace. */
  readonly inherited?: { readonly owner: VirtualService; readonly at: string; readonly fields: readonly string[] };
}

/** The object and field path a diagnostic about `path` (a path under `source.at`) belongs to. */
export function blameOf(source: HttpRouteSource, path: string): { readonly owner: VirtualService; readonly path: string } {
  const inherited = source.inherited;
  const rest = path.slice(source.at.length);
  if (inherited && path.startsWith(source.at) && inherited.fields.some((f) => rest === `.${f}` || rest.startsWith(`.${f}.`) || rest.startsWith(`.${f}[`))) {
    return { owner: inherited.owner, path: inherited.at + rest };
  }
  return { owner: source.owner, path };
}

/** Finds a VirtualService by namespace and name in the snapshot. */
export type FindVirtualService = (namespace: string, name: string) => VirtualService | undefined;

function stringMatchConflicts(root: IstioStringMatch | undefined, leaf: IstioStringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  const hasAny = (m: IstioStringMatch): boolean => Boolean(m.regex || m.prefix || m.exact);
  // A regex on either side cannot be shown to contain the other side's match.
  if (root.regex && hasAny(leaf)) return true;
  if (leaf.regex && hasAny(root)) return true;
  if (root.exact) return Boolean(leaf.prefix) || leaf.exact !== root.exact;
  if (root.prefix) {
    if (leaf.prefix) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact) return !leaf.exact.startsWith(root.prefix);
  }
  // Both empty (`{}`, "present") or a root value the leaf cannot be compared with.
  return true;
}

function mapConflicts(root: Readonly<Record<string, IstioStringMatch>> | undefined, leaf: Readonly<Record<string, IstioStringMatch>> | undefined): boolean {
  return Object.entries(leaf ?? {}).some(([k, v]) => stringMatchConflicts(root?.[k], v));
}

/** Why the delegate match does not lie within the root match, or undefined when it does. */
export function matchConflict(root: IstioHttpMatch, leaf: IstioHttpMatch): string | undefined {
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflicts(root[f], leaf[f])) return `${f} is not within the root's`;
  }
  if (mapConflicts(root.headers, leaf.headers)) return 'a header match is not within the root\'s';
  if (mapConflicts(root.withoutHeaders, leaf.withoutHeaders)) return 'a withoutHeaders match is not within the root\'s';
  if (mapConflicts(root.queryParams, leaf.queryParams)) return 'a query parameter match is not within the root\'s';
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return 'ignoreUriCase differs from the root\'s';
  if (root.port !== undefined && leaf.port !== undefined && root.port !== leaf.port) return 'port differs from the root\'s';
  if (root.sourceNamespace !== undefined && leaf.sourceNamespace !== root.sourceNamespace) return 'sourceNamespace differs from the root\'s';
  if (Object.entries(leaf.sourceLabels ?? {}).some(([k, v]) => root.sourceLabels?.[k] !== undefined && root.sourceLabels[k] !== v)) return 'sourceLabels differ from the root\'s';
  if (root.gateways && root.gateways.length > 0 && leaf.gateways && leaf.gateways.length > 0 && !leaf.gateways.every((g) => root.gateways!.includes(g))) {
    return 'gateways are not a subset of the root\'s';
  }
  return undefined;
}

/** The delegate match with what it leaves unset taken from the root match (maps: the delegate's entries win). */
export function mergeMatch(root: IstioHttpMatch, leaf: IstioHttpMatch): IstioHttpMatch {
  const joined = root.name && leaf.name ? `${root.name}-${leaf.name}` : (leaf.name ?? root.name);
  const maps = (r: Readonly<Record<string, IstioStringMatch>> | undefined, l: Readonly<Record<string, IstioStringMatch>> | undefined) =>
    r === undefined && l === undefined ? undefined : { ...(r ?? {}), ...(l ?? {}) };
  const out: Record<string, unknown> = {
    ...root,
    ...Object.fromEntries(Object.entries(leaf).filter(([, v]) => v !== undefined)),
    name: joined,
    headers: maps(root.headers, leaf.headers),
    withoutHeaders: maps(root.withoutHeaders, leaf.withoutHeaders),
    queryParams: maps(root.queryParams, leaf.queryParams),
    sourceLabels: root.sourceLabels === undefined && leaf.sourceLabels === undefined ? undefined : { ...(root.sourceLabels ?? {}), ...(leaf.sourceLabels ?? {}) },
    gateways: leaf.gateways && leaf.gateways.length > 0 ? leaf.gateways : root.gateways,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as IstioHttpMatch;
}

/** Fields a delegate route inherits from the root route when it leaves them unset (pilot's mergeHTTPRoute). */
const INHERITED = ['rewrite', 'directResponse', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercent', 'mirrorPercentage', 'corsPolicy', 'mirrors', 'headers'] as const;

/**
 * The http routes of `vs` to translate, in order, with every delegating route replaced by its
 * delegate's routes merged under it. Problems are reported on the object and field that has them;
 * a route that cannot be served this way is left out (as Istio does) and says so.
 */
export function expandDelegates(vs: VirtualService, find: FindVirtualService, diagnostics: Diagnostic[]): HttpRouteSource[] {
  const ns = vs.metadata.namespace ?? 'default';
  const base = `virtualservice/${ns}/${vs.metadata.name}`;
  const report = (owner: VirtualService, severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
    diagnostics.push({ severity, code, object: refOf(owner), source: owner.source, path, message });
  };
  const out: HttpRouteSource[] = [];
  vs.spec.http.forEach((http, i) => {
    const at = `spec.http[${i}]`;
    const name = `${base}/http/${i}`;
    if (http.delegate === undefined) {
      out.push({ http, owner: vs, at, name });
      return;
    }
    const dName = http.delegate.name;
    const dNs = http.delegate.namespace ?? ns;
    const delegate = dName === undefined ? undefined : find(dNs, dName);
    if (delegate === undefined) {
      report(vs, 'error', 'ERR_ISTIO_DELEGATE_INVALID', `${at}.delegate`, `VirtualService ${dNs}/${dName ?? '(no name)'} does not exist; this route is not served`);
      return;
    }
    const dRef = `VirtualService ${dNs}/${dName}`;
    if (delegate.spec.hosts.length > 0) {
      report(vs, 'error', 'ERR_ISTIO_DELEGATE_INVALID', `${at}.delegate`, `${dRef} has hosts, so it is a root, not a delegate (a delegate has no hosts); this route is not served`);
      return;
    }
    if (!isExportedTo(delegate.spec.exportTo, dNs, ns)) {
      report(vs, 'error', 'ERR_ISTIO_DELEGATE_INVALID', `${at}.delegate`, `${dRef} is not exported to namespace ${ns} (${describeExportTo(delegate.spec.exportTo)}); this route is not served`);
      return;
    }
    if (delegate.spec.gateways !== undefined) {
      report(delegate, 'warning', 'ERR_ISTIO_DELEGATE_INVALID', 'spec.gateways', `a delegate is served where its root ${refLabel(vs)} is bound; its gateways are ignored`);
    }
    const rootMatches = http.match ?? [];
    delegate.spec.http.forEach((sub, k) => {
      const subAt = `spec.http[${k}]`;
      if (sub.delegate !== undefined) {
        report(delegate, 'error', 'ERR_ISTIO_DELEGATE_INVALID', `${subAt}.delegate`, `a delegate cannot delegate again (Istio supports one level, from ${refLabel(vs)}); this route is not served`);
        return;
      }
      const subMatches = sub.match ?? [];
      let matches: IstioHttpMatch[];
      let matchPaths: string[];
      if (rootMatches.length === 0) {
        matches = [...subMatches];
        matchPaths = subMatches.map((_, j) => `${subAt}.match[${j}]`);
      } else if (subMatches.length === 0) {
        matches = [...rootMatches];
        matchPaths = rootMatches.map((_, j) => `${subAt} (root ${refLabel(vs)} ${at}.match[${j}])`);
      } else {
        matches = [];
        matchPaths = [];
        for (const [j, leaf] of subMatches.entries()) {
          const fits = rootMatches.flatMap((root, r) => (matchConflict(root, leaf) === undefined ? [{ root, r }] : []));
          if (fits.length === 0) {
            const why = [...new Set(rootMatches.map((root) => matchConflict(root, leaf)))].join('; ');
            report(delegate, 'error', 'ERR_ISTIO_DELEGATE_INVALID', `${subAt}.match[${j}]`, `this match does not lie within any match of ${refLabel(vs)} ${at} (${why}); this route is not served`);
            return;
          }
          for (const { root, r } of fits) {
            matches.push(mergeMatch(root, leaf));
            matchPaths.push(`${subAt}.match[${j}] (within ${at}.match[${r}] of ${refLabel(vs)})`);
          }
        }
      }
      const inherited: Record<string, unknown> = {};
      for (const f of INHERITED) if (sub[f] === undefined && http[f] !== undefined) inherited[f] = http[f];
      const joinedName = http.name && sub.name ? `${http.name}-${sub.name}` : (sub.name ?? http.name);
      const merged = { ...sub, ...inherited, ...(joinedName !== undefined ? { name: joinedName } : {}), ...(matches.length > 0 ? { match: matches } : {}) } as IstioHttpRoute;
      const fields = Object.keys(inherited);
      out.push({
        http: merged,
        owner: delegate,
        at: subAt,
        name: `${name}/delegate/${dNs}/${dName}/http/${k}`,
        ...(matches.length > 0 ? { matchPaths } : {}),
        ...(fields.length > 0 ? { inherited: { owner: vs, at, fields } } : {}),
      });
    });
  });
  return out;
}

function refLabel(vs: VirtualService): string {
  return `VirtualService ${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`;
}

/**
 * A VirtualService without hosts is only ever served as a delegate (Istio refuses it otherwise):
 * one that no other VirtualService delegates to serves nothing, and says so.
 */
export function reportUnreferencedDelegates(all: readonly VirtualService[], diagnostics: Diagnostic[]): void {
  const referenced = new Set<string>();
  for (const vs of all) {
    const ns = vs.metadata.namespace ?? 'default';
    for (const http of vs.spec.http) if (http.delegate?.name !== undefined) referenced.add(`${http.delegate.namespace ?? ns}/${http.delegate.name}`);
  }
  for (const vs of all) {
    if (vs.spec.hosts.length > 0 || referenced.has(`${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`)) continue;
    diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_DELEGATE_INVALID', object: refOf(vs), source: vs.source, path: 'spec.hosts', message: 'no hosts, so this is a delegate, and no VirtualService delegates to it; nothing is served' });
  }
}
