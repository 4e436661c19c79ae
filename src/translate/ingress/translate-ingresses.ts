import type { Diagnostic } from '../../core/diagnostic.js';
import type { ObjectStatus } from '../../core/object-status.js';
import type { IrCertificate, IrListener, IrRoute, IrVirtualHost } from '../../ir/types.js';
import { refOf, type Ingress } from '../../resources/resource.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import type { ClusterSet } from '../services/cluster-set.js';
import { translateIngressBackend } from './ingress-backend.js';
import { selectOurIngresses, type IngressClassOptions } from './ingress-class.js';
import { compareHostnames } from './ingress-host.js';
import { comparePathPrecedence } from './ingress-path.js';
import { collectIngressCertificates } from './ingress-tls.js';
import { ANY_HOST, claimFieldPath, collectPathClaims, resolvePathConflicts, type PathClaim } from './path-claims.js';

export interface IngressTranslateOptions extends IngressClassOptions {
  readonly statusAddress?: string;
}

export interface IngressTranslation {
  readonly listeners: readonly IrListener[];
  readonly certificates: readonly IrCertificate[];
  readonly statuses: readonly ObjectStatus[];
}

export const HTTP_LISTENER = 'ingress/http';
export const HTTPS_LISTENER = 'ingress/https';

function ingressName(ingress: Ingress): string {
  return `ingress/${ingress.metadata.namespace}/${ingress.metadata.name}`;
}

/**
 * The single default backend: the oldest Ingress's `spec.defaultBackend`; the others are told so.
 * "If none of the hosts or paths match the HTTP request in the Ingress objects, the traffic is
 * routed to your default backend" (Ingress docs).
 */
function defaultBackendRoute(ingresses: readonly Ingress[], clusters: ClusterSet, diagnostics: Diagnostic[]): IrRoute | undefined {
  const [winner, ...losers] = ingresses.filter((i) => i.spec.defaultBackend !== undefined).sort(compareByCreation);
  if (!winner?.spec.defaultBackend) return undefined;
  for (const loser of losers) {
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_INGRESS_DEFAULT_BACKEND_CONFLICT',
      object: refOf(loser),
      source: loser.source,
      path: 'spec.defaultBackend',
      message: `only one default backend applies: that of the oldest, Ingress ${winner.metadata.namespace}/${winner.metadata.name}; this one is ignored`,
    });
  }
  const name = `${ingressName(winner)}/default-backend`;
  return {
    name,
    origin: refOf(winner),
    match: { path: { kind: 'any' } },
    action: translateIngressBackend(winner, winner.spec.defaultBackend, 'spec.defaultBackend', name, clusters, diagnostics),
    filters: [],
  };
}

function claimRoute(claim: PathClaim, clusters: ClusterSet, diagnostics: Diagnostic[]): IrRoute {
  const name = `${ingressName(claim.ingress)}/rule/${claim.ruleIndex}/path/${claim.pathIndex}`;
  return {
    name,
    origin: refOf(claim.ingress),
    match: { path: claim.match },
    action: translateIngressBackend(claim.ingress, claim.path.backend, `${claimFieldPath(claim)}.backend`, name, clusters, diagnostics),
    filters: [],
  };
}

/**
 * One virtual host per distinct rule host, plus `*` for rules without host and the default
 * backend. A request whose host matches a rule's host uses only that host's paths (an exact host
 * beats a wildcard, which beats `*`); when none of them matches, the default backend answers, so
 * it closes every virtual host.
 */
function buildVirtualHosts(winners: readonly PathClaim[], fallback: IrRoute | undefined, clusters: ClusterSet, diagnostics: Diagnostic[]): IrVirtualHost[] {
  const byHost = new Map<string, PathClaim[]>();
  for (const claim of winners) {
    const list = byHost.get(claim.host);
    if (list) list.push(claim);
    else byHost.set(claim.host, [claim]);
  }
  if (fallback && !byHost.has(ANY_HOST)) byHost.set(ANY_HOST, []);
  const hosts = [...byHost.keys()].sort(compareHostnames);
  return hosts.map((host) => {
    const claims = (byHost.get(host) ?? []).sort((a, b) => comparePathPrecedence(a.match, b.match));
    const routes = claims.map((claim) => claimRoute(claim, clusters, diagnostics));
    if (fallback) routes.push(fallback);
    return { name: `ingress/vhost/${host}`, hostnames: [host], routes };
  });
}

function ingressStatus(ingress: Ingress, statusAddress: string | undefined): ObjectStatus {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    namespace: ingress.metadata.namespace ?? 'default',
    name: ingress.metadata.name,
    status: { loadBalancer: { ingress: statusAddress === undefined ? [] : [{ ip: statusAddress }] } },
  };
}

/** Ingress → listeners (`ingress/http` always, `ingress/https` with certificates), certificates, statuses. */
export function translateIngresses(
  index: ResourceIndex,
  options: IngressTranslateOptions,
  clusters: ClusterSet,
  diagnostics: Diagnostic[],
): IngressTranslation {
  const ours = selectOurIngresses(index.ingresses, index.ingressClasses, options, diagnostics).sort(compareByCreation);
  const winners = resolvePathConflicts(collectPathClaims(ours, diagnostics), diagnostics);
  const fallback = defaultBackendRoute(ours, clusters, diagnostics);
  const virtualHosts = buildVirtualHosts(winners, fallback, clusters, diagnostics);
  const certificates = collectIngressCertificates(ours, index, diagnostics);

  // Even with no routes the http listener exists, so the gateway answers 404 rather than refusing.
  const listeners: IrListener[] = [{ name: HTTP_LISTENER, protocol: 'http', port: 80, virtualHosts }];
  if (certificates.length > 0) {
    listeners.push({
      name: HTTPS_LISTENER,
      protocol: 'https',
      port: 443,
      tls: { certificates: certificates.map((c) => c.name) },
      virtualHosts,
    });
  }
  const statuses = ours
    .map((ingress) => ingressStatus(ingress, options.statusAddress))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`, 'en'));
  return { listeners, certificates, statuses };
}
