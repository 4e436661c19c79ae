// Gateway `spec.tls.frontend` (Gateway API v1.5+): client-certificate validation for the HTTPS
// listeners of a port, from `perPort[].tls.validation` or else `default.validation`. The CA
// references resolve as BackendTLSPolicy's do, plus ReferenceGrant for other namespaces. A port
// none of whose references yields a CA is not served at all (Accepted False
// NoValidCACertificate): mutual TLS asked for is never quietly dropped.
import type { Condition } from '../../core/object-status.js';
import { condition } from '../../core/object-status.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrClientValidation } from '../../ir/types.js';
import { refOf, type Gateway } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { resolveCaCertificateRef } from './ca-certificate-refs.js';
import { GATEWAY_GROUP, type ResolvedListener } from './gateway-listeners.js';
import { isReferencePermitted } from './reference-grants.js';

type Problem = { readonly reason: 'InvalidCACertificateRef' | 'InvalidCACertificateKind' | 'RefNotPermitted'; readonly message: string };

type PortValidation =
  | { readonly kind: 'ok'; readonly validation: IrClientValidation; readonly problem?: Problem }
  | { readonly kind: 'invalid'; readonly problem: Problem };

function resolvePort(gateway: Gateway, port: number, index: ResourceIndex, diagnostics: Diagnostic[]): PortValidation | undefined {
  const frontend = gateway.spec.tls?.frontend;
  if (frontend === undefined) return undefined;
  const perPort = (frontend.perPort ?? []).findIndex((p) => p.port === port);
  const validation = perPort >= 0 ? frontend.perPort?.[perPort]?.tls.validation : frontend.default.validation;
  if (validation === undefined) return undefined;
  const fieldPath = perPort >= 0 ? `spec.tls.frontend.perPort[${perPort}].tls.validation` : 'spec.tls.frontend.default.validation';
  const ns = gateway.metadata.namespace ?? 'default';
  const pems: string[] = [];
  let problem: Problem | undefined;
  validation.caCertificateRefs.forEach((ref, i) => {
    const path = `${fieldPath}.caCertificateRefs[${i}]`;
    const refNs = ref.namespace ?? ns;
    const blame = (reason: Problem['reason'], message: string): void => {
      problem ??= { reason, message: `${path}: ${message}` };
      diagnostics.push({ severity: 'error', code: 'ERR_TLS_CLIENT_CA_INVALID', object: refOf(gateway), source: gateway.source, path, message: `${message}; this reference adds no CA` });
    };
    if (refNs !== ns) {
      const permitted = isReferencePermitted({ fromGroup: GATEWAY_GROUP, fromKind: 'Gateway', fromNamespace: ns, toGroup: ref.group, toKind: ref.kind, toNamespace: refNs, toName: ref.name }, index.referenceGrants);
      if (!permitted) {
        blame('RefNotPermitted', `${ref.kind} ${refNs}/${ref.name} is in another namespace and no ReferenceGrant there allows Gateways from "${ns}"`);
        return;
      }
    }
    const resolution = resolveCaCertificateRef(ref, refNs, index);
    if (resolution.kind === 'ok') pems.push(resolution.pem);
    else blame(resolution.kind === 'invalid-kind' ? 'InvalidCACertificateKind' : 'InvalidCACertificateRef', resolution.message);
  });
  const mode = validation.mode === 'AllowInsecureFallback' ? 'allow-insecure-fallback' : 'allow-valid-only';
  if (mode === 'allow-insecure-fallback') {
    diagnostics.push({ severity: 'warning', code: 'ERR_TLS_CLIENT_UNVERIFIED', object: refOf(gateway), source: gateway.source, path: `${fieldPath}.mode`, message: `clients on port ${port} without a valid certificate are let through (AllowInsecureFallback)` });
  }
  if (pems.length === 0) {
    const found = problem ?? { reason: 'InvalidCACertificateRef' as const, message: `${fieldPath}.caCertificateRefs: no reference` };
    diagnostics.push({ severity: 'error', code: 'ERR_TLS_CLIENT_CA_INVALID', object: refOf(gateway), source: gateway.source, path: `${fieldPath}.caCertificateRefs`, message: `no reference yields a CA certificate; the HTTPS listeners on port ${port} are not served` });
    return { kind: 'invalid', problem: found };
  }
  const result = { caPem: pems.join(''), mode } as const;
  return problem === undefined ? { kind: 'ok', validation: result } : { kind: 'ok', validation: result, problem };
}

function replaceCondition(conditions: readonly Condition[], next: Condition): Condition[] {
  return conditions.map((c) => (c.type === next.type ? next : c));
}

/**
 * The listeners with frontend validation applied to their conditions (and `serving` cleared on a
 * port without a usable CA), and the IR client validation per port.
 */
export function applyFrontendValidation(
  gateway: Gateway,
  listeners: readonly ResolvedListener[],
  index: ResourceIndex,
  diagnostics: Diagnostic[],
): { listeners: ResolvedListener[]; byPort: Map<number, IrClientValidation> } {
  const byPort = new Map<number, IrClientValidation>();
  const ports = [...new Set(listeners.filter((l) => l.protocol === 'https').map((l) => l.spec.port))];
  const results = new Map(ports.map((port) => [port, resolvePort(gateway, port, index, diagnostics)]));
  const out = listeners.map((l): ResolvedListener => {
    // A ListenerSet's HTTPS listeners on the port are the Gateway's too (GEP-1713), but their
    // conditions carry the ListenerSet's generation.
    const generation = l.owner.metadata.generation;
    const result = l.protocol === 'https' ? results.get(l.spec.port) : undefined;
    if (result === undefined) return l;
    if (result.kind === 'ok') {
      byPort.set(l.spec.port, result.validation);
      if (result.problem === undefined || !l.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'True')) return l;
      return { ...l, conditions: replaceCondition(l.conditions, condition('ResolvedRefs', false, result.problem.reason, result.problem.message, generation)) };
    }
    let conditions = replaceCondition(l.conditions, condition('Accepted', false, 'NoValidCACertificate', `no CA certificate for client validation: ${result.problem.message}`, generation));
    conditions = replaceCondition(conditions, condition('ResolvedRefs', false, result.problem.reason, result.problem.message, generation));
    conditions = replaceCondition(conditions, condition('Programmed', false, 'Invalid', 'not served: client certificates cannot be validated', generation));
    return { ...l, serving: false, conditions };
  });
  return { listeners: out, byPort };
}
