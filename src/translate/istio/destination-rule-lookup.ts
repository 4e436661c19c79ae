// Which DestinationRule a client uses for a host, as Istio looks it up: rules in the client's
// namespace first, then rules in the service's namespace, then rules in the root namespace
// (istio-system); a rule elsewhere is used by clients in its own namespace only. A client in the
// root namespace itself (a gateway in istio-system) first looks only at root rules exported to
// the root alone, as pilot does, so that a mesh-wide `*` rule there does not win over a
// service's own rule. In each
// namespace only rules exported to the client's namespace count, and of those the most specific
// host wins: an exact host over any wildcard, a longer wildcard suffix (`*.ns.svc.cluster.local`)
// over a shorter one (`*.local`, `*`). Two rules with the same host in one namespace: the older
// is used, the newer is reported ERR_POLICY_CONFLICTED. A rule hidden by its exportTo from a
// client it would otherwise apply to is said once per client namespace (warning on spec.exportTo).
import type { Diagnostic } from '../../core/diagnostic.js';
import { refOf, type DestinationRule } from '../../resources/resource.js';
import { istioHostCovers } from './istio-hosts.js';
import { describeExportTo, isExportedTo, ROOT_NAMESPACE } from './istio-visibility.js';

export interface DestinationRuleLookup {
  /**
   * Takes a rule whose host is `host` (a canonical FQDN, or a wildcard pattern); false when an
   * older rule in its namespace already has that host (reported).
   */
  add(rule: DestinationRule, host: string, serviceNamespace?: string): boolean;
  /** The rule a client in `clientNamespace` uses for `host` (canonical FQDN) of a service in `serviceNamespace`. */
  ruleFor(host: string, serviceNamespace: string, clientNamespace: string): DestinationRule | undefined;
  /**
   * After every lookup: exact-host rules no client asked for because their namespace is on no
   * client's lookup path (not a client's, not the service's, not the root), reported as a warning.
   */
  reportOffPath(): void;
}

interface Entry {
  readonly rule: DestinationRule;
  readonly host: string;
  /** For an exact Service or ServiceEntry host: the namespace it lives in. */
  readonly serviceNamespace?: string;
}

/** Exported to its own namespace and no other (`.`, or its name). */
function isLocalOnly(exportTo: readonly string[] | undefined, ns: string): boolean {
  return exportTo !== undefined && exportTo.length > 0 && exportTo.every((e) => e === '.' || e === ns);
}

/** Higher is more specific: an exact host beats every wildcard; a longer wildcard beats a shorter. */
function specificity(pattern: string): number {
  return pattern.includes('*') ? pattern.length - 1 : Number.MAX_SAFE_INTEGER;
}

export function createDestinationRuleLookup(diagnostics: Diagnostic[]): DestinationRuleLookup {
  const byNamespace = new Map<string, Entry[]>();
  const toldHidden = new Set<string>();
  const clients = new Set<string>();

  const add = (rule: DestinationRule, host: string, serviceNamespace?: string): boolean => {
    const ns = rule.metadata.namespace ?? 'default';
    const entries = byNamespace.get(ns) ?? [];
    byNamespace.set(ns, entries);
    const older = entries.find((e) => e.host === host);
    if (older) {
      diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_CONFLICTED', object: refOf(rule), source: rule.source, path: 'spec.host', message: `DestinationRule ${ns}/${older.rule.metadata.name} already applies to "${host}" in namespace ${ns} (the older one wins)` });
      return false;
    }
    entries.push({ rule, host, ...(serviceNamespace !== undefined ? { serviceNamespace } : {}) });
    return true;
  };

  const ruleFor = (host: string, serviceNamespace: string, clientNamespace: string): DestinationRule | undefined => {
    clients.add(clientNamespace);
    // A client in the root namespace (a gateway in istio-system) first takes only the root's
    // rules kept to itself: its mesh-wide rules (`*.local`) must not hide the service's own.
    const steps: [string, boolean][] = [[clientNamespace, clientNamespace === ROOT_NAMESPACE], [serviceNamespace, false], [ROOT_NAMESPACE, false]];
    const seen = new Set<string>();
    for (const [ns, localOnly] of steps) {
      if (seen.has(`${ns}/${localOnly}`)) continue;
      seen.add(`${ns}/${localOnly}`);
      let best: Entry | undefined;
      for (const e of byNamespace.get(ns) ?? []) {
        if (!istioHostCovers(e.host, host)) continue;
        if (localOnly && !isLocalOnly(e.rule.spec.exportTo, ns)) continue;
        if (!isExportedTo(e.rule.spec.exportTo, ns, clientNamespace)) {
          const key = `${ns}/${e.rule.metadata.name}|${clientNamespace}`;
          if (!toldHidden.has(key)) {
            toldHidden.add(key);
            diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_NOT_EXPORTED', object: refOf(e.rule), source: e.rule.source, path: 'spec.exportTo', message: `not exported to namespace ${clientNamespace} (${describeExportTo(e.rule.spec.exportTo)}); not applied to "${host}" for clients there` });
          }
          continue;
        }
        // Entries are in creation order: on equal specificity the older stays.
        if (best === undefined || specificity(e.host) > specificity(best.host)) best = e;
      }
      if (best) return best.rule;
    }
    return undefined;
  };

  const reportOffPath = (): void => {
    if (clients.size === 0) return;
    for (const [ns, entries] of byNamespace) {
      if (ns === ROOT_NAMESPACE || clients.has(ns)) continue;
      for (const e of entries) {
        if (e.serviceNamespace === undefined || e.serviceNamespace === ns) continue;
        diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_TARGET_NOT_FOUND', object: refOf(e.rule), source: e.rule.source, path: 'metadata.namespace', message: `a rule in namespace ${ns} for "${e.host}" (a service in ${e.serviceNamespace}) applies only to clients in ${ns}, and none routes from there (clients here: ${[...clients].sort().join(', ')}); Istio looks in the client's, the service's and the ${ROOT_NAMESPACE} namespace` });
      }
    }
  };

  return { add, ruleFor, reportOffPath };
}
