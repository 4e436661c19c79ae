// Istio Gateways (networking.istio.io) → what this instance serves, per port. A Gateway configures
// the gateway workloads its `selector` matches; this instance is one whose Pod labels are
// `--istio-gateway-labels` (default istio=ingressgateway), so a Gateway whose selector those labels
// satisfy is ours and any other is left alone, silently, as another gateway's.
// As Istio merges every server on one port into one Envoy listener, Isthmus makes one logical
// listener per port (`istio/port/<n>`): its protocol is decided by the oldest server on it; TLS
// servers add their certificates (chosen by SNI), each with its own client validation (MUTUAL,
// OPTIONAL_MUTUAL), as each Istio server is its own Envoy filter chain.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate, IrClientValidation } from '../../ir/types.js';
import { refOf, type IstioGateway } from '../../resources/resource.js';
import type { IstioServer } from '../../resources/istio-kinds.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { readIstioCa, readIstioKeyPair } from './istio-credentials.js';

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
  /** MUTUAL and OPTIONAL_MUTUAL servers: client validation by certificate name (each server has its own). */
  readonly clientValidation: ReadonlyMap<string, IrClientValidation>;
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

const TCP_PROTOCOLS = new Set(['TCP', 'MONGO', 'MYSQL', 'REDIS']);

/** Which Gateway servers are L4 (istio-l4.ts serves them); undefined for the HTTP ones planned here. */
export function l4ServerKind(server: IstioServer): 'TCP' | 'TLS' | undefined {
  const protocol = server.port.protocol.toUpperCase();
  if (TCP_PROTOCOLS.has(protocol)) return 'TCP';
  if ((protocol === 'TLS' || protocol === 'HTTPS') && server.tls?.mode === 'PASSTHROUGH') return 'TLS';
  return undefined;
}

type ServerProtocol = { readonly kind: 'http' } | { readonly kind: 'https' } | { readonly kind: 'not-served'; readonly message: string };

