// compile(ir) → RuntimeConfig: route tables, filter chains, clusters with their load balancers.
// Built once per apply; the request path only looks up what is prepared here. Problems the IR
// validator could not see (an invalid regex, a certificate Node refuses) become diagnostics and
// drop the smallest unit (the route, the certificate), never the whole configuration.
import type { IrCertificate, IrClientValidation, IrSnapshot, IrVirtualHost } from '../ir/types.js';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { compileCluster, type ClusterRuntime } from './upstream/cluster-runtime.js';
import type { EndpointRegistry } from './upstream/endpoint-registry.js';
import { compileRoute, SharedBackends, type CompiledRoute, type RouteDefaults } from './http/compiled-route.js';
import { VirtualHostTable } from './http/router.js';

export interface CompiledListener {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly port: number;
  readonly address: string | undefined;
  /** Virtual hosts in declaration order; listeners sharing a port are merged into one Router. */
  readonly virtualHosts: readonly { readonly hostnames: readonly string[]; readonly wildcardMatch?: 'one-label' | 'any-labels'; readonly table: VirtualHostTable }[];
  readonly certificates: readonly IrCertificate[];
  /** HTTPS: client certificates requested on this listener's certificates' names. */
  readonly clientValidation?: IrClientValidation;
}

export interface RuntimeConfig {
  readonly generation: number;
  readonly listeners: readonly CompiledListener[];
  readonly clusters: ReadonlyMap<string, ClusterRuntime>;
}

export interface CompileDeps {
  readonly registry: EndpointRegistry;
  readonly clock: Clock;
  readonly random: Random;
  readonly routeDefaults: RouteDefaults;
}

export function compileRuntime(ir: IrSnapshot, deps: CompileDeps): { runtime: RuntimeConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const clusters = new Map<string, ClusterRuntime>();
  for (const cluster of ir.clusters) clusters.set(cluster.name, compileCluster(cluster, deps, diagnostics));
  const certificates = new Map(ir.certificates.map((c) => [c.name, c]));
  const shared = new SharedBackends(clusters);

  // The Ingress translator hands the http and https listeners the same virtual host objects:
  // compile each once.
  const tables = new Map<IrVirtualHost, VirtualHostTable>();
  const compileVirtualHost = (vhost: IrVirtualHost): VirtualHostTable => {
    const cached = tables.get(vhost);
    if (cached !== undefined) return cached;
    const routes: CompiledRoute[] = [];
    for (const route of vhost.routes) {
      try {
        routes.push(compileRoute(route, clusters, deps.routeDefaults, deps.random, shared));
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
    };
  });
  return { runtime: { generation: ir.generation, listeners, clusters }, diagnostics };
}
