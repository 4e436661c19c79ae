// The `mesh` binding: VirtualServices a sidecar applies to the calls its workload makes. A
// VirtualService binds to `mesh` when it has no `gateways` field or lists `mesh` in it (Istio's
// rule). The sidecar has one logical listener (`mesh/outbound`) whose virtual hosts are:
// 1. each mesh-bound VS host, with the names a client in the sidecar's namespace may write for it
//    (`reviews`, `reviews.ns`, `reviews.ns.svc`, the FQDN; the short name only for Services in
//    the sidecar's own namespace, as the DNS search path gives), its routes in order;
// 2. every other Service: passthrough to its own port (no VirtualService is needed to reach a
//    Service through a sidecar), with its DestinationRule applied.
// Ports: Istio gives a sidecar one route table per Service port, picked by the port the client
// dialled. Here a VS is translated once per port of the Service it names (so a destination
// without a port takes that port), and the table is picked by the port in the request's
// authority (`reviews:9080`; `:authority` on HTTP/2), matched as a header; a Service with one
// port needs no such match. Passthrough follows the same rule. Pure.
import { sourceMatches } from './source-match.js';
import { type Diagnostic, pushDiagnosticOnce } from '../../core/diagnostic.js';
import type { IrListener, IrRoute, IrStringMatch, IrVirtualHost } from '../../ir/types.js';
import { refOf, type Service, type VirtualService } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { compareHostnamesBySpecificity } from '../gateway-api/hostnames.js';
import type { IstioClusters } from './destination-rules.js';
import { CLUSTER_DOMAIN, istioHostCovers, resolveHost, serviceFqdn, serviceOfHost } from './istio-hosts.js';
import { describeExportTo, isExportedTo } from './istio-visibility.js';
import { translateVirtualServiceRoutes, type IstioRoute } from './virtual-service-routes.js';

export const MESH_LISTENER = 'mesh/outbound';

export interface MeshOptions {
  /** The workload's namespace: where short names (`reviews`) resolve, as its DNS search path does. */
  readonly namespace: string;
  /** Logical port of the outbound listener (the bind step maps it to `--listen`). */
  readonly port: number;
  /** `--workload-labels`: the workload's Pod labels, for `match.sourceLabels` (source-match.ts). */
  readonly labels?: ReadonlyMap<string, string>;
}

/** Does the VirtualService bind to `mesh`? No `gateways` means only `mesh`. */
export function isMeshBound(vs: VirtualService): boolean {
  return vs.spec.gateways === undefined || vs.spec.gateways.includes('mesh');
}

const SERVICE_FQDN = new RegExp(`^([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.${CLUSTER_DOMAIN.replaceAll('.', '\\.')}$`);

/** The names a client in `namespace` may put in Host for `fqdn`; other hosts as written. */
export function meshHostnames(fqdn: string, namespace: string): string[] {
  const m = SERVICE_FQDN.exec(fqdn);
  if (!m) return [fqdn];
  const [, name, ns] = m;
  return [fqdn, ...(ns === namespace ? [name!] : []), `${name}.${ns}`, `${name}.${ns}.svc`];
}

/**
 * Header matches that hold when the request's authority names `port`: `host` on HTTP/1.x and
 * `:authority` on HTTP/2 are both tried, so each yields one route. A port-less authority is port 80.
 */
function portMatches(port: number): IrStringMatch[][] {
  const value = port === 80 ? '[^:]*(:80)?' : `[^:]*:${port}`;
  return [[{ name: 'host', kind: 'regex', value }], [{ name: ':authority', kind: 'regex', value }]];
}

/** The route once per port match (or as is without a port): first match still wins in order. */
function withPort(route: IrRoute, port: number | undefined): IrRoute[] {
  if (port === undefined) return [route];
  return portMatches(port).map((headers, i) => ({
    ...route,
    name: `${route.name}/port/${port}/${i === 0 ? 'host' : 'authority'}`,
    match: { ...route.match, headers: [...(route.match.headers ?? []), ...headers] },
  }));
}