function serverProtocol(server: IstioServer): ServerProtocol {
  const protocol = server.port.protocol.toUpperCase();
  const mode = server.tls?.mode;
  if (protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'GRPC-WEB') return { kind: 'http' };
  if (protocol === 'HTTPS') {
    if (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') return { kind: 'https' };
    if (mode === undefined) return { kind: 'not-served', message: 'an HTTPS server needs tls.mode (SIMPLE, MUTUAL and OPTIONAL_MUTUAL are supported); the server is not programmed' };
    if (mode === 'AUTO_PASSTHROUGH') return { kind: 'not-served', message: 'tls.mode AUTO_PASSTHROUGH (SNI-DNAT to mesh services, for multi-network east-west gateways) is not implemented; PASSTHROUGH is; the server is not programmed' };
    return { kind: 'not-served', message: 'tls.mode ISTIO_MUTUAL needs the mesh CA (istiod issues the certificates), which Isthmus does not have; the server is not programmed' };
  }
  return { kind: 'not-served', message: `protocol ${server.port.protocol}${protocol === 'TLS' ? ` with tls.mode ${mode ?? '(none)'}` : ''} is not served; Isthmus serves HTTP, HTTP2, GRPC, HTTPS, TCP (also MONGO, MYSQL, REDIS) and TLS/HTTPS in PASSTHROUGH mode; the server is not programmed` };
}

export function planIstioGateways(index: ResourceIndex, labels: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): IstioGatewayPlan {
  const known = new Set(index.istioGateways.map(istioGatewayKey));
  const gateways = index.istioGateways.filter((g) => selectsUs(g.spec.selector, labels)).sort(compareByCreation);
  const servers = new Map<string, PlannedServer[]>();
  const ports = new Map<number, { protocol: 'http' | 'https'; first: PlannedServer; certificates: IrCertificate[]; clientValidation: Map<string, IrClientValidation> }>();
  for (const gateway of gateways) {
    const ns = gateway.metadata.namespace ?? 'default';
    const list: PlannedServer[] = [];
    servers.set(istioGatewayKey(gateway), list);
    gateway.spec.servers.forEach((server, i) => {
      const path = `spec.servers[${i}]`;
      const warn = (field: string, message: string, code: Diagnostic['code'] = 'ERR_ISTIO_UNSUPPORTED', severity: Diagnostic['severity'] = 'warning'): void => {
        diagnostics.push({ severity, code, object: refOf(gateway), source: gateway.source, path: `${path}${field}`, message });
      };
      if (l4ServerKind(server) !== undefined) return;
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
      let clientValidation: IrClientValidation | undefined;
      if (protocol.kind === 'https') {
        const mode = server.tls?.mode ?? 'SIMPLE';
        const name = server.tls?.credentialName;
        if (name === undefined) {
          warn('.tls', `tls.mode ${mode} needs tls.credentialName (a Secret in the Gateway's namespace with tls.crt and tls.key, or cert and key); file paths (serverCertificate) are not read; the server is not programmed`, 'ERR_TLS_SECRET_NOT_FOUND', 'error');
          return;
        }
        const secret = index.secrets.get(namespacedKey(ns, name));
        if (!secret) {
          warn('.tls.credentialName', `Secret "${name}" not found in namespace "${ns}"; the server is not programmed`, 'ERR_TLS_SECRET_NOT_FOUND', 'error');
          return;
        }
        const pair = readIstioKeyPair(index, ns, name);
        if (pair.kind === 'invalid') {
          warn('.tls.credentialName', `${pair.message}; the server is not programmed`, 'ERR_TLS_SECRET_INVALID', 'error');
          return;
        }
        if (mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
          const validation = clientValidationOf(server, mode, index, ns, name);
          if (validation.kind === 'invalid') {
            warn(validation.field, `${validation.message}; the server is not programmed (mutual TLS asked for is never served without it)`, 'ERR_TLS_CLIENT_CA_INVALID', 'error');
            return;
          }
          clientValidation = validation.validation;
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
      const entry = existing ?? { protocol: protocol.kind, first: planned, certificates: [], clientValidation: new Map<string, IrClientValidation>() };
      if (!existing) ports.set(planned.port, entry);
      if (certificate) entry.certificates.push(certificate);
      if (certificate && clientValidation) entry.clientValidation.set(certificate.name, clientValidation);
      list.push(planned);
    });
  }
  return {
    ports: [...ports.entries()].sort(([a], [b]) => a - b).map(([port, p]) => ({ port, ...p })),
    servers,
    known,
  };
}

type ServerValidation = { readonly kind: 'ok'; readonly validation: IrClientValidation } | { readonly kind: 'invalid'; readonly field: string; readonly message: string };

/**
 * MUTUAL / OPTIONAL_MUTUAL: the CA that client certificates must lead to, from the credential
 * Secret's `ca.crt` (or `cacert`) or the `<credentialName>-cacert` Secret, as Istio's gateway
 * reads them. MUTUAL requires a certificate; OPTIONAL_MUTUAL asks for one and refuses one that
 * does not verify (Envoy: `require_client_certificate: false` with a validation context).
 */
function clientValidationOf(server: IstioServer, mode: 'MUTUAL' | 'OPTIONAL_MUTUAL', index: ResourceIndex, ns: string, name: string): ServerValidation {
  if (server.tls?.subjectAltNames !== undefined && server.tls.subjectAltNames.length > 0) {
    // Accepting every certificate the CA signed would let in clients the config means to refuse.
    return { kind: 'invalid', field: '.tls.subjectAltNames', message: 'matching client certificates against subjectAltNames is not implemented yet' };
  }
  if (server.tls?.caCrl !== undefined) return { kind: 'invalid', field: '.tls.caCrl', message: 'certificate revocation lists are not implemented yet' };
  const ca = readIstioCa(index, ns, name);
  if (ca === undefined) {
    return { kind: 'invalid', field: '.tls.credentialName', message: `tls.mode ${mode} needs a CA for client certificates: "ca.crt" (or "cacert") in Secret ${ns}/${name} or in Secret ${ns}/${name}-cacert, and there is none${server.tls?.caCertificates !== undefined ? ' (caCertificates file paths are not read)' : ''}` };
  }
  if (ca.kind === 'invalid') return { kind: 'invalid', field: '.tls.credentialName', message: ca.message };
  return { kind: 'ok', validation: { caPem: ca.pem, mode: mode === 'MUTUAL' ? 'allow-valid-only' : 'verify-if-presented' } };
}
