// Gateway listeners, and those of the ListenerSets attached to the Gateway (GEP-1713) → what routes
// can attach to, what is served where, and the listener conditions (gateway.networking.k8s.io/v1
// ListenerConditionType / ListenerConditionReason, ListenerEntryConditionType / ...Reason).
import type { Condition, RouteGroupKind } from '../../core/object-status.js';
import { condition, withCondition as replace } from '../../core/object-status.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate } from '../../ir/types.js';
import type { Gateway, GatewayListener, ListenerEntry, ListenerSet, ReferenceGrant } from '../../resources/resource.js';
import { refOf } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { checkKeyPair as checkTlsSecret } from '../ingress/ingress-tls.js';
import { ANY_HOSTNAME } from './hostnames.js';
import { describeKinds, routeKindsOf, transportOf, type ListenerProtocol, type ListenerTlsMode } from './listener-route-kinds.js';
import { isReferencePermitted } from './reference-grants.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

const PROTOCOLS: Readonly<Record<string, ListenerProtocol>> = { HTTP: 'http', HTTPS: 'https', TLS: 'tls', TCP: 'tcp', UDP: 'udp' };

/** The object that declares a listener: its Gateway, or a ListenerSet attached to that Gateway. */
export type ListenerOwner = Gateway | ListenerSet;

/** A listener after validation; only `serving` ones get IR and attached routes. */
export interface ResolvedListener {
  /** The Gateway whose addresses the listener binds (a ListenerSet's parent). */
  readonly gateway: Gateway;
  readonly owner: ListenerOwner;
  /** Position in `owner.spec.listeners`. */
  readonly index: number;
  readonly spec: GatewayListener | ListenerEntry;
  readonly protocol: ListenerProtocol;
  /** TLS listeners: whether TLS ends here (`certificates`) or passes through to the backend. */
  readonly tlsMode?: ListenerTlsMode;
  /** The listener's hostname; `*` when it has none, and always for TCP and UDP (the field does not apply to them). */
  readonly hostname: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly certificates: readonly IrCertificate[];
  /** Accepted, not conflicted, refs resolved: routes attach and traffic is served. */
  readonly serving: boolean;
  readonly conditions: Condition[];
}

function ownerNamespace(owner: ListenerOwner): string {
  return owner.metadata.namespace ?? 'default';
}

/** `gateway/<ns>/<name>/<listener>` or `listenerset/<ns>/<name>/<listener>`: names record their origin. */
export function listenerName(owner: ListenerOwner, sectionName: string): string {
  return `${owner.kind.toLowerCase()}/${ownerNamespace(owner)}/${owner.metadata.name}/${sectionName}`;
}

