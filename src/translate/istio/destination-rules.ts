// DestinationRules → the clusters VirtualService destinations reach. A destination without a
// DestinationRule uses the Service port's ordinary cluster (the one Ingress and Gateway API use);
// one with a rule gets a cluster of its own per (Service, port, subset), named after the rule
// (`destinationrule/<ns>/<rule>/<service-ns>/<service>/<port>[/subset/<name>]`), whose endpoints
// are the Service's whose Pods carry the subset's labels and whose load balancing, timeouts,
// circuit breakers and health (traffic-policy.ts) and upstream TLS (destination-rule-tls.ts) come
// from the merged traffic policy. Policies merge as in Istio: a subset's policy replaces the
// rule's field by field, and a portLevelSettings entry for the port replaces the policy it sits
// in, field by field. What a rule asks for that is not done: destination-rule-warnings.ts.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate, IrCluster } from '../../ir/types.js';
import { DEFAULT_PASSIVE_HEALTH } from '../../ir/defaults.js';
import { refOf, type DestinationRule, type Service } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { ClusterSet } from '../services/cluster-set.js';
import { mutualKeyPair, upstreamTlsOf } from './destination-rule-tls.js';
import { reportUnsupported } from './destination-rule-warnings.js';
import { HEALTH_CHECK_ANNOTATION, healthCheckOf, type HealthCheckParse } from './health-check-annotation.js';
import { parseIstioDuration } from './istio-durations.js';
import { createDestinationRuleLookup } from './destination-rule-lookup.js';
import { serviceFqdn, serviceOfHost } from './istio-hosts.js';
import type { ServiceEntryHosts } from './service-entries.js';
import { activeHealthCheckOf, atPort, circuitBreakersOf, loadBalancerOf, mergePolicy, passiveHealthOf, type Policy } from './traffic-policy.js';
import type { DestinationResolution } from './destination-resolution.js';

export type { DestinationResolution } from './destination-resolution.js';

interface Derivation {
  readonly base: string;
  readonly rule: DestinationRule;
  readonly service: Service;
  readonly port: number;
  readonly subset?: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly policy: Policy;
}


export interface IstioClusters {
  /**
   * A destination (host, subset, port) written in `namespace`, used by a proxy in
   * `clientNamespace` (whose DestinationRule applies: destination-rule-lookup.ts) → a cluster
   * name, or why not.
   */
  resolve(host: string, subset: string | undefined, port: number | undefined, namespace: string, clientNamespace: string, listenerPort?: number): DestinationResolution;
  /** The final cluster list: derived clusters added, base clusters only Istio asked for and no route uses dropped. */
  finish(base: readonly IrCluster[], used: ReadonlySet<string>): IrCluster[];
  /** After `finish`: the client certificates of MUTUAL clusters (`IrUpstreamTls.clientCertificate`), for `IrSnapshot.certificates`. */
  certificates(): IrCertificate[];
}

function podLabelsOf(target: string | undefined, index: ResourceIndex): Readonly<Record<string, string>> | undefined {
  if (target === undefined || !target.startsWith('pod/')) return undefined;
  const [, ns, name] = target.split('/');
  return index.pods.get(namespacedKey(ns, name ?? ''))?.metadata.labels;
}

