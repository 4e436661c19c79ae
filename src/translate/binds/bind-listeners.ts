// The bind step: logical listeners → binds (address:port sockets), after `--listen-address` and
// `--port-map`. Pure. Everything two listeners cannot share is decided here and reported as a
// value (a conflict, a diagnostic), so the data plane never finds out by EADDRINUSE.
//
// Rules, in the order they apply (docs/architecture.md "Listeners and binds"):
// 1. Port: listeners whose real ports are equal share a bind. Port 0 (any free port, tests) never
//    merges two logical ports: each gets its own socket.
// 2. Address: on one port, a wildcard (0.0.0.0 or ::) and specific addresses cannot both be bound
//    on Linux. As Envoy serves several destination addresses from one listener socket with filter
//    chains matched by `prefix_ranges`, the wildcard bind serves them all and a specific-address
//    listener only sees connections to its address (`localAddress`). Without a wildcard, each
//    specific address is a bind of its own.
// 3. Protocol: a socket speaks one protocol (cleartext or TLS). The first listener in declaration
//    order that serves any host decides it (Ingress first, then Gateways oldest first, then
//    listener order); a listener with another protocol is ProtocolConflict. A listener with no
//    host at all (the Ingress http listener when there is no Ingress rule) never claims a bind.
// 4. Hostname: two Gateway listeners on one bind and address with the same hostname: the later is
//    HostnameConflict (GEP-1713's rule, across Gateways as within one).
// 5. Hosts: where two listeners still serve the same host, the first in bind precedence keeps it
//    (Ingress, as before binds existed; then the more specific listener hostname, as listener
//    isolation wants; then declaration order) and the later one loses that host, with a warning.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrBind, IrBindListener, IrListener, IrVirtualHost } from '../../ir/types.js';
import { hostnameSpecificity } from '../gateway-api/hostnames.js';

export interface BindOptions {
  /** `--listen-address`: where listeners that declare no address bind. */
  readonly listenAddress: string;
  /** `--port-map`: logical port → real port; unmapped ports bind as declared. */
  readonly portMap: ReadonlyMap<number, number>;
}

export type ListenerConflictReason = 'ProtocolConflict' | 'HostnameConflict';

/** A listener the bind step refused; the Gateway API translator turns it into a Conflicted condition. */
export interface ListenerConflict {
  readonly listener: IrListener;
  readonly reason: ListenerConflictReason;
  readonly message: string;
}

