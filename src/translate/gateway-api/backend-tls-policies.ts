// BackendTLSPolicy (gateway.networking.k8s.io/v1, and v1alpha3) → the upstream TLS of the Service
// ports it targets. Resolved once per snapshot, before any route, because a policy belongs to the
// Service port (its cluster) and so applies to every route that reaches that port: HTTPRoute and
// GRPCRoute (the spec's Extended support) and Ingress too (implementation-specific: "All Gateway
// API Routes that point to a referenced Service should respect a configured BackendTLSPolicy",
// and a cluster is one Service port here). Statuses come later (backend-tls-policy-status.ts),
// once the routes say which Gateways use the Service. Pure: no I/O, no clock.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrSubjectAltName, IrUpstreamTls } from '../../ir/types.js';
import { refOf, type BackendTlsPolicy, type Service } from '../../resources/resource.js';
import type { ServicePort } from '../../resources/service.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { AppliedBackendTls, BackendTlsOverrides } from '../services/cluster-set.js';
import { resolveCaCertificateRef } from './ca-certificate-refs.js';

/** The one well-known CA set Gateway API defines: the platform's roots (Node's default store here). */
const SYSTEM_CAS = 'System';

export type PolicyCondition<R extends string> = { readonly ok: true } | { readonly ok: false; readonly reason: R; readonly message: string };

/** One policy as read, before precedence: what its Accepted and ResolvedRefs conditions say. */
export interface EvaluatedPolicy {
  readonly policy: BackendTlsPolicy;
  /** `Invalid` (the spec's CEL rules, wellKnownCACertificates) or `NoValidCACertificate`. */
  readonly accepted: PolicyCondition<'Invalid' | 'NoValidCACertificate'>;
  readonly resolvedRefs: PolicyCondition<'InvalidKind' | 'InvalidCACertificateRef'>;
  /** Absent when the policy cannot be used: the ports it wins answer 5xx. */
  readonly tls?: IrUpstreamTls;
  /** The Service ports it targets, as `namespace/service` and the port name (absent: every port). */
  readonly targets: readonly PolicyTarget[];
  /** Targets on which an older policy took precedence, with that policy's name. */
  readonly lostTo: readonly { readonly target: PolicyTarget; readonly winner: string }[];
}

export interface PolicyTarget {
  readonly namespace: string;
  readonly service: string;
  readonly sectionName?: string;
}

export interface BackendTlsPolicies extends BackendTlsOverrides {
  readonly evaluated: readonly EvaluatedPolicy[];
}

function policyName(p: BackendTlsPolicy): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

function targetKey(t: PolicyTarget): string {
  return `${t.namespace}/${t.service}#${t.sectionName ?? ''}`;
}