export function translateMesh(index: ResourceIndex, options: MeshOptions, clusters: IstioClusters, diagnostics: Diagnostic[]): IrListener {
  // `fromWildcard`: the wildcard host whose VirtualService a Service's entry came from.
  const byHost = new Map<string, { routes: IrRoute[]; fromWildcard?: string }>();
  const report = (d: Diagnostic): void => {
    pushDiagnosticOnce(diagnostics, d);
  };

  // A root's `delegate` names another VirtualService; its routes take the root route's place.
  const byName = new Map(index.virtualServices.map((vs) => [`${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`, vs]));
  const findVirtualService = (namespace: string, name: string): VirtualService | undefined => byName.get(`${namespace}/${name}`);
  const proxy = { labels: options.labels ?? new Map<string, string>(), namespace: options.namespace };
  const wildcards: { host: string; routesFor: (port: number | undefined) => IstioRoute[] }[] = [];
  for (const vs of [...index.virtualServices].sort(compareByCreation)) {
    if (!isMeshBound(vs)) continue;
    const ns = vs.metadata.namespace ?? 'default';
    if (vs.spec.hosts.length > 0 && !isExportedTo(vs.spec.exportTo, ns, options.namespace)) {
      // Its hosts stay reachable through passthrough, as in Istio where the sidecar never sees it.
      report({ severity: 'warning', code: 'ERR_ISTIO_NOT_EXPORTED', object: refOf(vs), source: vs.source, path: 'spec.exportTo', message: `not exported to namespace ${options.namespace} (${describeExportTo(vs.spec.exportTo)}); this sidecar does not apply it` });
      continue;
    }
    if (vs.spec.tcp !== undefined || vs.spec.tls !== undefined) {
      report({ severity: 'warning', code: 'ERR_ISTIO_UNSUPPORTED', object: refOf(vs), source: vs.source, path: vs.spec.tcp !== undefined ? 'spec.tcp' : 'spec.tls', message: 'tcp and tls routes are L4, which the sidecar does not serve; ignored' });
    }
    // Translated once per port, as Istio builds a sidecar route table per Service port (a
    // destination without a port takes the listener's; a redirect keeps it); each diagnostic is
    // reported once however many ports repeat it.
    const byPort = new Map<number | undefined, IstioRoute[]>();
    const routesFor = (port: number | undefined): IstioRoute[] => {
      let routes = byPort.get(port);
      if (!routes) {
        const found: Diagnostic[] = [];
        // Routes limited to named Gateways (`match.gateways` without `mesh`) are not the sidecar's.
        routes = translateVirtualServiceRoutes(vs, { clusters, diagnostics: found, findVirtualService, clientNamespace: options.namespace, ...(port !== undefined ? { listenerPort: port } : {}) }).filter((r) => r.meshBound && sourceMatches(r.source, proxy));
        found.forEach(report);
        byPort.set(port, routes);
      }
      return routes;
    };
    for (const raw of vs.spec.hosts) {
      const host = resolveHost(raw, ns);
      if (host.includes('*')) {
        // Applied after every exact host (below): a more specific VirtualService wins.
        wildcards.push({ host, routesFor });
        continue;
      }
      const entry = byHost.get(host) ?? { routes: [] };
      byHost.set(host, entry);
      const routes = meshRoutesForHost(serviceOfHost(host, ns, index), routesFor);
      // VirtualServices for one host are merged in creation order, as Istio merges them.
      for (const r of routes) if (!entry.routes.includes(r)) entry.routes.push(r);
    }
  }

  // A wildcard host (`*.shop.svc.cluster.local`, `*.example.com`, `*`) applies, as in Istio's
  // sidecar, to each Service whose FQDN it covers and that no exact-host VirtualService names (the
  // Service keeps all its DNS names), and itself matches any other name it covers. Wildcards are
  // taken most specific first, so `*.shop.svc.cluster.local` wins over `*.cluster.local` for a
  // Service both cover.
  for (const { host, routesFor } of wildcards.sort((a, b) => compareHostnamesBySpecificity(a.host, b.host))) {
    for (const service of index.services.values()) {
      const fqdn = serviceFqdn(service);
      if (!istioHostCovers(host, fqdn)) continue;
      // Taken by an exact host, or by a more specific wildcard (VirtualServices for the same
      // wildcard merge, in creation order, as for exact hosts).
      const prior = byHost.get(fqdn);
      if (prior !== undefined && prior.fromWildcard !== host) continue;
      const entry = prior ?? { routes: [], fromWildcard: host };
      byHost.set(fqdn, entry);
      for (const r of meshRoutesForHost(service, routesFor)) if (!entry.routes.includes(r)) entry.routes.push(r);
    }
    const entry = byHost.get(host) ?? { routes: [] };
    byHost.set(host, entry);
    for (const r of meshRoutesForHost(undefined, routesFor)) if (!entry.routes.includes(r)) entry.routes.push(r);
  }

  const virtualHosts: IrVirtualHost[] = [];
  const claimed = new Set<string>();
  for (const host of [...byHost.keys()].sort(compareHostnamesBySpecificity)) {
    const hostnames = meshHostnames(host, options.namespace).filter((h) => h === host || (!byHost.has(h) && !claimed.has(h)));
    hostnames.forEach((h) => claimed.add(h));
    // Istio's (Envoy's) `*.example.com` matches any number of labels.
    virtualHosts.push({ name: `${MESH_LISTENER}/vhost/${host}`, hostnames, ...(host.includes('*') ? { wildcardMatch: 'any-labels' as const } : {}), routes: byHost.get(host)!.routes });
  }
  // Passthrough: Services no VirtualService names, in a stable order.
  const services = [...index.services.values()].sort((a, b) => serviceFqdn(a).localeCompare(serviceFqdn(b)));
  for (const service of services) {
    const fqdn = serviceFqdn(service);
    if (byHost.has(fqdn) || service.spec.type === 'ExternalName' || service.spec.ports.length === 0) continue;
    const hostnames = meshHostnames(fqdn, options.namespace).filter((h) => !claimed.has(h) && !byHost.has(h));
    if (hostnames.length === 0) continue;
    hostnames.forEach((h) => claimed.add(h));
    virtualHosts.push({ name: `${MESH_LISTENER}/passthrough/${fqdn}`, hostnames, routes: passthroughRoutes(service, fqdn, clusters, options.namespace, report) });
  }
  return {
    name: MESH_LISTENER,
    protocol: 'http',
    port: options.port,
    virtualHosts,
  };
}

