// Istio Gateways (networking.istio.io) → what this instance serves, per port. A Gateway configures
// the gateway workloads its `selector` matches; this instance is one whose Pod labels are
// `--istio-gateway-labels` (default istio=ingressgateway), so a Gateway whose selector those labels
// satisfy is ours and any other is left alone, silently, as another gateway's.
// As Istio merges every server on one port into one Envoy listener, Isthmus makes one logical
// listener per port (`istio/port/<n>`): its protocol is decided by the oldest server on it; TLS
// servers add their certificates (chosen by SNI).
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate } from '../../ir/types.js';
import { refOf, type IstioGateway } from '../../resources/resource.js';
import type { IstioServer } from '../../resources/istio-kinds.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../creation-order.js';
import { checkKeyPair } from '../ingress/ingress-tls.js';

export const DEFAULT_ISTIO_GATEWAY_LABELS: ReadonlyMap<string, string> = new Map([['istio', 'ingressgateway']]);

/** A server host `namespace/host`: which namespaces' VirtualServices may bind (`*` any), and the host. */
export interface ServerHost {
  readonly namespace: string;
  readonly host: string;
}

export interface PlannedServer {
  readonly gateway: IstioGateway;
  readonly index: number;
  readonly path: string;
  readonly port: number;
  readonly hosts: readonly ServerHost[];
  /** HTTP server with `tls.httpsRedirect`: every request is told to use HTTPS (301). */
  readonly httpsRedirect: boolean;
}

export interface IstioPort {
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** The oldest server on the port: the declaration the bind step blames. */
  readonly first: PlannedServer;
  readonly certificates: readonly IrCertificate[];
}

export interface IstioGatewayPlan {
  readonly ports: readonly IstioPort[];
  /** Served servers of each selected Gateway, by `namespace/name`. */
  readonly servers: ReadonlyMap<string, readonly PlannedServer[]>;
  /** Every Istio Gateway, selected or not, by `namespace/name`: a name outside it is unknown. */
  readonly known: ReadonlySet<string>;
}