/** allowedRoutes.kinds: those the protocol serves (listener-route-kinds.ts) are ours; anything else is InvalidRouteKinds. */
function resolveKinds(listener: ResolvedListener['spec'], protocol: ListenerProtocol, tlsMode: ListenerTlsMode | undefined): { kinds: RouteGroupKind[]; invalid: string[] } {
  const offered = routeKindsOf(protocol, tlsMode);
  if (protocol === 'unsupported') return { kinds: [], invalid: [] };
  const wanted = listener.allowedRoutes?.kinds;
  if (wanted === undefined || wanted.length === 0) return { kinds: [...offered], invalid: [] };
  const kinds: RouteGroupKind[] = [];
  const invalid: string[] = [];
  for (const k of wanted) {
    const known = (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP ? offered.find((r) => r.kind === k.kind) : undefined;
    if (known) {
      if (!kinds.includes(known)) kinds.push(known);
    } else invalid.push(`${k.group ?? GATEWAY_GROUP}/${k.kind}`);
  }
  return { kinds, invalid };
}

function resolveCertificates(
  owner: ListenerOwner,
  listener: ResolvedListener['spec'],
  hostname: string,
  index: ResourceIndex,
  grants: readonly ReferenceGrant[],
  fieldPath: string,
  diagnostics: Diagnostic[],
): { certificates: IrCertificate[]; problem?: { reason: string; message: string } } {
  const ns = ownerNamespace(owner);
  const refs = listener.tls?.certificateRefs ?? [];
  if (refs.length === 0) return { certificates: [], problem: { reason: 'InvalidCertificateRef', message: listener.protocol === 'HTTPS' ? 'an HTTPS listener needs tls.certificateRefs' : 'a TLS listener in Terminate mode needs tls.certificateRefs' } };
  const certificates: IrCertificate[] = [];
  let problem: { reason: string; message: string } | undefined;
  refs.forEach((ref, r) => {
    const path = `${fieldPath}.tls.certificateRefs[${r}]`;
    const refNs = ref.namespace ?? ns;
    const blame = (reason: string, message: string): void => {
      problem ??= { reason, message };
      diagnostics.push({ severity: 'error', code: 'ERR_TLS_SECRET_INVALID', object: refOf(owner), source: owner.source, path, message });
    };
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret') {
      blame('InvalidCertificateRef', `certificateRef ${ref.group ?? ''}/${ref.kind ?? 'Secret'} is not supported; expected a core Secret`);
      return;
    }
    // GEP-1713: a ListenerSet's references are its own; grants to its Gateway do not extend to it.
    const permitted = isReferencePermitted(
      { fromGroup: GATEWAY_GROUP, fromKind: owner.kind, fromNamespace: ns, toGroup: '', toKind: 'Secret', toNamespace: refNs, toName: ref.name },
      grants,
    );
    if (!permitted) {
      blame('RefNotPermitted', `Secret ${refNs}/${ref.name} is in another namespace and no ReferenceGrant there allows ${owner.kind}s from "${ns}"`);
      return;
    }
    const secret = index.secrets.get(namespacedKey(refNs, ref.name));
    if (!secret) {
      blame('InvalidCertificateRef', `Secret "${ref.name}" not found in namespace "${refNs}"`);
      return;
    }
    const pair = checkTlsSecret(secret);
    if (pair.kind === 'invalid') {
      blame('InvalidCertificateRef', `Secret ${refNs}/${ref.name} ${pair.message}`);
      return;
    }
    certificates.push({
      name: `${listenerName(owner, listener.name)}/${refNs}/${ref.name}`,
      origin: refOf(secret),
      serverNames: hostname === ANY_HOSTNAME ? pair.sanNames : [hostname],
      certPem: pair.certPem,
      keyPem: pair.keyPem,
    });
  });
  return problem ? { certificates, problem } : { certificates };
}

/** One listener's own validation: protocol, route kinds, certificates. Conflicts come after. */
function resolveListener(gateway: Gateway, owner: ListenerOwner, listener: ResolvedListener['spec'], i: number, index: ResourceIndex, diagnostics: Diagnostic[]): ResolvedListener {
  const generation = owner.metadata.generation;
  const fieldPath = `spec.listeners[${i}]`;
  const conditions: Condition[] = [];
  const protocol: ListenerProtocol = PROTOCOLS[listener.protocol] ?? 'unsupported';
  // The API: hostname applies to HTTP, HTTPS and TLS listeners; TCP and UDP ignore it.
  const hostname = protocol === 'tcp' || protocol === 'udp' ? ANY_HOSTNAME : (listener.hostname ?? ANY_HOSTNAME);
  // The CRD defaults tls.mode to Terminate (TLS listeners must set it since GEP-2643; a file
  // without it gets the default, as the API server would have written it).
  const tlsMode: ListenerTlsMode | undefined = protocol === 'tls' ? ((listener.tls?.mode ?? 'Terminate') === 'Passthrough' ? 'passthrough' : 'terminate') : undefined;
  const { kinds, invalid } = resolveKinds(listener, protocol, tlsMode);
  let accepted = true;
  let refsOk = true;
  let certificates: IrCertificate[] = [];
  if (protocol === 'unsupported') {
    accepted = false;
    conditions.push(condition('Accepted', false, 'UnsupportedProtocol', `protocol ${listener.protocol} is not implemented by Isthmus (HTTP, HTTPS, TLS, TCP and UDP are)`, generation));
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_GATEWAY_LISTENER_UNSUPPORTED',
      object: refOf(owner),
      source: owner.source,
      path: `${fieldPath}.protocol`,
      message: `protocol ${listener.protocol} is not implemented (HTTP, HTTPS, TLS, TCP and UDP are); the listener is not programmed`,
    });
  }
  let refsReason = 'ResolvedRefs';
  let refsMessage = 'all references resolved';
  if (invalid.length > 0) {
    refsOk = false;
    refsReason = 'InvalidRouteKinds';
    refsMessage = `route kinds ${invalid.join(', ')} are not supported on a ${listener.protocol} listener (${describeKinds(routeKindsOf(protocol, tlsMode))} ${routeKindsOf(protocol, tlsMode).length === 1 ? 'is' : 'are'})`;
  }
  const terminates = protocol === 'https' || tlsMode === 'terminate';
  if (protocol === 'https' && (listener.tls?.mode ?? 'Terminate') !== 'Terminate') {
    accepted = false;
    conditions.push(condition('Accepted', false, 'UnsupportedValue', 'tls.mode Passthrough is not supported on HTTPS listeners (use a TLS listener)', generation));
  } else if (terminates) {
    const certs = resolveCertificates(owner, listener, hostname, index, index.referenceGrants, fieldPath, diagnostics);
    certificates = certs.certificates;
    if (certs.problem) {
      refsOk = false;
      refsReason = certs.problem.reason;
      refsMessage = certs.problem.message;
    }
  }
  if (accepted) conditions.push(condition('Accepted', true, 'Accepted', 'listener accepted', generation));
  conditions.push(condition('ResolvedRefs', refsOk, refsReason, refsMessage, generation));
  const serving = accepted && protocol !== 'unsupported' && (!terminates || certificates.length > 0);
  return { gateway, owner, index: i, spec: listener, protocol, ...(tlsMode !== undefined ? { tlsMode } : {}), hostname, supportedKinds: kinds, certificates, serving, conditions };
}

