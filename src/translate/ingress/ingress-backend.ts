import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrRouteAction } from '../../ir/types.js';
import type { IngressBackend } from '../../resources/ingress.js';
import { refOf, type Ingress } from '../../resources/resource.js';
import type { ClusterSet } from '../services/cluster-set.js';

/** A route whose backend cannot be used answers 503 itself (see docs/ingress.md). */
export const INVALID_BACKEND_STATUS = 503;

/** Answered with the documented local reply `invalid_backend` (503); the diagnostic names the cause. */
function invalidBackend(_code: string, _route: string): IrRouteAction {
  return { kind: 'reject', reason: 'invalid_backend' };
}

/**
 * The action of one Ingress backend. A broken backend drops only its own path: the route stays
 * and answers 503, so its requests do not fall through to a shorter prefix or the default
 * backend, and the rest of the Ingress keeps serving.
 */
export function translateIngressBackend(
  ingress: Ingress,
  backend: IngressBackend,
  fieldPath: string,
  route: string,
  clusters: ClusterSet,
  diagnostics: Diagnostic[],
): IrRouteAction {
  const blame = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
    diagnostics.push({ severity, code, object: refOf(ingress), source: ingress.source, path, message });
  };
  const service = backend.service;
  if (!service) {
    const kind = backend.resource?.kind ?? 'unknown';
    blame('error', 'ERR_BACKEND_UNSUPPORTED', `${fieldPath}.resource`, `resource backends (${kind}) are not supported; the path answers 503`);
    return invalidBackend('ERR_BACKEND_UNSUPPORTED', route);
  }
  const selector =
    service.port.number !== undefined
      ? ({ kind: 'number', number: service.port.number } as const)
      : ({ kind: 'name', name: service.port.name ?? '' } as const);
  const resolution = clusters.reference(ingress.metadata.namespace ?? 'default', service.name, selector);
  if (resolution.kind === 'error') {
    const path =
      resolution.code === 'ERR_BACKEND_PORT_NOT_FOUND'
        ? `${fieldPath}.service.port.${selector.kind}`
        : `${fieldPath}.service.name`;
    blame('error', resolution.code, path, resolution.message);
    return invalidBackend(resolution.code, route);
  }
  if (resolution.externalName !== undefined) {
    blame(
      'warning',
      'ERR_BACKEND_EXTERNAL_NAME',
      `${fieldPath}.service.name`,
      `Service "${service.name}" is an ExternalName for "${resolution.externalName}"; it is resolved by DNS when connecting`,
    );
  }
  return { kind: 'forward', backends: [{ cluster: resolution.cluster, weight: 1 }] };
}
