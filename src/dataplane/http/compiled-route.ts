// A route as the request path sees it: match predicate, action and filters, all prepared.
import type { IrRedirect, IrRetryPolicy, IrRoute } from '../../ir/types.js';
import { compileRetryPolicy, type CompiledRetryPolicy } from './retry-policy.js';
import type { Random } from '../../core/random.js';
import type { RuntimeErrorCode } from '../../core/errors.js';
import { assertNever } from '../../core/assert-never.js';
import type { ClusterRuntime } from '../upstream/cluster-runtime.js';
import { compileRouteMatch, type CompiledMatch } from './route-match.js';
import { compileFilterChain, type FilterChain } from '../filters/compile-filters.js';
import type { FilterDeps } from '../filters/filter-deps.js';
import { EMPTY_CHAIN } from '../filters/filter-types.js';

export interface CompiledBackend {
  /** undefined when the IR named a cluster that does not exist (answered 500). */
  readonly cluster: ClusterRuntime | undefined;
  readonly clusterName: string;
  /** Per-backend filters (Gateway API backendRefs[].filters): backend request and response phases only. */
  readonly filters: FilterChain;
}

export type CompiledAction =
  | { readonly kind: 'forward'; pickBackend(): CompiledBackend | undefined }
  | { readonly kind: 'redirect'; readonly redirect: IrRedirect }
  | { readonly kind: 'respond'; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly kind: 'reject'; readonly details: RuntimeErrorCode };

export interface CompiledRoute {
  readonly name: string;
  readonly match: CompiledMatch;
  readonly action: CompiledAction;
  readonly filters: FilterChain;
  /** Whole-request timeout; 0 = none beyond the upstream timeouts. */
  readonly requestTimeoutMs: number;
  /** Until response headers, for upgrades, mirrors and tries without a per-try deadline. */
  readonly headersTimeoutMs: number;
  /** Each forward try's own deadline until response headers (`backendRequestMs`); 0 = none. */
  readonly perTryTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retry: CompiledRetryPolicy;
  readonly mirrors: readonly CompiledMirror[];
}

export interface CompiledMirror {
  readonly cluster: ClusterRuntime;
  /** True for the share of requests (percent) that is mirrored. */
  sample(): boolean;
  /** IrMirror.shadowHost. */
  readonly shadowHost: boolean;
}

export interface RouteDefaults {
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retry: IrRetryPolicy;
}

/** Objects many routes can share: one filterless backend and its picker per cluster. */
export class SharedBackends {
  private readonly plain = new Map<string, { backend: CompiledBackend; pick: () => CompiledBackend }>();
  constructor(private readonly clusters: ReadonlyMap<string, ClusterRuntime>) {}

  /** The same objects for every route that sends everything to `clusterName` without filters. */
  single(clusterName: string): { backend: CompiledBackend; pick: () => CompiledBackend } {
    let entry = this.plain.get(clusterName);
    if (entry === undefined) {
      const backend: CompiledBackend = { cluster: this.clusters.get(clusterName), clusterName, filters: EMPTY_CHAIN };
      entry = { backend, pick: () => backend };
      this.plain.set(clusterName, entry);
    }
    return entry;
  }
}

/** Routes that share a policy object (the defaults, most of all) share its compiled form. */
const COMPILED_RETRY = new WeakMap<IrRetryPolicy, CompiledRetryPolicy>();

function compiledRetry(policy: IrRetryPolicy): CompiledRetryPolicy {
  let compiled = COMPILED_RETRY.get(policy);
  if (compiled === undefined) {
    compiled = compileRetryPolicy(policy);
    COMPILED_RETRY.set(policy, compiled);
  }
  return compiled;
}

const NO_MIRRORS: readonly never[] = Object.freeze([]);

export function compileRoute(
  route: IrRoute,
  clusters: ReadonlyMap<string, ClusterRuntime>,
  defaults: RouteDefaults,
  filterDeps: FilterDeps,
  shared: SharedBackends = new SharedBackends(clusters),
): CompiledRoute {
  const random = filterDeps.random;
  const mirrors =
    route.mirrors === undefined || route.mirrors.length === 0
      ? NO_MIRRORS
      : route.mirrors.flatMap((m) => {
          const cluster = clusters.get(m.cluster);
          if (cluster === undefined) return [];
          const percent = m.percent ?? 100;
          return [{ cluster, sample: percent >= 100 ? () => true : () => random.next() * 100 < percent, shadowHost: m.shadowHost === true }];
        });
  return {
    name: route.name,
    match: compileRouteMatch(route.match),
    action: compileAction(route, clusters, filterDeps, shared),
    filters: compileFilterChain(route.filters, filterDeps),
    requestTimeoutMs: route.timeouts?.requestMs ?? 0,
    headersTimeoutMs: route.timeouts?.backendRequestMs ?? route.timeouts?.requestMs ?? defaults.headersTimeoutMs,
    idleTimeoutMs: route.timeouts?.idleMs ?? defaults.idleTimeoutMs,
    perTryTimeoutMs: route.timeouts?.backendRequestMs ?? 0,
    retry: compiledRetry(route.retry ?? defaults.retry),
    mirrors,
  };
}

function compileAction(route: IrRoute, clusters: ReadonlyMap<string, ClusterRuntime>, filterDeps: FilterDeps, shared: SharedBackends): CompiledAction {
  const random = filterDeps.random;
  const action = route.action;
  switch (action.kind) {
    case 'forward': {
      const only = action.backends.length === 1 ? action.backends[0]! : undefined;
      if (only !== undefined && only.weight > 0 && (only.filters ?? []).length === 0) {
        return { kind: 'forward', pickBackend: shared.single(only.cluster).pick };
      }
      const backends: CompiledBackend[] = [];
      const weights: number[] = [];
      for (const b of action.backends) {
        if (b.weight <= 0) continue;
        backends.push({
          cluster: clusters.get(b.cluster),
          clusterName: b.cluster,
          filters: compileFilterChain(b.filters, filterDeps),
        });
        weights.push(b.weight);
      }
      return { kind: 'forward', pickBackend: compileWeightedPick(backends, weights, random) };
    }
    case 'redirect':
      return { kind: 'redirect', redirect: action.redirect };
    case 'reject':
      return { kind: 'reject', details: action.reason };
    case 'respond':
      return {
        kind: 'respond',
        status: action.status,
        body: action.body ?? '',
        contentType: action.contentType ?? 'text/plain; charset=utf-8',
      };
    default:
      return assertNever(action, 'route action');
  }
}

function compileWeightedPick(backends: CompiledBackend[], weights: number[], random: Random): () => CompiledBackend | undefined {
  if (backends.length === 0) return () => undefined;
  const only = backends[0]!;
  if (backends.length === 1) return () => only;
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return () => {
    const r = random.next() * total;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return backends[i];
    return backends[backends.length - 1];
  };
}
