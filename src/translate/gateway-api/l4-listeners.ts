// Gateway listeners of protocol TLS, TCP and UDP, with the routes l4-routes.ts attached to them →
// IR L4 listeners (ir/l4.ts). One IR L4 listener per TCP or UDP Gateway listener; the TLS listeners
// of one Gateway on one port (one TLS mode: mixed modes are a ProtocolConflict, gateway-listeners.ts)
// share one, named after the first of them, since one socket reads the ClientHello and picks the
// route by SNI. The bind step (binds/bind-l4-listeners.ts) applies --port-map and keeps the first of
// overlapping declarations.
import type { Diagnostic } from '../../core/diagnostic.js';
import { condition, withCondition, type Condition } from '../../core/object-status.js';
import { L4_DEFAULTS, type IrL4Listener, type IrL4Route } from '../../ir/l4.js';
import type { IrBind, IrCertificate } from '../../ir/types.js';
import type { BindOptions } from '../binds/bind-listeners.js';
import { refOf } from '../../resources/resource.js';
import { listenerName, type ResolvedListener } from './gateway-listeners.js';
import { covers, hostnameSpecificity } from './hostnames.js';
import type { L4Claim } from './l4-routes.js';
import type { ListenerRefusal } from './listener-conflict-status.js';

export function isL4Listener(l: ResolvedListener): boolean {
  return l.protocol === 'tls' || l.protocol === 'tcp' || l.protocol === 'udp';
}

/**
 * An IR L4 listener terminates TLS with one certificate, so of a Gateway's TLS Terminate listeners
 * on one port only the first is served; the others stay Accepted and get Programmed False, with a
 * diagnostic naming the one that is served.
 */
export function limitTlsTerminateListeners(listeners: readonly ResolvedListener[], diagnostics: Diagnostic[]): ResolvedListener[] {
  const firstOnPort = new Map<number, ResolvedListener>();
  return listeners.map((l) => {
    if (!l.serving || l.protocol !== 'tls' || l.tlsMode !== 'terminate') return l;
    const first = firstOnPort.get(l.spec.port);
    if (first === undefined) {
      firstOnPort.set(l.spec.port, l);
      return l;
    }
    const message = `only one TLS Terminate listener per port is served (an L4 listener has one certificate): "${first.spec.name}" serves port ${l.spec.port}`;
    diagnostics.push({ severity: 'warning', code: 'ERR_GATEWAY_LISTENER_UNSUPPORTED', object: refOf(l.owner), source: l.owner.source, path: `spec.listeners[${l.index}]`, message });
    const conditions: Condition[] = withCondition(l.conditions, condition('Programmed', false, 'Invalid', message, l.owner.metadata.generation));
    return { ...l, serving: false, conditions };
  });
}

/** The L4 listeners of one Gateway (its own and its ListenerSets'), with their certificates. */
export function buildL4Listeners(
  listeners: readonly ResolvedListener[],
  claims: readonly L4Claim[],
  address: string,
): { listeners: IrL4Listener[]; certificates: IrCertificate[]; sections: Map<string, readonly string[]> } {
  const groups = new Map<string, ResolvedListener[]>();
  for (const l of listeners) {
    if (!l.serving || !isL4Listener(l)) continue;
    const key = l.protocol === 'tls' ? `tls/${l.spec.port}` : `${l.protocol}/${l.spec.port}/${l.owner.kind}/${l.owner.metadata.name}/${l.spec.name}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  const out: IrL4Listener[] = [];
  const certificates: IrCertificate[] = [];
  const sections = new Map<string, readonly string[]>();
  for (const group of groups.values()) {
    const first = group[0]!;
    const routes = groupRoutes(group, claims);
    const protocol = first.protocol === 'udp' ? 'UDP' : first.protocol === 'tcp' ? 'TCP' : 'TLS';
    const certificate = first.tlsMode === 'terminate' ? first.certificates[0] : undefined;
    if (certificate !== undefined) certificates.push(certificate);
    sections.set(listenerName(first.owner, first.spec.name), group.map((l) => l.spec.name));
    out.push({
      name: listenerName(first.owner, first.spec.name),
      origin: refOf(first.owner),
      address,
      port: first.spec.port,
      protocol,
      ...(first.tlsMode === 'passthrough' ? { tls: { mode: 'passthrough' } as const } : {}),
      ...(certificate !== undefined ? { tls: { mode: 'terminate', certificate: certificate.name } as const } : {}),
      routes,
      scheduler: L4_DEFAULTS.scheduler,
      idleTimeoutMs: protocol === 'UDP' ? L4_DEFAULTS.udpIdleTimeoutMs : L4_DEFAULTS.idleTimeoutMs,
      connectTimeoutMs: L4_DEFAULTS.connectTimeoutMs,
      drainTimeoutMs: L4_DEFAULTS.drainTimeoutMs,
    });
  }
  return { listeners: out, certificates, sections };
}

/**
 * The Gateway listeners behind the L4 listeners the bind step left out (another declaration holds
 * their address and port), so their status says they are not served: ProtocolConflict when an
 * HTTP bind holds the port, HostnameConflict when an earlier L4 listener does.
 */
export function l4BindRefusals(
  declared: readonly IrL4Listener[],
  sections: ReadonlyMap<string, readonly string[]>,
  bound: readonly IrL4Listener[],
  httpBinds: readonly IrBind[],
  options: BindOptions,
): ListenerRefusal[] {
  const kept = new Set(bound.map((l) => l.name));
  return declared.flatMap((l) => {
    const names = sections.get(l.name);
    if (kept.has(l.name) || names === undefined || l.origin === undefined) return [];
    const port = options.portMap.get(l.port) ?? l.port;
    const http = l.protocol !== 'UDP' && httpBinds.some((b) => b.port === port);
    const message = `${l.protocol} port ${port} is held by ${http ? 'an HTTP listener' : 'an earlier L4 listener'} on an overlapping address; not served (ERR_L4_LISTENER_CONFLICT)`;
    return names.map((sectionName): ListenerRefusal => ({ object: l.origin!, sectionName, reason: http ? 'ProtocolConflict' : 'HostnameConflict', message }));
  });
}

/**
 * The routes of the Gateway listeners that share one IR listener. Listener isolation, as for HTTP:
 * an SNI name is served by the most specific listener hostname that covers it, so a route keeps a
 * name only when its own listener is that one. One route object per IR route, even when two
 * parentRefs or two listeners of the group brought it.
 */
function groupRoutes(group: readonly ResolvedListener[], claims: readonly L4Claim[]): IrL4Route[] {
  const ownerOf = (host: string): ResolvedListener | undefined =>
    group.filter((l) => covers(l.hostname, host)).sort((a, b) => hostnameSpecificity(b.hostname) - hostnameSpecificity(a.hostname) || a.index - b.index)[0];
  const byName = new Map<string, { sniHosts: string[]; claim: L4Claim }>();
  for (const claim of claims) {
    if (!group.includes(claim.listener)) continue;
    const hosts = group.length === 1 ? claim.sniHosts : claim.sniHosts.filter((h) => ownerOf(h) === claim.listener);
    if (claim.sniHosts.length > 0 && hosts.length === 0) continue;
    const entry = byName.get(claim.name);
    if (entry === undefined) byName.set(claim.name, { sniHosts: [...hosts], claim });
    else for (const h of hosts) if (!entry.sniHosts.includes(h)) entry.sniHosts.push(h);
  }
  return [...byName.values()].map(({ sniHosts, claim }) => ({ name: claim.name, sniHosts, backends: claim.backends }));
}
