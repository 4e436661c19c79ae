// BackendTLSPolicy status: one PolicyAncestorStatus per Gateway of ours whose attached routes
// (HTTPRoute, GRPCRoute) have a backendRef to a Service port the policy targets. Ingresses are not
// ancestors (the spec's ancestors are Gateways), although the policy applies to their backends
// too. A policy that no route of ours reaches gets `ancestors: []`; its diagnostics say the rest.
import { condition, type Condition, type PolicyAncestorStatus, type PolicyObjectStatus } from '../../core/object-status.js';
import type { Gateway } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { namespacedKey } from '../../store/resource-index.js';
import type { BackendTlsPolicies, EvaluatedPolicy, PolicyTarget } from './backend-tls-policies.js';
import { GATEWAY_GROUP } from './gateway-listeners.js';
import type { ServiceUse } from './http-route-backends.js';

/** The Service ports each Gateway's attached routes reach. */
export interface GatewayServiceUses {
  readonly gateway: Gateway;
  readonly uses: readonly ServiceUse[];
}

function reaches(target: PolicyTarget, use: ServiceUse, index: ResourceIndex): boolean {
  if (use.namespace !== target.namespace || use.service !== target.service) return false;
  if (target.sectionName === undefined) return true;
  const service = index.services.get(namespacedKey(use.namespace, use.service));
  return service?.spec.ports.some((p) => p.port === use.port && p.name === target.sectionName) ?? false;
}

function conditionsOf(p: EvaluatedPolicy): Condition[] {
  const generation = p.policy.metadata.generation;
  const lost = p.lostTo[0];
  const accepted =
    lost !== undefined
      ? condition('Accepted', false, 'Conflicted', `Service "${lost.target.service}"${lost.target.sectionName === undefined ? '' : ` port "${lost.target.sectionName}"`} is governed by the older BackendTLSPolicy ${lost.winner}`, generation)
      : p.accepted.ok
        ? condition('Accepted', true, 'Accepted', 'applied to the targeted Service ports', generation)
        : condition('Accepted', false, p.accepted.reason, p.accepted.message, generation);
  const resolvedRefs = p.resolvedRefs.ok
    ? condition('ResolvedRefs', true, 'ResolvedRefs', 'all CA certificate references resolved', generation)
    : condition('ResolvedRefs', false, p.resolvedRefs.reason, p.resolvedRefs.message, generation);
  return [accepted, resolvedRefs];
}

export function backendTlsPolicyStatuses(policies: BackendTlsPolicies, uses: readonly GatewayServiceUses[], index: ResourceIndex, controllerName: string): PolicyObjectStatus[] {
  const sortedGateways = [...uses].sort((a, b) => {
    const ka = `${a.gateway.metadata.namespace ?? ''}/${a.gateway.metadata.name}`;
    const kb = `${b.gateway.metadata.namespace ?? ''}/${b.gateway.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return policies.evaluated.map((p): PolicyObjectStatus => {
    const conditions = conditionsOf(p);
    const ancestors = sortedGateways
      .filter(({ uses: u }) => p.targets.some((t) => u.some((use) => reaches(t, use, index))))
      .map(({ gateway }): PolicyAncestorStatus => ({
        ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.metadata.namespace ?? 'default', name: gateway.metadata.name },
        controllerName,
        conditions,
      }));
    return { apiVersion: p.policy.apiVersion, kind: 'BackendTLSPolicy', namespace: p.policy.metadata.namespace ?? 'default', name: p.policy.metadata.name, status: { ancestors } };
  });
}
