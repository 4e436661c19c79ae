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
import { isReferencePermitted } from './reference-grants.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Protocols accepted now and served once L4 lands. */
const L4_PROTOCOLS: ReadonlySet<string> = new Set(['TLS', 'TCP', 'UDP']);

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
  readonly protocol: 'http' | 'https' | 'unsupported';
  readonly hostname: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly certificates: readonly IrCertificate[];
  /** Accepted, not conflicted, refs resolved: routes attach and traffic is served. */
  readonly serving: boolean;
  readonly conditions: Condition[];
}

/**
 * Route kinds an HTTP or HTTPS listener serves. GRPCRoute is there because both listener kinds
 * accept HTTP/2 without an upgrade (h2c with prior knowledge on HTTP, ALPN `h2` on HTTPS), which
 * the GRPCRoute spec requires of an implementation that supports it.
 */
const ROUTE_KINDS: readonly RouteGroupKind[] = [
  { group: GATEWAY_GROUP, kind: 'HTTPRoute' },
  { group: GATEWAY_GROUP, kind: 'GRPCRoute' },
];

function ownerNamespace(owner: ListenerOwner): string {
  return owner.metadata.namespace ?? 'default';
}

/** `gateway/<ns>/<name>/<listener>` or `listenerset/<ns>/<name>/<listener>`: names record their origin. */
export function listenerName(owner: ListenerOwner, sectionName: string): string {
  return `${owner.kind.toLowerCase()}/${ownerNamespace(owner)}/${owner.metadata.name}/${sectionName}`;
}

/** allowedRoutes.kinds: HTTPRoute and GRPCRoute entries are ours; anything else is InvalidRouteKinds. */
function resolveKinds(listener: ResolvedListener['spec'], protocol: ResolvedListener['protocol']): { kinds: RouteGroupKind[]; invalid: string[] } {
  if (protocol === 'unsupported') return { kinds: [], invalid: [] };
  const wanted = listener.allowedRoutes?.kinds;
  if (wanted === undefined || wanted.length === 0) return { kinds: [...ROUTE_KINDS], invalid: [] };
  const kinds: RouteGroupKind[] = [];
  const invalid: string[] = [];
  for (const k of wanted) {
    const known = (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP ? ROUTE_KINDS.find((r) => r.kind === k.kind) : undefined;
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
  if (refs.length === 0) return { certificates: [], problem: { reason: 'InvalidCertificateRef', message: 'an HTTPS listener needs tls.certificateRefs' } };
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
  const hostname = listener.hostname ?? ANY_HOSTNAME;
  const protocol = listener.protocol === 'HTTP' ? 'http' : listener.protocol === 'HTTPS' ? 'https' : 'unsupported';
  const { kinds, invalid } = resolveKinds(listener, protocol);
  let accepted = true;
  let refsOk = true;
  let certificates: IrCertificate[] = [];
  // TLS, TCP and UDP are protocols Isthmus will serve (L4 is separate work): such a listener is
  // accepted and reported as not yet programmed, so its Gateway's status says what is missing.
  // Anything else is a protocol no Gateway API implementation of ours will take.
  const l4 = L4_PROTOCOLS.has(listener.protocol);
  if (protocol === 'unsupported' && !l4) {
    accepted = false;
    conditions.push(condition('Accepted', false, 'UnsupportedProtocol', `protocol ${listener.protocol} is not implemented by Isthmus (HTTP and HTTPS are)`, generation));
  }
  if (protocol === 'unsupported') {
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_GATEWAY_LISTENER_UNSUPPORTED',
      object: refOf(owner),
      source: owner.source,
      path: `${fieldPath}.protocol`,
      message: l4
        ? `protocol ${listener.protocol} is accepted but not served yet (L4 is separate work); the listener is not programmed`
        : `protocol ${listener.protocol} is not implemented (HTTP and HTTPS are); the listener is not programmed`,
    });
  }
  let refsReason = 'ResolvedRefs';
  let refsMessage = 'all references resolved';
  if (invalid.length > 0) {
    refsOk = false;
    refsReason = 'InvalidRouteKinds';
    refsMessage = `route kinds ${invalid.join(', ')} are not supported (HTTPRoute and GRPCRoute are)`;
  }
  if (protocol === 'https') {
    if ((listener.tls?.mode ?? 'Terminate') !== 'Terminate') {
      accepted = false;
      conditions.push(condition('Accepted', false, 'UnsupportedValue', 'tls.mode Passthrough is not supported on HTTPS listeners (use a TLS listener)', generation));
    } else {
      const certs = resolveCertificates(owner, listener, hostname, index, index.referenceGrants, fieldPath, diagnostics);
      certificates = certs.certificates;
      if (certs.problem) {
        refsOk = false;
        refsReason = certs.problem.reason;
        refsMessage = certs.problem.message;
      }
    }
  }
  if (accepted) conditions.push(condition('Accepted', true, 'Accepted', 'listener accepted', generation));
  conditions.push(condition('ResolvedRefs', refsOk, refsReason, refsMessage, generation));
  const serving = accepted && protocol !== 'unsupported' && (protocol !== 'https' || certificates.length > 0);
  return { gateway, owner, index: i, spec: listener, protocol, hostname, supportedKinds: kinds, certificates, serving, conditions };
}

type ConflictReason = 'ProtocolConflict' | 'HostnameConflict';

/**
 * A Gateway's own listeners on one port must agree on the protocol (ProtocolConflict: all of them
 * are refused, as before ListenerSets) and have distinct hostnames (HostnameConflict: the later).
 */
function gatewayConflict(l: ResolvedListener, own: readonly ResolvedListener[]): ConflictReason | undefined {
  const samePort = own.filter((o) => o !== l && o.spec.port === l.spec.port && o.protocol !== 'unsupported');
  if (l.protocol !== 'unsupported' && samePort.some((o) => o.protocol !== l.protocol)) return 'ProtocolConflict';
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
  const samePort = kept.filter((o) => o.spec.port === l.spec.port && o.protocol !== 'unsupported');
  if (samePort.some((o) => o.protocol !== l.protocol)) return 'ProtocolConflict';
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
        : L4_PROTOCOLS.has(l.spec.protocol) && l.protocol === 'unsupported'
          ? condition('Programmed', false, 'Pending', `${l.spec.protocol} listeners are accepted but not served yet: Isthmus does not proxy L4 traffic yet`, generation)
          : condition('Programmed', false, 'Invalid', 'the listener is not served (see Accepted and ResolvedRefs)', generation),
    );
    out.push({ ...l, conditions });
  }
  return out;
}
