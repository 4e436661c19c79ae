// compile(ir) → RuntimeConfig: route tables, filter chains, clusters with their load balancers.
// Built once per apply; the request path only looks up what is prepared here. Problems the IR
// validator could not see (an invalid regex, a certificate Node refuses) become diagnostics and
// drop the smallest unit (the route, the certificate), never the whole configuration.
import type { SniCertificate } from './listen/sni-table.js';
import type { IrCertificate, IrClientValidation, IrSnapshot, IrVirtualHost } from '../ir/types.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { localFilterDeps, type FilterDeps } from './filters/filter-deps.js';
import { compileCluster, type ClusterRuntime } from './upstream/cluster-runtime.js';
import type { EndpointRegistry } from './upstream/endpoint-registry.js';
import type { ActiveHealthChecker } from './upstream/health/active-health.js';
import { compileRoute, SharedBackends, type CompiledRoute, type RouteDefaults } from './http/compiled-route.js';
import { Router, VirtualHostTable, type RouterEntry } from './http/router.js';

export interface CompiledListener {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly port: number;
  readonly address: string | undefined;
  /** Virtual hosts in declaration order; the listeners of a bind are merged into one Router. */
  readonly virtualHosts: readonly RouterEntry[];
  readonly certificates: readonly IrCertificate[];
  /** HTTPS: client certificates requested on this listener's certificates' names. */
  readonly clientValidation?: IrClientValidation;
  /** HTTPS: per certificate name, instead of `clientValidation` (Istio servers sharing a port). */
  readonly clientValidationByCertificate?: Readonly<Record<string, IrClientValidation>>;
}

/** One socket's worth: the routers its connections use and the certificates its SNI offers. */
export interface CompiledBind {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly address: string;
  readonly port: number;
  /** For connections to any local address (the listeners without `localAddress`). */
  readonly router: Router;
  /**
   * For connections to one local address: that address's listeners first, then the bind's
   * others. Empty unless a specific-address listener shares a wildcard bind.
   */
  readonly routersByAddress: ReadonlyMap<string, Router>;
  /** SNI candidates of all the bind's listeners, in bind order (the first is the default), each with its listener's client validation. */
  readonly certificates: readonly SniCertificate[];
}

export interface RuntimeConfig {
  readonly generation: number;
  readonly listeners: readonly CompiledListener[];
  readonly binds: readonly CompiledBind[];
  readonly clusters: ReadonlyMap<string, ClusterRuntime>;
}

export interface CompileDeps {
  readonly registry: EndpointRegistry;
  /** Active health checks; without it, clusters that ask for them are not probed. */
  readonly activeHealth?: ActiveHealthChecker;
  readonly clock: Clock;
  readonly random: Random;
  readonly routeDefaults: RouteDefaults;
  /** Filters' long-lived state (JWKS, counters); default in-process only. */
  readonly filters?: FilterDeps;
}

export function compileRuntime(ir: IrSnapshot, deps: CompileDeps): { runtime: RuntimeConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const clusters = new Map<string, ClusterRuntime>();
  const certificates = new Map(ir.certificates.map((c) => [c.name, c]));
  for (const cluster of ir.clusters) clusters.set(cluster.name, compileCluster(cluster, { ...deps, certificates }, diagnostics));
  const shared = new SharedBackends(clusters);
  const filterDeps = deps.filters ?? localFilterDeps(deps.clock, deps.random);

  // The Ingress translator hands the http and https listeners the same virtual host objects:
  // compile each once.
  const tables = new Map<IrVirtualHost, VirtualHostTable>();
  const compileVirtualHost = (vhost: IrVirtualHost): VirtualHostTable => {
    const cached = tables.get(vhost);
    if (cached !== undefined) return cached;
    const routes: CompiledRoute[] = [];
    for (const route of vhost.routes) {
      try {
        routes.push(compileRoute(route, clusters, deps.routeDefaults, filterDeps, shared));
      } catch (err) {
        diagnostics.push({
          severity: 'error',
          code: 'ERR_RESOURCE_INVALID',
          object: route.origin,
          message: `route ${route.name} dropped: ${(err as Error).message}`,
        });
      }
    }
    const table = new VirtualHostTable(vhost.name, routes);
    tables.set(vhost, table);
    return table;
  };

  const listeners: CompiledListener[] = ir.listeners.map((listener) => {
    const vhosts = listener.virtualHosts.map((vhost) => ({
      hostnames: vhost.hostnames,
      listener: listener.name,
      ...(vhost.wildcardMatch !== undefined ? { wildcardMatch: vhost.wildcardMatch } : {}),
      table: compileVirtualHost(vhost),
    }));
    return {
      name: listener.name,
      protocol: listener.protocol,
      port: listener.port,
      address: listener.address,
      virtualHosts: vhosts,
      certificates: (listener.tls?.certificates ?? []).flatMap((name) => {
        const cert = certificates.get(name);
        return cert ? [cert] : [];
      }),
      ...(listener.tls?.clientValidation !== undefined ? { clientValidation: listener.tls.clientValidation } : {}),
      ...(listener.tls?.clientValidationByCertificate !== undefined ? { clientValidationByCertificate: listener.tls.clientValidationByCertificate } : {}),
    };
  });
  const byName = new Map(listeners.map((l) => [l.name, l]));
  const binds = ir.binds.map((bind): CompiledBind => {
    const members = bind.listeners.flatMap((m) => {
      const listener = byName.get(m.listener);
      return listener === undefined ? [] : [{ listener, localAddress: m.localAddress }];
    });
    const anyAddress = members.filter((m) => m.localAddress === undefined).map((m) => m.listener);
    const addresses = [...new Set(members.flatMap((m) => (m.localAddress === undefined ? [] : [m.localAddress])))];
    const routerOf = (ls: readonly CompiledListener[]): Router => new Router(ls.flatMap((l) => l.virtualHosts));
    const routersByAddress = new Map(
      addresses.map((a) => [a, routerOf([...members.filter((m) => m.localAddress === a).map((m) => m.listener), ...anyAddress])] as const),
    );
    return {
      name: bind.name,
      protocol: bind.protocol,
      address: bind.address,
      port: bind.port,
      router: routerOf(anyAddress),
      routersByAddress,
      certificates: members.flatMap(({ listener: l }) =>
        l.certificates.map((certificate) => {
          const clientValidation = l.clientValidationByCertificate?.[certificate.name] ?? l.clientValidation;
          return clientValidation ? { certificate, clientValidation } : { certificate };
        }),
      ),
    };
  });
  return { runtime: { generation: ir.generation, listeners, binds, clusters }, diagnostics };
}