/**
 * A VS host's routes in the sidecar. A Service host: per Service port, the routes translated for
 * that port whose `match.port` (if any) is it; with several ports, each also matches the port in
 * the request's authority. Any other host: the routes once, a `match.port` matched on the authority.
 */
function meshRoutesForHost(service: Service | undefined, routesFor: (port: number | undefined) => IstioRoute[]): IrRoute[] {
  const ports = service?.spec.ports.map((p) => p.port) ?? [];
  if (ports.length === 0) return routesFor(undefined).flatMap((r) => withPort(r.route, r.port));
  return ports.flatMap((port) => {
    const routes = routesFor(port).filter((r) => r.port === undefined || r.port === port).map((r) => r.route);
    return ports.length === 1 ? routes : routes.flatMap((r) => withPort(r, port));
  });
}

/**
 * One route per Service port, chosen by the authority's port; a single-port Service takes every
 * request for its names whatever the port, as there is no other port it could mean.
 */
function passthroughRoutes(service: Service, fqdn: string, clusters: IstioClusters, clientNamespace: string, report: (d: Diagnostic) => void): IrRoute[] {
  const ns = service.metadata.namespace ?? 'default';
  const single = service.spec.ports.length === 1;
  return service.spec.ports.flatMap((p, i) => {
    const resolved = clusters.resolve(fqdn, undefined, p.port, ns, clientNamespace);
    const route: IrRoute = {
      name: `${MESH_LISTENER}/passthrough/${ns}/${service.metadata.name}/${p.port}`,
      origin: refOf(service),
      match: { path: { kind: 'any' } },
      action: resolved.kind === 'ok' ? { kind: 'forward', backends: [{ cluster: resolved.cluster, weight: 1 }] } : { kind: 'reject', reason: 'invalid_backend' },
      filters: [],
    };
    if (resolved.kind === 'error') {
      report({ severity: 'error', code: resolved.code, object: refOf(service), source: service.source, path: `spec.ports[${i}]`, message: `passthrough through the sidecar: ${resolved.message}; requests for it get 500` });
    }
    return single ? [route] : withPort(route, p.port);
  });
}