export interface BoundListeners {
  /** The listeners that are served, hosts lost to an earlier listener removed. */
  readonly listeners: readonly IrListener[];
  readonly binds: readonly IrBind[];
  readonly conflicts: readonly ListenerConflict[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Placed {
  readonly listener: IrListener;
  readonly order: number;
  readonly address: string;
  readonly port: number;
  readonly localAddress: string | undefined;
}

export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function bindName(address: string, port: number, logicalPort: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === 0 ? `${host}:0/${logicalPort}` : `${host}:${port}`;
}

function describe(l: IrListener): string {
  const d = l.declaredBy;
  return d === undefined ? `listener ${l.name}` : `${d.object.kind} ${d.object.namespace ?? ''}/${d.object.name} listener "${d.sectionName}"`;
}

function blame(l: IrListener, field: string, severity: Diagnostic['severity'], code: Diagnostic['code'], message: string): Diagnostic {
  const d = l.declaredBy;
  if (d === undefined) return { severity, code, message: `${describe(l)}: ${message}` };
  return { severity, code, object: d.object, ...(d.source !== undefined ? { source: d.source } : {}), path: `${d.path}.${field}`, message };
}

/** Ingress first, then the more specific listener hostname, then declaration order. */
function comparePrecedence(a: Placed, b: Placed): number {
  const rank = (p: Placed): number => (p.listener.declaredBy === undefined ? 0 : 1);
  const spec = (p: Placed): number => hostnameSpecificity(p.listener.declaredBy?.hostname ?? '*');
  return rank(a) - rank(b) || spec(b) - spec(a) || a.order - b.order;
}

/** How the Router keys a host: one-label and any-labels wildcards live in different tables. */
function hostKey(vhost: IrVirtualHost, raw: string): string {
  const host = raw.toLowerCase();
  return host.startsWith('*.') ? `${vhost.wildcardMatch ?? 'one-label'}|${host}` : host;
}

export function bindListeners(listeners: readonly IrListener[], options: BindOptions): BoundListeners {
  const conflicts: ListenerConflict[] = [];
  const diagnostics: Diagnostic[] = [];

  // 1. and 2.: group by real port, then by address.
  const byPort = new Map<string, Placed[]>();
  listeners.forEach((listener, order) => {
    const address = listener.address ?? options.listenAddress;
    const port = options.portMap.get(listener.port) ?? listener.port;
    const key = port === 0 ? `0/${listener.port}` : String(port);
    const list = byPort.get(key) ?? [];
    list.push({ listener, order, address, port, localAddress: undefined });
    byPort.set(key, list);
  });
  const groups: { address: string; port: number; logicalPort: number; members: Placed[] }[] = [];
  for (const members of byPort.values()) {
    const first = members[0]!;
    const wildcards = members.filter((m) => isWildcardAddress(m.address));
    if (wildcards.length > 0) {
      // `::` also accepts IPv4 (dual stack), so it holds the port when any listener asked for it.
      const address = wildcards.some((m) => m.address === '::') ? '::' : '0.0.0.0';
      const placed = members.map((m) => (isWildcardAddress(m.address) ? m : { ...m, localAddress: m.address }));
      groups.push({ address, port: first.port, logicalPort: first.listener.port, members: placed });
      continue;
    }
    const byAddress = new Map<string, Placed[]>();
    for (const m of members) byAddress.set(m.address, [...(byAddress.get(m.address) ?? []), m]);
    for (const [address, list] of byAddress) groups.push({ address, port: first.port, logicalPort: first.listener.port, members: list });
  }

  const served = new Map<IrListener, IrListener>();
  const binds: IrBind[] = [];
  for (const group of groups) {
    const name = bindName(group.address, group.port, group.logicalPort);
    // 3. Protocol.
    const decider = group.members.find((m) => m.listener.virtualHosts.length > 0) ?? group.members[0]!;
    const protocol = decider.listener.protocol;
    const kept: Placed[] = [];
    for (const m of group.members) {
      if (m.listener.protocol === protocol) {
        kept.push(m);
        continue;
      }
      if (m.listener.virtualHosts.length === 0) continue; // serves nothing: it yields silently
      const message = `bind ${name} speaks ${protocol.toUpperCase()} for ${describe(decider.listener)}, declared first; ${m.listener.protocol.toUpperCase()} cannot share its socket, so this listener is not served`;
      conflicts.push({ listener: m.listener, reason: 'ProtocolConflict', message });
      diagnostics.push(blame(m.listener, 'protocol', 'error', 'ERR_LISTENER_CONFLICT', `ProtocolConflict: ${message}`));
    }
    // 4. Hostname, per destination address.
    const claimed = new Map<string, Placed>();
    const unconflicted = kept.filter((m) => {
      const d = m.listener.declaredBy;
      if (d === undefined) return true;
      const key = `${m.localAddress ?? '*'}|${d.hostname}`;
      const earlier = claimed.get(key);
      if (earlier === undefined) {
        claimed.set(key, m);
        return true;
      }
      const message = `${describe(earlier.listener)}, declared first, has hostname "${d.hostname}" on bind ${name} too; this listener is not served`;
      conflicts.push({ listener: m.listener, reason: 'HostnameConflict', message });
      diagnostics.push(blame(m.listener, 'hostname', 'error', 'ERR_LISTENER_CONFLICT', `HostnameConflict: ${message}`));
      return false;
    });
    // 5. Hosts, per destination address.
    const ordered = [...unconflicted].sort(comparePrecedence);
    const owners = new Map<string, Placed>();
    const members: IrBindListener[] = [];
    for (const m of ordered) {
      const virtualHosts = m.listener.virtualHosts.flatMap((vhost): IrVirtualHost[] => {
        const hostnames = vhost.hostnames.filter((h) => {
          const key = `${m.localAddress ?? '*'}|${hostKey(vhost, h)}`;
          const owner = owners.get(key);
          if (owner === undefined) {
            owners.set(key, m);
            return true;
          }
          diagnostics.push(blame(m.listener, 'hostname', 'warning', 'ERR_LISTENER_HOST_SHADOWED', `host "${h}" on bind ${name} is served by ${describe(owner.listener)}, which comes first; ${m.listener.name} does not serve it`));
          return false;
        });
        if (hostnames.length === vhost.hostnames.length) return [vhost];
        return hostnames.length === 0 ? [] : [{ ...vhost, hostnames }];
      });
      served.set(m.listener, virtualHosts.length === m.listener.virtualHosts.length && virtualHosts.every((v, i) => v === m.listener.virtualHosts[i]) ? m.listener : { ...m.listener, virtualHosts });
      members.push({ listener: m.listener.name, ...(m.localAddress !== undefined ? { localAddress: m.localAddress } : {}) });
    }
    binds.push({ name, protocol, address: group.address, port: group.port, listeners: members });
  }
  return {
    listeners: listeners.flatMap((l) => {
      const s = served.get(l);
      return s === undefined ? [] : [s];
    }),
    binds,
    conflicts,
    diagnostics,
  };
}
