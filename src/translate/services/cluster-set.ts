import type { Diagnostic } from '../../core/diagnostic.js';
import type { ConfigErrorCode } from '../../core/errors.js';
import type { IrCluster, IrLoadBalancer, IrUpstreamTls } from '../../ir/types.js';
import { formatFieldPath } from '../../resources/schema-issue.js';
import { refOf, type Service } from '../../resources/resource.js';
import type { ServicePort } from '../../resources/service.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { backendProtocolOf } from './backend-protocol.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import { createPodWeights } from './endpoint-weight.js';
import { readLoadBalancer } from './load-balancer-annotations.js';
import { resolveServiceEndpoints } from './service-endpoints.js';
import { readUpstreamTls, upstreamTlsAnnotationsOf, type UpstreamTlsResolution } from './upstream-tls-annotations.js';


export type ServicePortSelector = { readonly kind: 'number'; readonly number: number } | { readonly kind: 'name'; readonly name: string };

export type BackendResolution =
  | { readonly kind: 'ok'; readonly cluster: string; readonly externalName?: string }
  | {
      readonly kind: 'error';
      readonly code: ConfigErrorCode;
      readonly message: string;
      /** Set when a policy (not the reference itself) makes the port unusable: the policy's status says why. */
      readonly policy?: string;
    };

/**
 * What the route kind assumes when the Service port does not name its protocol: `http1` for
 * Ingress and HTTPRoute, `h2c` for GRPCRoute (see backendProtocolOf).
 */
export type UnstatedProtocol = 'http1' | 'h2c';

/** Upstream TLS a policy (Gateway API's BackendTLSPolicy) sets for one Service port. */
export type AppliedBackendTls =
  | { readonly kind: 'ok'; readonly policy: string; readonly tls: IrUpstreamTls }
  /** The policy cannot be used: the port is refused (5xx), neither cleartext nor unverified. */
  | { readonly kind: 'invalid'; readonly policy: string; readonly message: string };

/** Policies that make a Service port speak TLS, whatever its appProtocol says. */
export interface BackendTlsOverrides {
  forPort(namespace: string, service: Service, port: ServicePort): AppliedBackendTls | undefined;
}

export const NO_BACKEND_TLS_OVERRIDES: BackendTlsOverrides = { forPort: () => undefined };

/** The TLS form of a protocol: a policy that asks for TLS upgrades HTTP/1.1 to https and h2c to h2. */
function withTls(protocol: IrCluster['protocol']): IrCluster['protocol'] {
  return protocol === 'http1' ? 'https' : protocol === 'h2c' ? 'h2' : protocol;
}

/** Collects the clusters that routes reference; only those are emitted. */
export interface ClusterSet {
  reference(namespace: string, serviceName: string, port: ServicePortSelector, unstated?: UnstatedProtocol): BackendResolution;
  build(): IrCluster[];
}

function isTlsProtocol(protocol: IrCluster['protocol']): boolean {
  return protocol === 'https' || protocol === 'h2';
}

function describePorts(service: Service, by: ServicePortSelector['kind']): string {
  const ports = service.spec.ports;
  if (ports.length === 0) return 'the Service has no ports';
  if (by === 'number') return `ports: ${ports.map((p) => p.port).join(', ')}`;
  const names = ports.flatMap((p) => (p.name ? [p.name] : []));
  return names.length === 0 ? `its ports have no names: ${ports.map((p) => p.port).join(', ')}` : `port names: ${names.join(', ')}`;
}