type ConflictReason = 'ProtocolConflict' | 'HostnameConflict';

/**
 * What must agree among listeners on one port: the protocol, and for TLS the mode too (GEP-2643:
 * an implementation without TLSRouteModeMixed, as this one, reports mixed modes on one port as
 * ProtocolConflict). TCP and UDP ports are separate spaces: a TCP and a UDP listener on one port
 * do not meet.
 */
function protocolKey(l: ResolvedListener): string {
  return l.protocol === 'tls' ? `tls/${l.tlsMode ?? 'terminate'}` : l.protocol;
}

/**
 * HTTPS and TLS listeners on one port are distinct when their hostnames are (the Listener spec
 * names this case): the bind reads the ClientHello and splits by SNI (docs/l4.md). TLS listeners
 * of two modes still conflict with each other.
 */
function protocolsClash(a: ResolvedListener, b: ResolvedListener): boolean {
  const ka = protocolKey(a);
  const kb = protocolKey(b);
  if (ka === kb) return false;
  return !((ka === 'https' && b.protocol === 'tls') || (kb === 'https' && a.protocol === 'tls'));
}

function isSamePortAndTransport(a: ResolvedListener, b: ResolvedListener): boolean {
  return a.spec.port === b.spec.port && transportOf(a.protocol) === transportOf(b.protocol);
}

/**
 * A Gateway's own listeners on one port must agree on the protocol (ProtocolConflict: all of them
 * are refused, as before ListenerSets) and have distinct hostnames (HostnameConflict: the later;
 * TCP and UDP listeners have none, so a second one on a port is always that).
 */
function gatewayConflict(l: ResolvedListener, own: readonly ResolvedListener[]): ConflictReason | undefined {
  const samePort = own.filter((o) => o !== l && isSamePortAndTransport(o, l) && o.protocol !== 'unsupported');
  if (l.protocol !== 'unsupported' && samePort.some((o) => protocolsClash(o, l))) return 'ProtocolConflict';
  if (samePort.some((o) => o.hostname === l.hostname && o.index < l.index)) return 'HostnameConflict';
  return undefined;
}

/**
 * GEP-1713: the merged list (the Gateway's listeners, then ListenerSets oldest first, then by
 * namespace/name) is validated as one Gateway's; a ListenerSet listener loses to every listener
 * before it that was kept, so the Gateway's own listeners are never displaced by one.
 */
