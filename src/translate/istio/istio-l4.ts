// Istio's L4 at the edge: Gateway servers of protocol TCP (and the TCP-based MONGO, MYSQL, REDIS),
// and TLS or HTTPS servers in tls.mode PASSTHROUGH, served by VirtualService `tcp` and `tls` routes
// bound to the Gateway. As Istio merges the servers of a port into one Envoy listener, there is
// one L4 listener per port (`istio/port/<n>/l4`); a `tls` route takes the SNI names of its match
// (which must lie within the VirtualService's hosts and the server's), a `tcp` route takes the
// port when its match says nothing else (the first such route of the oldest VirtualService wins,
// as in Envoy's filter-chain order). Destinations resolve to clusters as HTTP routes' do; their
// endpoints are copied from those clusters once they are built (translate.ts).
import type { Diagnostic } from '../../core/diagnostic.js';
import { L4_DEFAULTS, type IrL4Backend, type IrL4Listener, type IrL4Route } from '../../ir/l4.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { IstioServer } from '../../resources/istio-kinds.js';
import { refOf, type IstioGateway, type VirtualService } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import type { IstioClusters } from './destination-rules.js';
import { intersectIstioHosts, resolveHost } from './istio-hosts.js';
import { istioGatewayKey, l4ServerKind, selectsUs } from './istio-gateways.js';
import { gatewayRefKey } from './virtual-service-routes.js';
import { isExportedTo } from './istio-visibility.js';

interface L4Server {
  readonly gateway: IstioGateway;
  readonly server: IstioServer;
  readonly path: string;
  readonly kind: 'TCP' | 'TLS';
}

export interface IstioL4Options {
  readonly gatewayLabels: ReadonlyMap<string, string>;
  readonly listenAddress: string;
}

export function translateIstioL4(index: ResourceIndex, options: IstioL4Options, clusters: IstioClusters, diagnostics: Diagnostic[]): IrL4Listener[] {
  const byPort = new Map<number, L4Server[]>();
  for (const gateway of index.istioGateways.filter((g) => selectsUs(g.spec.selector, options.gatewayLabels)).sort(compareByCreation)) {
    gateway.spec.servers.forEach((server, i) => {
      const kind = l4ServerKind(server);
      if (kind === undefined) return;
      const list = byPort.get(server.port.number) ?? [];
      byPort.set(server.port.number, list);
      const first = list[0];
      if (first !== undefined && first.kind !== kind) {
        diagnostics.push({ severity: 'error', code: 'ERR_ISTIO_UNSUPPORTED', object: refOf(gateway), source: gateway.source, path: `spec.servers[${i}].port.protocol`, message: `port ${server.port.number} is already a ${first.kind} port (${istioGatewayKey(first.gateway)} ${first.path}); this ${kind} server is not programmed` });
        return;
      }
      list.push({ gateway, server, path: `spec.servers[${i}]`, kind });
    });
  }
  const virtualServices = [...index.virtualServices].sort(compareByCreation);
  const listeners: IrL4Listener[] = [];
  for (const [port, servers] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const kind = servers[0]!.kind;
    const routes: IrL4Route[] = [];
    const claimed = new Set<string>();
    for (const vs of virtualServices) {
      const ns = vs.metadata.namespace ?? 'default';
      const routesOfVs = kind === 'TLS' ? vs.spec.tls : vs.spec.tcp;
      if (routesOfVs === undefined) continue;
      for (const s of servers) {
        const gwKey = istioGatewayKey(s.gateway);
        if (!(vs.spec.gateways ?? []).some((ref) => gatewayRefKey(ref, ns) === gwKey)) continue;
        if (!isExportedTo(vs.spec.exportTo, ns, s.gateway.metadata.namespace ?? 'default')) continue;
        const hosts = servedHosts(vs, s.server, ns);
        if (hosts.length === 0) continue;
        routesOfVs.forEach((r, j) => {
          const at = `spec.${kind === 'TLS' ? 'tls' : 'tcp'}[${j}]`;
          const matches = r.match ?? [{}];
          for (const m of matches) {
            if (m.port !== undefined && m.port !== port) continue;
            if (m.gateways !== undefined && !m.gateways.some((g) => gatewayRefKey(g, ns) === gwKey)) continue;
            const backends = destinations(vs, r.route ?? [], at, port, s.gateway.metadata.namespace ?? 'default', clusters, diagnostics);
            const name = `virtualservice/${ns}/${vs.metadata.name}/${kind === 'TLS' ? 'tls' : 'tcp'}/${j}`;
            if (kind === 'TCP') {
              if (claimed.has('')) return;
              claimed.add('');
              routes.push({ name, sniHosts: [], backends });
              return;
            }
            const sni = ('sniHosts' in m ? (m.sniHosts as readonly string[]) : []).filter((h) => hosts.some((host) => intersectIstioHosts(host, h.toLowerCase()) !== undefined)).map((h) => h.toLowerCase()).filter((h) => !claimed.has(h));
            if (sni.length === 0) continue;
            for (const h of sni) claimed.add(h);
            routes.push({ name, sniHosts: sni, backends });
          }
        });
      }
    }
    listeners.push({
      name: `istio/port/${port}/l4`,
      origin: refOf(servers[0]!.gateway),
      address: options.listenAddress,
      port,
      protocol: kind,
      ...(kind === 'TLS' ? { tls: { mode: 'passthrough' as const } } : {}),
      routes,
      scheduler: L4_DEFAULTS.scheduler,
      idleTimeoutMs: L4_DEFAULTS.idleTimeoutMs,
      connectTimeoutMs: L4_DEFAULTS.connectTimeoutMs,
      drainTimeoutMs: L4_DEFAULTS.drainTimeoutMs,
    });
  }
  return listeners;
}

// The VirtualService's hosts that the server's hosts admit (ns/host, any-namespace/host, or host).
function servedHosts(vs: VirtualService, server: IstioServer, ns: string): string[] {
  const out: string[] = [];
  for (const raw of server.hosts) {
    const slash = raw.indexOf('/');
    const hostNs = slash < 0 ? '*' : raw.slice(0, slash);
    if (hostNs !== '*' && hostNs !== ns && !(hostNs === '.' && ns === vs.metadata.namespace)) continue;
    const host = (slash < 0 ? raw : raw.slice(slash + 1)).toLowerCase();
    for (const h of vs.spec.hosts) {
      const name = intersectIstioHosts(host, resolveHost(h, ns));
      if (name !== undefined) out.push(name);
    }
  }
  return out;
}

function destinations(vs: VirtualService, route: NonNullable<NonNullable<VirtualService['spec']['tcp']>[number]['route']>, at: string, listenerPort: number, clientNamespace: string, clusters: IstioClusters, diagnostics: Diagnostic[]): IrL4Backend[] {
  const ns = vs.metadata.namespace ?? 'default';
  return route.map((d, k) => {
    const resolved = clusters.resolve(d.destination.host, d.destination.subset, d.destination.port?.number, ns, clientNamespace, listenerPort);
    const weight = route.length === 1 ? 1 : (d.weight ?? 0);
    if (resolved.kind === 'ok') return { name: resolved.cluster, weight, endpoints: [] };
    diagnostics.push({ severity: 'error', code: resolved.code, object: refOf(vs), source: vs.source, path: `${at}.route[${k}].destination`, message: `${resolved.message}; connections for this share are closed` });
    return { name: `unresolved/${ns}/${vs.metadata.name}/${at}/${k}`, weight, endpoints: [] };
  });
}