export function createClusterSet(index: ResourceIndex, diagnostics: Diagnostic[], overrides: BackendTlsOverrides = NO_BACKEND_TLS_OVERRIDES): ClusterSet {
  const referenced = new Map<string, { service: Service; port: ServicePort; protocol: IrCluster['protocol']; tls?: IrUpstreamTls }>();
  const shadowedAnnotations = new Set<string>();
  const weightOf = createPodWeights(diagnostics);
  const lbByService = new Map<Service, IrLoadBalancer>();
  const tlsByService = new Map<Service, UpstreamTlsResolution>();
  const checkedForUnusedTls = new Set<Service>();

  // Read once per Service, so its diagnostics appear once however many routes use it.
  const tlsOf = (service: Service, namespace: string): UpstreamTlsResolution => {
    let tls = tlsByService.get(service);
    if (!tls) {
      tls = readUpstreamTls(service, namespace, index, diagnostics);
      tlsByService.set(service, tls);
    }
    return tls;
  };

  // TLS annotations on a Service none of whose ports speaks TLS usually mean a missing
  // `appProtocol: https`: traffic would go out in cleartext while the YAML suggests otherwise.
  const warnUnusedTls = (service: Service): void => {
    if (checkedForUnusedTls.has(service)) return;
    checkedForUnusedTls.add(service);
    if (service.spec.ports.some((p) => isTlsProtocol(backendProtocolOf(p.appProtocol, p.name)))) return;
    for (const annotation of upstreamTlsAnnotationsOf(service)) {
      diagnostics.push({
        severity: 'warning',
        code: 'ERR_RESOURCE_INVALID',
        object: refOf(service),
        source: service.source,
        path: formatFieldPath(['metadata', 'annotations', annotation]),
        message: 'has no effect: no port of this Service speaks TLS (set appProtocol: https on the port that does)',
      });
    }
  };

  const reference = (namespace: string, serviceName: string, selector: ServicePortSelector, unstated: UnstatedProtocol = 'http1'): BackendResolution => {
    const service = index.services.get(namespacedKey(namespace, serviceName));
    if (!service) {
      return { kind: 'error', code: 'ERR_BACKEND_SERVICE_NOT_FOUND', message: `Service "${serviceName}" not found in namespace "${namespace}"` };
    }
    let port = service.spec.ports.find((p) => (selector.kind === 'number' ? p.port === selector.number : p.name === selector.name));
    const externalName = service.spec.type === 'ExternalName' ? service.spec.externalName : undefined;
    // An ExternalName Service is a DNS alias: clients connect to the name on the port they chose,
    // so an undeclared port number is fine there (ingress-nginx accepts it too).
    if (!port && externalName !== undefined && selector.kind === 'number') port = { port: selector.number, protocol: 'TCP' };
    if (!port) {
      const wanted = selector.kind === 'number' ? `port ${selector.number}` : `port named "${selector.name}"`;
      return {
        kind: 'error',
        code: 'ERR_BACKEND_PORT_NOT_FOUND',
        message: `Service "${serviceName}" has no ${wanted} (${describePorts(service, selector.kind)})`,
      };
    }
    if (port.protocol !== 'TCP') {
      return { kind: 'error', code: 'ERR_BACKEND_PORT_NOT_FOUND', message: `Service "${serviceName}" port ${port.port} is ${port.protocol}, not TCP` };
    }
    const policy = overrides.forPort(namespace, service, port);
    if (policy?.kind === 'invalid') {
      return { kind: 'error', code: 'ERR_BACKEND_TLS_INVALID', message: `Service "${serviceName}" port ${port.port} ${policy.message}`, policy: policy.policy };
    }
    if (policy !== undefined) {
      // The policy replaces the Service's own TLS annotations on this port.
      const annotations = upstreamTlsAnnotationsOf(service);
      const key = `${namespace}/${serviceName}/${port.port}`;
      if (annotations.length > 0 && !shadowedAnnotations.has(key)) {
        shadowedAnnotations.add(key);
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_RESOURCE_INVALID',
          object: refOf(service),
          source: service.source,
          path: formatFieldPath(['metadata', 'annotations', annotations[0]!]),
          message: `ignored on port ${port.port}: ${policy.policy} sets its upstream TLS`,
        });
      }
      const protocol = withTls(backendProtocolOf(port.appProtocol, port.name, unstated));
      const assumed = protocol !== withTls(backendProtocolOf(port.appProtocol, port.name));
      const cluster = `service/${namespace}/${serviceName}/${port.port}${assumed ? `/${protocol}` : ''}`;
      if (!referenced.has(cluster)) referenced.set(cluster, { service, port, protocol, tls: policy.tls });
      return externalName === undefined ? { kind: 'ok', cluster } : { kind: 'ok', cluster, externalName };
    }
    if (isTlsProtocol(backendProtocolOf(port.appProtocol, port.name))) {
      if (tlsOf(service, namespace).kind === 'invalid') {
        return {
          kind: 'error',
          code: 'ERR_BACKEND_TLS_INVALID',
          message: `Service "${serviceName}" port ${port.port} speaks TLS, but its upstream TLS annotations cannot be used (see the Service's diagnostics)`,
        };
      }
    } else warnUnusedTls(service);
    // One Service port can be an HTTP/1.1 cluster for an HTTPRoute and an h2c one for a GRPCRoute
    // when the port does not say; the assumed protocol then names a cluster of its own.
    const protocol = backendProtocolOf(port.appProtocol, port.name, unstated);
    const assumed = protocol !== backendProtocolOf(port.appProtocol, port.name);
    const cluster = `service/${namespace}/${serviceName}/${port.port}${assumed ? `/${protocol}` : ''}`;
    if (!referenced.has(cluster)) referenced.set(cluster, { service, port, protocol });
    return externalName === undefined ? { kind: 'ok', cluster } : { kind: 'ok', cluster, externalName };
  };

  const lbOf = (service: Service): IrLoadBalancer => {
    let lb = lbByService.get(service);
    if (!lb) {
      lb = readLoadBalancer(service, diagnostics);
      lbByService.set(service, lb);
    }
    return lb;
  };

  const build = (): IrCluster[] => {
    const entries = [...referenced.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.map(([name, { service, port, protocol, tls: policyTls }]) => {
      const externalName = service.spec.type === 'ExternalName' ? service.spec.externalName : undefined;
      const endpoints =
        externalName !== undefined
          ? [{ address: externalName, port: port.port, weight: 1 }]
          : resolveServiceEndpoints(service, port, index, weightOf);
      if (endpoints.length === 0) {
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_BACKEND_NO_ENDPOINTS',
          object: refOf(service),
          source: service.source,
          message: `no ready endpoints for port ${port.port}; requests to it get 503`,
        });
      }
      // reference() refused TLS ports whose settings are invalid, so only `ok` reaches here.
      const tls: UpstreamTlsResolution | undefined = policyTls !== undefined ? { kind: 'ok', tls: policyTls } : isTlsProtocol(protocol) ? tlsByService.get(service) : undefined;
      return {
        name,
        origin: refOf(service),
        protocol,
        ...(tls?.kind === 'ok' ? { tls: tls.tls } : {}),
        lb: lbOf(service),
        endpoints,
        connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
        passiveHealth: DEFAULT_PASSIVE_HEALTH,
      };
    });
  };

  return { reference, build };
}
