// Istio networking (Gateway, VirtualService, DestinationRule) → IR listeners. Phases: Gateways this
// instance serves (istio-gateways.ts) → VirtualServices bound to them, their routes in order
// (virtual-service-routes.ts) → virtual hosts per port: for each server a VirtualService binds to,
// each VS host the server's host covers (and whose namespace the server admits) gets the VS's
// routes. VirtualServices for one host are merged in creation order, as Istio does at gateways.
// A VirtualService serves through a Gateway only when its `exportTo` admits the Gateway's
// namespace, and that namespace is the client's for DestinationRule and ServiceEntry visibility.
// Pure: no I/O, no clock.
import { sourceMatches } from './source-match.js';
import { type Diagnostic, pushDiagnosticOnce } from '../../core/diagnostic.js';
import type { IrCertificate, IrListener, IrRoute, IrVirtualHost } from '../../ir/types.js';
import { refOf } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { compareHostnamesBySpecificity } from '../gateway-api/hostnames.js';
import type { IstioClusters } from './destination-rules.js';
import { hostAliases, intersectIstioHosts, resolveHost } from './istio-hosts.js';
import { istioGatewayKey, planIstioGateways } from './istio-gateways.js';
import { describeExportTo, isExportedTo } from './istio-visibility.js';
import { reportUnreferencedDelegates } from './virtual-service-delegates.js';
import { reportShadowedMerge } from './virtual-service-merge.js';
import { gatewayRefKey, translateVirtualServiceRoutes } from './virtual-service-routes.js';

export interface IstioOptions {
  /** `--istio-gateway-labels`: the labels of this gateway instance, matched by Gateway `selector`s. */
  readonly gatewayLabels: ReadonlyMap<string, string>;
}

export interface IstioTranslation {
  readonly listeners: readonly IrListener[];
  readonly certificates: readonly IrCertificate[];
}

interface HostEntry {
  routes: IrRoute[];
  httpsRedirect: boolean;
}