export function createIstioClusters(index: ResourceIndex, clusters: ClusterSet, diagnostics: Diagnostic[], serviceEntries?: ServiceEntryHosts): IstioClusters {
  // Rules by namespace and host; which one a client uses is destination-rule-lookup.ts's.
  const lookup = createDestinationRuleLookup(diagnostics);
  const healthChecks = new Map<DestinationRule, Extract<HealthCheckParse, { kind: 'ok' }>['check']>();
  for (const rule of [...index.destinationRules].sort(compareByCreation)) {
    const ns = rule.metadata.namespace ?? 'default';
    const warn = (path: string, code: Diagnostic['code'], message: string, severity: Diagnostic['severity'] = 'warning'): void => {
      diagnostics.push({ severity, code, object: refOf(rule), source: rule.source, path, message });
    };
    let host: string;
    let serviceNamespace: string | undefined;
    if (rule.spec.host.includes('*')) {
      // `*.ns.svc.cluster.local`, `*.local`, `*`: every Service and ServiceEntry host it covers.
      host = rule.spec.host.toLowerCase();
      if (host !== '*' && !host.startsWith('*.')) {
        warn('spec.host', 'ERR_RESOURCE_INVALID', `a wildcard host is "*" or starts with "*."; "${rule.spec.host}" applies to nothing`);
        continue;
      }
    } else {
      const service = serviceOfHost(rule.spec.host, ns, index);
      const entryHost = service ? undefined : serviceEntries?.canonical(rule.spec.host, ns);
      if (!service && entryHost === undefined) {
        warn('spec.host', 'ERR_POLICY_TARGET_NOT_FOUND', `"${rule.spec.host}" is not a Service or a ServiceEntry host Isthmus knows; the rule applies to nothing`);
        continue;
      }
      host = service ? serviceFqdn(service) : entryHost!;
      serviceNamespace = service ? (service.metadata.namespace ?? 'default') : serviceEntries?.namespaceOf(rule.spec.host, ns);
    }
    if (!lookup.add(rule, host, serviceNamespace)) continue;
    reportUnsupported(rule, diagnostics);
    const check = healthCheckOf(rule.metadata.annotations, (severity, message) => warn(`metadata.annotations["${HEALTH_CHECK_ANNOTATION}"]`, 'ERR_HEALTH_CHECK_INVALID', message, severity));
    if (check?.kind === 'ok') healthChecks.set(rule, check.check);
  }

  const derivations = new Map<string, Derivation>();
  const requestedBases = new Set<string>();

  const resolve = (host: string, subset: string | undefined, port: number | undefined, namespace: string, clientNamespace: string, listenerPort?: number): DestinationResolution => {
    const service = serviceOfHost(host, namespace, index);
    if (!service) return serviceEntries?.resolve(host, subset, port, namespace, clientNamespace, (h, entryNs) => lookup.ruleFor(h, entryNs, clientNamespace), listenerPort) ?? { kind: 'error', code: 'ERR_BACKEND_SERVICE_NOT_FOUND', message: `host "${host}" is not a Service or a ServiceEntry host in this configuration` };
    const svcNs = service.metadata.namespace ?? 'default';
    let number = port;
    // Without a port, a Service's only port; else the port the request came in on, as a sidecar
    // does (its listener port is the Service port), when the Service has it.
    if (number === undefined && service.spec.ports.length !== 1 && listenerPort !== undefined && service.spec.ports.some((p) => p.port === listenerPort)) number = listenerPort;
    if (number === undefined) {
      if (service.spec.ports.length !== 1) return { kind: 'error', code: 'ERR_BACKEND_PORT_NOT_FOUND', message: `Service ${svcNs}/${service.metadata.name} has ${service.spec.ports.length} ports; destination.port.number must say which (or the gateway port must be one of them)` };
      number = service.spec.ports[0]!.port;
    }
    const base = clusters.reference(svcNs, service.metadata.name, { kind: 'number', number });
    if (base.kind === 'error') return { kind: 'error', code: base.code, message: base.message };
    const rule = lookup.ruleFor(serviceFqdn(service), svcNs, clientNamespace);
    let subsetSpec: DestinationRule['spec']['subsets'][number] | undefined;
    if (subset !== undefined) {
      subsetSpec = rule?.spec.subsets.find((s) => s.name === subset);
      if (!subsetSpec) {
        return {
          kind: 'error',
          code: 'ERR_BACKEND_SUBSET_NOT_FOUND',
          message: rule
            ? `subset "${subset}" is not defined by DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} (subsets: ${rule.spec.subsets.map((s) => s.name).join(', ') || 'none'})`
            : `subset "${subset}" needs a DestinationRule for Service ${svcNs}/${service.metadata.name}, and there is none`,
        };
      }
    }
    if (!rule) return { kind: 'ok', cluster: base.cluster };
    const policy = mergePolicy(atPort(rule.spec.trafficPolicy, number), atPort(subsetSpec?.trafficPolicy, number));
    const tlsMode = policy.tls?.mode;
    if (tlsMode === 'ISTIO_MUTUAL') {
      return {
        kind: 'error',
        code: 'ERR_BACKEND_TLS_INVALID',
        message: `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} asks for tls.mode ISTIO_MUTUAL, which needs the mesh CA (istiod issues the workload certificates); never sent unencrypted or unverified`,
      };
    }
    if (tlsMode === 'MUTUAL') {
      // Without its client certificate the upstream would refuse the handshake anyway: say why once, here.
      const pair = mutualKeyPair(policy, rule, index);
      if (pair.kind === 'invalid') return { kind: 'error', code: 'ERR_BACKEND_TLS_INVALID', message: `DestinationRule ${rule.metadata.namespace}/${rule.metadata.name} tls.mode MUTUAL: ${pair.message}; never sent without the client certificate` };
    }
    const name = `destinationrule/${rule.metadata.namespace}/${rule.metadata.name}/${svcNs}/${service.metadata.name}/${number}${subsetSpec ? `/subset/${subsetSpec.name}` : ''}`;
    requestedBases.add(base.cluster);
    if (!derivations.has(name)) {
      derivations.set(name, { base: base.cluster, rule, service, port: number, policy, ...(subsetSpec ? { subset: { name: subsetSpec.name, labels: subsetSpec.labels } } : {}) });
    }
    return { kind: 'ok', cluster: name };
  };

  const clientCertificates = new Map<string, IrCertificate>();
  const finish = (base: readonly IrCluster[], used: ReadonlySet<string>): IrCluster[] => {
    lookup.reportOffPath();
    const byName = new Map(base.map((c) => [c.name, c]));
    const derived: IrCluster[] = [];
    for (const [name, d] of derivations) {
      const from = byName.get(d.base);
      if (!from) continue;
      let endpoints = from.endpoints;
      if (d.subset) {
        const labels = d.subset.labels;
        endpoints = endpoints.filter((e) => {
          const podLabels = podLabelsOf(e.target, index);
          return podLabels !== undefined && Object.entries(labels).every(([k, v]) => podLabels[k] === v);
        });
        if (endpoints.length === 0) {
          diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_NO_ENDPOINTS', object: refOf(d.rule), source: d.rule.source, path: `spec.subsets[${d.rule.spec.subsets.findIndex((s) => s.name === d.subset!.name)}].labels`, message: `no ready endpoint of Service ${d.service.metadata.namespace}/${d.service.metadata.name} port ${d.port} runs in a Pod with these labels; requests to subset "${d.subset.name}" get 503` });
        }
      }
      const tls = upstreamTlsOf(d.policy.tls, d, index, diagnostics, clientCertificates);
      const protocol = tls === undefined ? from.protocol : from.protocol === 'http1' ? 'https' : from.protocol === 'h2c' ? 'h2' : from.protocol;
      const connectTimeoutMs = parseIstioDuration(String(d.policy.connectionPool?.tcp?.connectTimeout ?? '')) ?? from.connectTimeoutMs;
      const idleTimeoutMs = parseIstioDuration(String(d.policy.connectionPool?.http?.idleTimeout ?? '')) ?? from.idleTimeoutMs;
      const { tls: _baseTls, ...rest } = from;
      derived.push({
        ...rest,
        name,
        origin: refOf(d.rule),
        protocol,
        ...(tls !== undefined ? { tls } : tls === undefined && d.policy.tls?.mode !== 'DISABLE' && from.tls ? { tls: from.tls } : {}),
        lb: loadBalancerOf(d.policy) ?? from.lb,
        endpoints,
        ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
        // 0s would mean "never idle" in Envoy; keeping connections forever is not offered.
        ...(idleTimeoutMs !== undefined && idleTimeoutMs > 0 ? { idleTimeoutMs } : {}),
        passiveHealth: passiveHealthOf(d.policy) ?? from.passiveHealth ?? DEFAULT_PASSIVE_HEALTH,
        ...circuitBreakersOf(d.policy, from.circuitBreakers),
        ...activeHealthCheckOf(healthChecks.get(d.rule), d.service),
      });
    }
    const kept = base.filter((c) => !requestedBases.has(c.name) || used.has(c.name));
    return [...kept, ...derived, ...(serviceEntries?.clusters() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const certificates = (): IrCertificate[] => [...clientCertificates.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resolve, finish, certificates };
}
