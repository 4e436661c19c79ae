// Istio AuthorizationPolicy (security.istio.io) → IrAuthz for every route this gateway serves.
// Like RequestAuthentication it belongs to workloads: the ones whose `selector.matchLabels` pick
// this instance (selectsThisGateway) apply to all of its routes at the `workload` attachment level,
// below any AccessPolicy. Istio applies every policy that selects a workload together: their DENY
// rules, then their ALLOW rules (any one suffices), and once any ALLOW policy selects it (even one
// without rules, the "allow-nothing" policy) a request matching none is denied. So does this.
//
// Each Istio rule matches when any `from` entry, any `to` entry and every `when` condition match;
// it becomes one IR rule per (from, to) pair, which matches exactly the same requests.
// What an edge gateway cannot evaluate:
//   - peer identities (`principals`, `namespaces`, `serviceAccounts`, `source.principal`,
//     `source.namespace`): they come from Istio mTLS, which clients of an edge do not present.
//     A source that requires one never matches (as in Istio when the peer has no identity); a
//     `notX` of them always holds. Reported (ERR_AUTHZ_PEER_IDENTITY).
//   - `ports`, `destination.*`, `connection.sni` and keys Istio does not define: not implemented.
//     As Istio treats a field its filter cannot apply, an ALLOW rule using one is left out (it
//     allows nothing) and a DENY rule keeps its other conditions (it denies more): never open.
//   - CUSTOM (an external authorizer) compiles to the `ext-auth` filter (custom-authorization.ts),
//     which runs before this one, as Istio evaluates CUSTOM before DENY and ALLOW. AUDIT rules
//     become `audit` rules: a matching request is marked in the access log, never refused.
// `requestPrincipals` is `iss/sub` of the JWT a RequestAuthentication (or an AuthPolicy jwt method)
// verified. `ipBlocks` and `source.ip` are the TCP peer; `remoteIpBlocks` and `remote.ip` the
// original client, read from X-Forwarded-For only when the peer is a --trusted-proxy. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import { parseCidr } from '../../core/cidr.js';
import type { IrAuthz, IrAuthzCondition, IrAuthzRule } from '../../ir/apim.js';
import type { IstioAuthzOperation, IstioAuthzRule, IstioAuthzSource } from '../../resources/authorization-policy.js';
import { refOf, type AuthorizationPolicy } from '../../resources/resource.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { selectsThisGateway } from './request-authentication.js';

/** What a piece of a rule compiled to: conditions, or that it can never match, or that it holds something unusable. */
interface Piece {
  readonly conditions: IrAuthzCondition[];
  /** Needs a peer identity: the (from, to) pair never matches. */
  never: boolean;
  /** Something not implemented: an ALLOW pair is left out, a DENY pair ignores it. */
  unsupported: boolean;
}

export type Report = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string) => void;

function list(v: readonly string[] | undefined): readonly string[] {
  return v ?? [];
}

function sourcePiece(s: IstioAuthzSource | undefined, path: string, report: Report): Piece {
  const piece: Piece = { conditions: [], never: false, unsupported: false };
  if (s === undefined) return piece;
  for (const field of ['principals', 'namespaces', 'serviceAccounts'] as const) {
    const not = `not${field[0]!.toUpperCase()}${field.slice(1)}` as 'notPrincipals' | 'notNamespaces' | 'notServiceAccounts';
    if (list(s[field]).length > 0) {
      piece.never = true;
      report('warning', 'ERR_AUTHZ_PEER_IDENTITY', `${path}.${field}`, `${field} are Istio mTLS peer identities, which no client of an edge gateway presents: this source never matches`);
    }
    if (list(s[not]).length > 0) report('warning', 'ERR_AUTHZ_PEER_IDENTITY', `${path}.${not}`, `${not}: a client of an edge gateway has no mTLS peer identity, so this always holds`);
  }
  if (list(s.requestPrincipals).length > 0) piece.conditions.push({ kind: 'request-principal', values: [...s.requestPrincipals!], negate: false });
  if (list(s.notRequestPrincipals).length > 0) piece.conditions.push({ kind: 'request-principal', values: [...s.notRequestPrincipals!], negate: true });
  const ips = (field: 'ipBlocks' | 'notIpBlocks' | 'remoteIpBlocks' | 'notRemoteIpBlocks', of: 'peer' | 'client', negate: boolean): void => {
    const cidrs = list(s[field]);
    if (cidrs.length === 0) return;
    const bad = cidrs.filter((c) => parseCidr(c).kind !== 'ok');
    if (bad.length > 0) {
      piece.unsupported = true;
      report('error', 'ERR_POLICY_INVALID', `${path}.${field}`, `${bad.map((b) => `"${b}"`).join(', ')} not an IPv4 or IPv6 address or CIDR block`);
      return;
    }
    piece.conditions.push({ kind: 'ip', of, cidrs: [...cidrs], negate });
  };
  ips('ipBlocks', 'peer', false);
  ips('notIpBlocks', 'peer', true);
  ips('remoteIpBlocks', 'client', false);
  ips('notRemoteIpBlocks', 'client', true);
  return piece;
}