export function translateIstio(index: ResourceIndex, options: IstioOptions, clusters: IstioClusters, diagnostics: Diagnostic[]): IstioTranslation {
  const plan = planIstioGateways(index, options.gatewayLabels, diagnostics);
  // Per port: hostname → routes, in the order VirtualServices are taken (oldest first).
  const hostsByPort = new Map<number, Map<string, HostEntry>>(plan.ports.map((p) => [p.port, new Map()]));
  const byName = new Map(index.virtualServices.map((v) => [`${v.metadata.namespace ?? 'default'}/${v.metadata.name}`, v]));
  const findVirtualService = (namespace: string, name: string) => byName.get(`${namespace}/${name}`);
  reportUnreferencedDelegates(index.virtualServices, diagnostics);

  for (const vs of [...index.virtualServices].sort(compareByCreation)) {
    const ns = vs.metadata.namespace ?? 'default';
    // Without hosts a VirtualService is a delegate: served only under a root that delegates to it.
    if (vs.spec.hosts.length === 0) continue;
    const refs = vs.spec.gateways ?? ['mesh'];
    const bound: string[] = [];
    refs.forEach((ref, g) => {
      const key = gatewayRefKey(ref, ns);
      if (key === undefined) return; // `mesh`: sidecars (not implemented at the edge)
      if (!plan.known.has(key)) {
        diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(vs), source: vs.source, path: `spec.gateways[${g}]`, message: `Gateway ${key} (networking.istio.io) does not exist; nothing is bound through it` });
        return;
      }
      if (plan.servers.has(key)) bound.push(key);
    });
    if (bound.length === 0) continue;
    // `tcp` and `tls` routes are istio-l4.ts's, at the Gateway's TCP and PASSTHROUGH servers.
    // Translated once per (port, Gateway namespace): a destination may take its port from the
    // listener, and the Gateway's namespace is the client's whose DestinationRules and
    // ServiceEntries apply (istio-visibility.ts); each diagnostic is reported once however many
    // times it repeats.
    const routesByPort = new Map<string, ReturnType<typeof translateVirtualServiceRoutes>>();
    const routesFor = (port: number, clientNamespace: string): ReturnType<typeof translateVirtualServiceRoutes> => {
      let routes = routesByPort.get(`${port}/${clientNamespace}`);
      if (!routes) {
        const found: Diagnostic[] = [];
        routes = translateVirtualServiceRoutes(vs, { clusters, diagnostics: found, listenerPort: port, findVirtualService, clientNamespace });
        for (const d of found) pushDiagnosticOnce(diagnostics, d);
        routesByPort.set(`${port}/${clientNamespace}`, routes);
      }
      return routes;
    };
    const hosts = vs.spec.hosts.map((h) => resolveHost(h, ns));
    let servedAnywhere = false;
    const hiddenFrom: string[] = [];
    for (const gwKey of bound) {
      // A VirtualService serves at a Gateway only when exported to the Gateway's namespace.
      const gwNs = gwKey.slice(0, gwKey.indexOf('/'));
      if (!isExportedTo(vs.spec.exportTo, ns, gwNs)) {
        hiddenFrom.push(gwKey);
        continue;
      }
      for (const server of plan.servers.get(gwKey) ?? []) {
        const byHost = hostsByPort.get(server.port);
        if (!byHost) continue;
        const forServer = routesFor(server.port, gwNs).filter((r) => (r.port === undefined || r.port === server.port) && (r.gateways === undefined || r.gateways.includes(gwKey)) && sourceMatches(r.source, { labels: options.gatewayLabels, namespace: gwNs })).map((r) => r.route);
        for (const sh of server.hosts) {
          if (sh.namespace !== '*' && sh.namespace !== ns) continue;
          hosts.forEach((host, h) => {
            const name = intersectIstioHosts(sh.host, host);
            if (name === undefined) return;
            servedAnywhere = true;
            const entry = byHost.get(name) ?? { routes: [], httpsRedirect: false };
            byHost.set(name, entry);
            if (server.httpsRedirect) entry.httpsRedirect = true;
            const fresh = forServer.filter((r) => !entry.routes.includes(r));
            if (!server.httpsRedirect) reportShadowedMerge(entry.routes, fresh, vs, `spec.hosts[${h}]`, name, server.port, diagnostics);
            entry.routes.push(...fresh);
          });
        }
      }
    }
    if (hiddenFrom.length > 0) {
      diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_NOT_EXPORTED', object: refOf(vs), source: vs.source, path: 'spec.exportTo', message: `not exported to the namespace of Gateway ${hiddenFrom.join(', ')} (${describeExportTo(vs.spec.exportTo)}); not served there` });
    }
    if (!servedAnywhere && hiddenFrom.length < bound.length) {
      diagnostics.push({ severity: 'warning', code: 'ERR_ROUTE_NOT_ACCEPTED', object: refOf(vs), source: vs.source, path: 'spec.hosts', message: `no host is served by a server of ${bound.join(', ')} (its hosts and namespace/ prefixes do not admit them)` });
    }
  }

  const listeners: IrListener[] = [];
  const certificates: IrCertificate[] = [];
  for (const p of plan.ports) {
    const name = `istio/port/${p.port}`;
    const byHost = hostsByPort.get(p.port)!;
    const claimed = new Set<string>();
    const virtualHosts: IrVirtualHost[] = [];
    for (const host of [...byHost.keys()].sort(compareHostnamesBySpecificity)) {
      const entry = byHost.get(host)!;
      // A mesh-style short name also answers to its in-cluster aliases (istio-hosts.ts), unless
      // another host on this port already has that name.
      const hostnames = hostAliases(host).filter((h) => h === host || (!byHost.has(h) && !claimed.has(h)));
      hostnames.forEach((h) => claimed.add(h));
      const routes = entry.httpsRedirect ? [httpsRedirectRoute(name, host, p.first.gateway)] : entry.routes;
      virtualHosts.push({ name: `${name}/vhost/${host}`, hostnames, wildcardMatch: 'any-labels', routes });
    }
    certificates.push(...p.certificates);
    listeners.push({
      name,
      declaredBy: { object: refOf(p.first.gateway), path: p.first.path, ...(p.first.gateway.source !== undefined ? { source: p.first.gateway.source } : {}), sectionName: `port-${p.port}`, hostname: '*' },
      protocol: p.protocol,
      port: p.port,
      ...(p.protocol === 'https' ? { tls: { certificates: p.certificates.map((c) => c.name), ...(p.clientValidation.size > 0 ? { clientValidationByCertificate: Object.fromEntries(p.clientValidation) } : {}) } } : {}),
      virtualHosts,
    });
  }
  return { listeners, certificates };
}

/** `tls.httpsRedirect` on an HTTP server: 301 to the same URL over https, for every request. */
function httpsRedirectRoute(listener: string, host: string, gateway: Parameters<typeof refOf>[0]): IrRoute {
  return {
    name: `${listener}/vhost/${host}/https-redirect`,
    origin: refOf(gateway),
    match: { path: { kind: 'any' } },
    action: { kind: 'redirect', redirect: { scheme: 'https', status: 301 } },
    filters: [],
  };
}

export { istioGatewayKey };