export function istioGatewayKey(g: IstioGateway): string {
  return `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;
}

/** Does the Gateway's selector pick this instance? Every selector label must be one of ours. */
export function selectsUs(selector: Readonly<Record<string, string>>, labels: ReadonlyMap<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels.get(k) === v);
}

function parseServerHost(raw: string, gatewayNamespace: string): ServerHost {
  const slash = raw.indexOf('/');
  if (slash < 0) return { namespace: '*', host: raw.toLowerCase() };
  const ns = raw.slice(0, slash);
  return { namespace: ns === '.' ? gatewayNamespace : ns, host: raw.slice(slash + 1).toLowerCase() };
}

type ServerProtocol = { readonly kind: 'http' } | { readonly kind: 'https' } | { readonly kind: 'not-served'; readonly message: string };

function serverProtocol(server: IstioServer): ServerProtocol {
  const protocol = server.port.protocol.toUpperCase();
  const mode = server.tls?.mode;
  if (protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB') return { kind: 'http' };
  if (protocol === 'HTTPS') {
    if (mode === 'SIMPLE') return { kind: 'https' };
    if (mode === undefined) return { kind: 'not-served', message: 'an HTTPS server needs tls.mode (SIMPLE is supported); the server is not programmed' };
    if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') return { kind: 'not-served', message: `tls.mode ${mode} is L4 (TLS passthrough by SNI), which Isthmus does not serve yet; the server is not programmed` };
    if (mode === 'ISTIO_MUTUAL') return { kind: 'not-served', message: 'tls.mode ISTIO_MUTUAL needs the mesh CA (istiod issues the certificates), which Isthmus does not have; the server is not programmed' };
    return { kind: 'not-served', message: `tls.mode ${mode} (client-certificate validation) is not implemented yet; the server is not programmed` };
  }
  return { kind: 'not-served', message: `protocol ${server.port.protocol} is L4 or not HTTP; Isthmus serves HTTP, HTTP2, GRPC and HTTPS servers; the server is not programmed` };
}

export function planIstioGateways(index: ResourceIndex, labels: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): IstioGatewayPlan {
  const known = new Set(index.istioGateways.map(istioGatewayKey));
  const gateways = index.istioGateways.filter((g) => selectsUs(g.spec.selector, labels)).sort(compareByCreation);
  const servers = new Map<string, PlannedServer[]>();
  const ports = new Map<number, { protocol: 'http' | 'https'; first: PlannedServer; certificates: IrCertificate[] }>();
  for (const gateway of gateways) {
    const ns = gateway.metadata.namespace ?? 'default';
    const list: PlannedServer[] = [];
    servers.set(istioGatewayKey(gateway), list);
    gateway.spec.servers.forEach((server, i) => {
      const path = `spec.servers[${i}]`;
      const warn = (field: string, message: string, code: Diagnostic['code'] = 'ERR_ISTIO_UNSUPPORTED', severity: Diagnostic['severity'] = 'warning'): void => {
        diagnostics.push({ severity, code, object: refOf(gateway), source: gateway.source, path: `${path}${field}`, message });
      };
      const protocol = serverProtocol(server);
      if (protocol.kind === 'not-served') {
        warn(server.port.protocol.toUpperCase() === 'HTTPS' ? '.tls.mode' : '.port.protocol', protocol.message, 'ERR_GATEWAY_LISTENER_UNSUPPORTED');
        return;
      }
      if (server.bind !== undefined) warn('.bind', 'bind is not implemented; the server listens on --listen-address');
      const planned: PlannedServer = {
        gateway,
        index: i,
        path,
        port: server.port.number,
        hosts: server.hosts.map((h) => parseServerHost(h, ns)),
        httpsRedirect: protocol.kind === 'http' && server.tls?.httpsRedirect === true,
      };
      let certificate: IrCertificate | undefined;
      if (protocol.kind === 'https') {
        const name = server.tls?.credentialName;
        if (name === undefined) {
          warn('.tls', 'tls.mode SIMPLE needs tls.credentialName (a kubernetes.io/tls Secret in the Gateway\'s namespace); file paths (serverCertificate) are not read; the server is not programmed', 'ERR_TLS_SECRET_NOT_FOUND', 'error');
          return;
        }
        const secret = index.secrets.get(namespacedKey(ns, name));
        if (!secret) {
          warn('.tls.credentialName', `Secret "${name}" not found in namespace "${ns}"; the server is not programmed`, 'ERR_TLS_SECRET_NOT_FOUND', 'error');
          return;
        }
        const pair = checkKeyPair(secret);
        if (pair.kind === 'invalid') {
          warn('.tls.credentialName', `Secret ${ns}/${name} ${pair.message}; the server is not programmed`, 'ERR_TLS_SECRET_INVALID', 'error');
          return;
        }
        const hosts = planned.hosts.map((h) => h.host);
        certificate = {
          name: `istio/${ns}/${gateway.metadata.name}/server/${i}/${ns}/${name}`,
          origin: refOf(secret),
          serverNames: hosts.includes('*') ? pair.sanNames : hosts,
          certPem: pair.certPem,
          keyPem: pair.keyPem,
        };
      }
      const existing = ports.get(planned.port);
      if (existing && existing.protocol !== protocol.kind) {
        warn('.port.protocol', `port ${planned.port} is already served as ${existing.protocol.toUpperCase()} by Gateway ${istioGatewayKey(existing.first.gateway)} ${existing.first.path}; a port has one protocol; the server is not programmed`, 'ERR_LISTENER_CONFLICT', 'error');
        return;
      }
      if (existing) {
        if (certificate) existing.certificates.push(certificate);
      } else ports.set(planned.port, { protocol: protocol.kind, first: planned, certificates: certificate ? [certificate] : [] });
      list.push(planned);
    });
  }
  return {
    ports: [...ports.entries()].sort(([a], [b]) => a - b).map(([port, p]) => ({ port, ...p })),
    servers,
    known,
  };
}
