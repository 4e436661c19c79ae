// VirtualServices for one host at a gateway are merged in creation order (Istio: "merged at the
// gateway ... evaluated in the order of creation"), one route list, first match wins. What that
// merge cannot serve is said here: once an older VirtualService has a route that matches every
// request of the host, the routes a newer one adds after it are never reached (Istio's analyzer
// calls such VirtualServices conflicting). The newer one is blamed, on the host that merged it.
import { type Diagnostic, pushDiagnosticOnce } from '../../core/diagnostic.js';
import { objectKey } from '../../core/object-ref.js';
import type { IrRoute } from '../../ir/types.js';
import { refOf, type VirtualService } from '../../resources/resource.js';

/** A route with no condition: any path (`/` as a prefix is any path too), no header, query or method. */
function matchesEverything(route: IrRoute): boolean {
  const { path, headers, queryParams, method } = route.match;
  const anyPath = path.kind === 'any' || ((path.kind === 'string-prefix' || path.kind === 'prefix') && path.value === '/');
  return anyPath && (headers ?? []).length === 0 && (queryParams ?? []).length === 0 && method === undefined;
}

/**
 * Before `added` (routes of `vs`) are appended to `existing` for `host` on `port`: when an older
 * VirtualService's route in `existing` already matches every request, reports that `vs`'s routes
 * there are shadowed (once per VirtualService, host and port).
 */
export function reportShadowedMerge(existing: readonly IrRoute[], added: readonly IrRoute[], vs: VirtualService, hostPath: string, host: string, port: number, diagnostics: Diagnostic[]): void {
  if (added.length === 0) return;
  const self = objectKey(refOf(vs));
  const catchAll = existing.find((r) => objectKey(r.origin) !== self && matchesEverything(r));
  if (catchAll === undefined) return;
  const message =
    `on port ${port}, host ${host} is also served by ${catchAll.origin.kind} ${catchAll.origin.namespace ?? ''}/${catchAll.origin.name} (older, merged first), ` +
    `whose route ${catchAll.name} matches every request; the ${added.length} route(s) of this VirtualService merged after it are never reached`;
  const d: Diagnostic = { severity: 'warning', code: 'ERR_ISTIO_ROUTE_SHADOWED', object: refOf(vs), source: vs.source, path: hostPath, message };
  pushDiagnosticOnce(diagnostics, d);
}