/** Reads the validation block: the CEL rules of the CRD the schema package does not check, then the CA references. */
function evaluate(policy: BackendTlsPolicy, index: ResourceIndex, diagnostics: Diagnostic[]): Omit<EvaluatedPolicy, 'targets' | 'lostTo'> {
  const namespace = policy.metadata.namespace ?? 'default';
  const v = policy.spec.validation;
  const report = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
    diagnostics.push({ severity, code, object: refOf(policy), source: policy.source, path, message });
  };
  const unusable = 'the Service ports it governs answer 5xx (never reached unverified)';
  const invalid = (path: string, message: string): Omit<EvaluatedPolicy, 'targets' | 'lostTo'> => {
    report('error', 'ERR_BACKEND_TLS_INVALID', path, `${message}; ${unusable}`);
    return { policy, accepted: { ok: false, reason: 'Invalid', message: `${path}: ${message}` }, resolvedRefs: { ok: true } };
  };
  if (policy.spec.options !== undefined && Object.keys(policy.spec.options).length > 0) {
    report('warning', 'ERR_POLICY_UNSUPPORTED', 'spec.options', `no option is implemented; ignored: ${Object.keys(policy.spec.options).sort().join(', ')}`);
  }
  const refs = v.caCertificateRefs ?? [];
  const wellKnown = v.wellKnownCACertificates ?? '';
  if (refs.length > 0 && wellKnown !== '') return invalid('spec.validation', 'expected either caCertificateRefs or wellKnownCACertificates, found both');
  if (refs.length === 0 && wellKnown === '') return invalid('spec.validation', 'expected caCertificateRefs or wellKnownCACertificates: System, found neither');
  if (wellKnown !== '' && wellKnown !== SYSTEM_CAS) return invalid('spec.validation.wellKnownCACertificates', `expected "${SYSTEM_CAS}", found "${wellKnown}"`);

  const subjectAltNames: IrSubjectAltName[] = [];
  for (const [i, san] of (v.subjectAltNames ?? []).entries()) {
    const path = `spec.validation.subjectAltNames[${i}]`;
    if (san.type === 'Hostname') {
      if (san.hostname === undefined || san.hostname === '' || san.uri !== undefined) return invalid(path, 'type Hostname expects hostname set and uri unset');
      subjectAltNames.push({ kind: 'dns', value: san.hostname.toLowerCase() });
    } else {
      if (san.uri === undefined || san.uri === '' || san.hostname !== undefined) return invalid(path, 'type URI expects uri set and hostname unset');
      subjectAltNames.push({ kind: 'uri', value: san.uri });
    }
  }

  let resolvedRefs: EvaluatedPolicy['resolvedRefs'] = { ok: true };
  const pems: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const path = `spec.validation.caCertificateRefs[${i}]`;
    const resolution = resolveCaCertificateRef(ref, namespace, index);
    if (resolution.kind === 'ok') {
      pems.push(resolution.pem);
      if (resolution.ignored.length > 0) report('warning', 'ERR_RESOURCE_INVALID', path, `"ca.crt" of ${ref.kind} "${ref.name}" also holds ${resolution.ignored.join(', ')} blocks; only its certificates are used`);
      continue;
    }
    const reason = resolution.kind === 'invalid-kind' ? 'InvalidKind' : 'InvalidCACertificateRef';
    // Only the certificates of valid references are trusted: a backend whose CA sits behind a
    // broken reference fails its handshake (502), as "connections using an invalid
    // CACertificateRef MUST fail" asks.
    report('error', 'ERR_BACKEND_TLS_INVALID', path, `${resolution.message}; this reference adds no CA`);
    if (resolvedRefs.ok) resolvedRefs = { ok: false, reason, message: `${path}: ${resolution.message}` };
  }
  if (refs.length > 0 && pems.length === 0) {
    report('error', 'ERR_BACKEND_TLS_INVALID', 'spec.validation.caCertificateRefs', `no reference yields a CA certificate; ${unusable}`);
    const message = resolvedRefs.ok ? 'no CA certificate' : resolvedRefs.message;
    return { policy, accepted: { ok: false, reason: 'NoValidCACertificate', message: `no caCertificateRef can be used (${message})` }, resolvedRefs };
  }
  const verification = {
    kind: 'verify' as const,
    ...(pems.length > 0 ? { caPem: pems.join('') } : {}),
    ...(subjectAltNames.length > 0 ? { subjectAltNames } : {}),
  };
  return { policy, accepted: { ok: true }, resolvedRefs, tls: { serverName: v.hostname.toLowerCase(), verification } };
}