function listenerSetConflict(l: ResolvedListener, kept: readonly ResolvedListener[]): ConflictReason | undefined {
  if (l.protocol === 'unsupported') return undefined;
  const samePort = kept.filter((o) => isSamePortAndTransport(o, l) && o.protocol !== 'unsupported');
  if (samePort.some((o) => protocolsClash(o, l))) return 'ProtocolConflict';
  if (samePort.some((o) => o.hostname === l.hostname)) return 'HostnameConflict';
  return undefined;
}

/**
 * The conditions of a listener a conflict refuses. A Gateway listener keeps Accepted True, as it
 * always has; a ListenerSet entry gets Accepted and Programmed False `PortUnavailable`, as the
 * GEP-1713 conformance scenarios spell out.
 */
export function conflictedConditions(ownerKind: ListenerOwner['kind'], conditions: readonly Condition[], reason: string, message: string, generation: number | undefined): Condition[] {
  let out = replace(conditions, condition('Conflicted', true, reason, message, generation));
  if (ownerKind === 'ListenerSet') {
    out = replace(out, condition('Accepted', false, 'PortUnavailable', message, generation));
    return replace(out, condition('Programmed', false, 'PortUnavailable', 'conflicted listeners are not served', generation));
  }
  return replace(out, condition('Programmed', false, 'Invalid', 'conflicted listeners are not served', generation));
}

function conflictMessage(reason: ConflictReason, l: ResolvedListener): string {
  if (l.owner.kind === 'ListenerSet') {
    // GEP-1713: say why without revealing the other listener (a sibling ListenerSet's is not ours to show).
    const before = `a listener that comes first on Gateway ${ownerNamespace(l.gateway)}/${l.gateway.metadata.name} (its own or an older ListenerSet's)`;
    return reason === 'ProtocolConflict' ? `${before} uses another protocol on port ${l.spec.port}` : `${before} has hostname "${l.hostname}" on port ${l.spec.port}`;
  }
  return reason === 'ProtocolConflict' ? `another listener on port ${l.spec.port} uses another protocol` : `an earlier listener on port ${l.spec.port} has the same hostname`;
}

/**
 * Validates every listener of a Gateway and of the ListenerSets attached to it (in precedence
 * order). Conflicted listeners are not served, the others are (partial acceptance).
 */
export function resolveListeners(gateway: Gateway, listenerSets: readonly ListenerSet[], index: ResourceIndex, diagnostics: Diagnostic[]): ResolvedListener[] {
  const own = gateway.spec.listeners.map((listener, i) => resolveListener(gateway, gateway, listener, i, index, diagnostics));
  const fromSets = listenerSets.flatMap((set) => set.spec.listeners.map((listener, i) => resolveListener(gateway, set, listener, i, index, diagnostics)));
  const kept: ResolvedListener[] = [];
  const out: ResolvedListener[] = [];
  for (const l of [...own, ...fromSets]) {
    const generation = l.owner.metadata.generation;
    const reason = l.owner.kind === 'Gateway' ? gatewayConflict(l, own) : listenerSetConflict(l, kept);
    if (reason !== undefined) {
      const message = conflictMessage(reason, l);
      if (l.owner.kind === 'ListenerSet') {
        diagnostics.push({ severity: 'error', code: 'ERR_LISTENER_CONFLICT', object: refOf(l.owner), source: l.owner.source, path: `spec.listeners[${l.index}].${reason === 'ProtocolConflict' ? 'protocol' : 'hostname'}`, message: `${reason}: ${message}; this listener is not served` });
      }
      out.push({ ...l, serving: false, conditions: conflictedConditions(l.owner.kind, l.conditions, reason, message, generation) });
      continue;
    }
    kept.push(l);
    const conditions = [...l.conditions];
    conditions.push(condition('Conflicted', false, 'NoConflicts', 'no conflicts', generation));
    conditions.push(
      l.serving
        ? condition('Programmed', true, 'Programmed', 'served', generation)
        : condition('Programmed', false, 'Invalid', 'the listener is not served (see Accepted and ResolvedRefs)', generation),
    );
    out.push({ ...l, conditions });
  }
  return out;
}