function operationPiece(o: IstioAuthzOperation | undefined, path: string, report: Report): Piece {
  const piece: Piece = { conditions: [], never: false, unsupported: false };
  if (o === undefined) return piece;
  const add = (kind: 'method' | 'path' | 'host', values: readonly string[] | undefined, negate: boolean, map: (v: string) => string = (v) => v): void => {
    if (list(values).length > 0) piece.conditions.push({ kind, values: values!.map(map), negate });
  };
  add('host', o.hosts, false, (h) => h.toLowerCase());
  add('host', o.notHosts, true, (h) => h.toLowerCase());
  add('method', o.methods, false);
  add('method', o.notMethods, true);
  add('path', o.paths, false);
  add('path', o.notPaths, true);
  for (const p of [...list(o.paths), ...list(o.notPaths)]) {
    if (p.includes('{')) {
      piece.unsupported = true;
      report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.paths`, `path templates ("${p}") are not implemented`);
    }
  }
  if (list(o.ports).length > 0 || list(o.notPorts).length > 0) {
    piece.unsupported = true;
    report('warning', 'ERR_ISTIO_UNSUPPORTED', `${path}.${list(o.ports).length > 0 ? 'ports' : 'notPorts'}`, 'matching on the destination port is not implemented');
  }
  return piece;
}

/** `request.auth.claims[a][b]` → ['a', 'b']; undefined when malformed. */
function bracketPath(rest: string): string[] | undefined {
  const out: string[] = [];
  const re = /\[([^\]]*)\]/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(rest)) !== null) {
    if (m[1] === '') return undefined;
    out.push(m[1]!);
    end = re.lastIndex;
  }
  return out.length > 0 && end === rest.length ? out : undefined;
}

function whenPiece(when: IstioAuthzRule['when'], path: string, report: Report): Piece {
  const piece: Piece = { conditions: [], never: false, unsupported: false };
  (when ?? []).forEach((c, i) => {
    const at = `${path}.when[${i}]`;
    const values = list(c.values);
    const notValues = list(c.notValues);
    const both = (make: (values: string[], negate: boolean) => IrAuthzCondition): void => {
      if (values.length > 0) piece.conditions.push(make([...values], false));
      if (notValues.length > 0) piece.conditions.push(make([...notValues], true));
    };
    const key = c.key;
    if (key === 'request.auth.principal') both((v, negate) => ({ kind: 'request-principal', values: v, negate }));
    else if (key === 'request.auth.audiences') both((v, negate) => ({ kind: 'claim', path: ['aud'], values: v, negate }));
    else if (key === 'request.auth.presenter') both((v, negate) => ({ kind: 'claim', path: ['azp'], values: v, negate }));
    else if (key.startsWith('request.auth.claims[')) {
      const claimPath = bracketPath(key.slice('request.auth.claims'.length));
      if (claimPath === undefined) {
        piece.unsupported = true;
        report('error', 'ERR_POLICY_INVALID', `${at}.key`, `"${key}" is not of the form request.auth.claims[name] or request.auth.claims[name][nested]`);
      } else both((v, negate) => ({ kind: 'claim', path: claimPath, values: v, negate }));
    } else if (key.startsWith('request.headers[')) {
      const header = bracketPath(key.slice('request.headers'.length));
      if (header === undefined || header.length !== 1) {
        piece.unsupported = true;
        report('error', 'ERR_POLICY_INVALID', `${at}.key`, `"${key}" is not of the form request.headers[name]`);
      } else both((v, negate) => ({ kind: 'header', name: header[0]!.toLowerCase(), values: v, negate }));
    } else if (key === 'source.ip' || key === 'remote.ip') {
      const bad = [...values, ...notValues].filter((x) => parseCidr(x).kind !== 'ok');
      if (bad.length > 0) {
        piece.unsupported = true;
        report('error', 'ERR_POLICY_INVALID', at, `${bad.map((b) => `"${b}"`).join(', ')} not an IPv4 or IPv6 address or CIDR block`);
      } else both((v, negate) => ({ kind: 'ip', of: key === 'source.ip' ? 'peer' : 'client', cidrs: v, negate }));
    } else if (key === 'source.principal' || key === 'source.namespace' || key === 'source.serviceAccount') {
      if (values.length > 0) piece.never = true;
      report('warning', 'ERR_AUTHZ_PEER_IDENTITY', at, `${key} is an Istio mTLS peer identity, which no client of an edge gateway presents: ${values.length > 0 ? 'this rule never matches' : 'notValues always holds'}`);
    } else {
      piece.unsupported = true;
      report('warning', 'ERR_ISTIO_UNSUPPORTED', `${at}.key`, `condition key "${key}" is not implemented`);
    }
  });
  return piece;
}

export function policyName(p: AuthorizationPolicy): string {
  return `authorizationpolicy/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

/**
 * The IR rules of one policy. Only `allow` leaves out a rule holding something not implemented (it
 * can only allow less); `deny`, `audit` (and CUSTOM's checks) ignore that part, so they match more.
 */
export function rulesOf(p: AuthorizationPolicy, action: IrAuthzRule['action'], report: Report): IrAuthzRule[] {
  const out: IrAuthzRule[] = [];
  const name = policyName(p);
  p.spec.rules.forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    const froms = rule.from === undefined || rule.from.length === 0 ? [undefined] : rule.from.map((f, j) => ({ j, piece: sourcePiece(f.source, `${path}.from[${j}].source`, report) }));
    const tos = rule.to === undefined || rule.to.length === 0 ? [undefined] : rule.to.map((t, k) => ({ j: k, piece: operationPiece(t.operation, `${path}.to[${k}].operation`, report) }));
    const when = whenPiece(rule.when, path, report);
    let dropped = 0;
    for (const f of froms) {
      for (const t of tos) {
        const pieces = [f?.piece, t?.piece, when].filter((x): x is Piece => x !== undefined);
        if (pieces.some((x) => x.never)) continue;
        if (action === 'allow' && pieces.some((x) => x.unsupported)) {
          dropped++;
          continue;
        }
        const suffix = (f !== undefined && froms.length > 1 ? `/from/${f.j}` : '') + (t !== undefined && tos.length > 1 ? `/to/${t.j}` : '');
        out.push({ name: `${name}/rule/${i}${suffix}`, action, conditions: pieces.flatMap((x) => x.conditions) });
      }
    }
    if (dropped > 0) report('warning', 'ERR_ISTIO_UNSUPPORTED', path, 'an ALLOW rule that uses something not implemented allows nothing (Istio\'s treatment of a field it cannot apply); left out');
  });
  return out;
}

/** The combined IrAuthz of every AuthorizationPolicy that selects this instance; undefined when none does. */
export function authorizationPolicyAuthz(items: readonly AuthorizationPolicy[], labels: ReadonlyMap<string, string>, diagnostics: Diagnostic[]): IrAuthz | undefined {
  const applied: AuthorizationPolicy[] = [];
  const rules: IrAuthzRule[] = [];
  let anyAllow = false;
  for (const p of [...items].sort(compareByCreation)) {
    if (!selectsThisGateway(p, labels, diagnostics)) continue;
    const report: Report = (severity, code, path, message) => diagnostics.push({ severity, code, object: refOf(p), source: p.source, path, message });
    const action = p.spec.action;
    // CUSTOM policies are the ext-auth filter's (custom-authorization.ts), reported there.
    if (action === 'CUSTOM') continue;
    applied.push(p);
    if (action === 'ALLOW') anyAllow = true;
    rules.push(...rulesOf(p, action === 'ALLOW' ? 'allow' : action === 'AUDIT' ? 'audit' : 'deny', report));
  }
  if (applied.length === 0) return undefined;
  return { policy: applied.map(policyName).join(','), rules, noMatch: anyAllow ? 'deny' : 'allow' };
}