/** The Service ports of a policy's targetRefs; refs of other kinds, and missing Services or ports, are reported and skipped. */
function targetsOf(policy: BackendTlsPolicy, index: ResourceIndex, diagnostics: Diagnostic[]): PolicyTarget[] {
  const namespace = policy.metadata.namespace ?? 'default';
  const targets: PolicyTarget[] = [];
  policy.spec.targetRefs.forEach((ref, i) => {
    const path = `spec.targetRefs[${i}]`;
    const report = (code: Diagnostic['code'], message: string): void => {
      diagnostics.push({ severity: 'warning', code, object: refOf(policy), source: policy.source, path, message });
    };
    if (ref.group !== '' || ref.kind !== 'Service') {
      report('ERR_POLICY_UNSUPPORTED', `target kind ${ref.group === '' ? 'core' : ref.group}/${ref.kind} is not supported (core Service is); this target is ignored`);
      return;
    }
    const service = index.services.get(namespacedKey(namespace, ref.name));
    if (service === undefined) {
      report('ERR_POLICY_TARGET_NOT_FOUND', `Service "${ref.name}" not found in namespace "${namespace}"; the policy applies to nothing there`);
      return;
    }
    if (ref.sectionName !== undefined && !service.spec.ports.some((p) => p.name === ref.sectionName)) {
      const names = service.spec.ports.flatMap((p) => (p.name ? [p.name] : []));
      report('ERR_POLICY_TARGET_NOT_FOUND', `Service "${ref.name}" has no port named "${ref.sectionName}" (${names.length === 0 ? 'its ports have no names' : `port names: ${names.join(', ')}`}); the policy applies to nothing there`);
      return;
    }
    targets.push(ref.sectionName === undefined ? { namespace, service: ref.name } : { namespace, service: ref.name, sectionName: ref.sectionName });
  });
  return targets;
}

/**
 * Every BackendTLSPolicy, evaluated, with precedence settled per target (Service, sectionName):
 * the oldest policy wins, then namespace/name (the spec's rule); the others are Conflicted there.
 * A policy takes part whether valid or not, so a broken older policy makes the port answer 5xx
 * instead of quietly handing it to a newer one. On a port, a policy naming it by sectionName
 * outranks one for the whole Service (the more specific attachment).
 */
export function resolveBackendTlsPolicies(index: ResourceIndex, diagnostics: Diagnostic[]): BackendTlsPolicies {
  const ordered = [...index.backendTlsPolicies].sort(compareByCreation);
  const winners = new Map<string, { readonly name: string; readonly evaluated: Omit<EvaluatedPolicy, 'targets' | 'lostTo'> }>();
  const evaluated: EvaluatedPolicy[] = ordered.map((policy) => {
    const targets = targetsOf(policy, index, diagnostics);
    const base = evaluate(policy, index, diagnostics);
    const lostTo: { target: PolicyTarget; winner: string }[] = [];
    for (const target of targets) {
      const key = targetKey(target);
      const winner = winners.get(key);
      if (winner === undefined) winners.set(key, { name: policyName(policy), evaluated: base });
      else {
        lostTo.push({ target, winner: winner.name });
        const port = target.sectionName === undefined ? '' : ` port "${target.sectionName}"`;
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_POLICY_CONFLICTED',
          object: refOf(policy),
          source: policy.source,
          path: `spec.targetRefs[${policy.spec.targetRefs.findIndex((r) => r.name === target.service && r.sectionName === target.sectionName)}]`,
          message: `Service "${target.service}"${port} is already governed by the older BackendTLSPolicy ${winner.name}; this policy does not apply there`,
        });
      }
    }
    return { ...base, targets, lostTo };
  });

  const forPort = (namespace: string, service: Service, port: ServicePort): AppliedBackendTls | undefined => {
    const specific = port.name === undefined ? undefined : winners.get(targetKey({ namespace, service: service.metadata.name, sectionName: port.name }));
    const winner = specific ?? winners.get(targetKey({ namespace, service: service.metadata.name }));
    if (winner === undefined) return undefined;
    const { tls, accepted } = winner.evaluated;
    if (tls !== undefined) return { kind: 'ok', policy: `BackendTLSPolicy ${winner.name}`, tls };
    const why = accepted.ok ? 'it cannot be used' : accepted.message;
    return { kind: 'invalid', policy: `BackendTLSPolicy ${winner.name}`, message: `is governed by BackendTLSPolicy ${winner.name}, which cannot be used (${why})` };
  };
  return { evaluated, forPort };
}
