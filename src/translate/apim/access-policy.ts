// One AccessPolicy → IrAuthz: each rule becomes one IR rule whose conditions are its fields (AND),
// `notX` fields negated. Consumer names without a namespace are in the policy's namespace. A
// client address that is not an address or CIDR block makes its rule unusable: an allow rule is
// left out (it can only allow less), a deny rule keeps its other conditions (it can only deny
// more), so a typo never opens a route. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import { parseCidr } from '../../core/cidr.js';
import type { IrAuthz, IrAuthzCondition, IrAuthzRule } from '../../ir/apim.js';
import { refOf, type AccessPolicy } from '../../resources/resource.js';
import type { AccessRule } from '../../resources/apim-kinds.js';

export interface AccessPolicyEvaluation {
  readonly authz: IrAuthz;
  readonly invalid?: string;
}

export function accessPolicyName(p: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `accesspolicy/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function evaluateAccessPolicy(policy: AccessPolicy, diagnostics: Diagnostic[]): AccessPolicyEvaluation {
  const namespace = policy.metadata.namespace ?? 'default';
  const name = accessPolicyName(policy);
  const problems: string[] = [];
  const rules: IrAuthzRule[] = [];
  const { allow, deny } = policy.spec.rules;
  for (const [action, list] of [['deny', deny], ['allow', allow]] as const) {
    (list ?? []).forEach((rule, i) => {
      const path = `spec.rules.${action}[${i}]`;
      const bad = badCidrs(rule);
      if (bad.length > 0) {
        const message = `${bad.map((b) => `"${b}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not an IPv4 or IPv6 address or CIDR block; ${action === 'allow' ? 'this allow rule is left out' : 'the address condition of this deny rule is dropped (it denies more, never less)'}`;
        diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(policy), source: policy.source, path, message });
        problems.push(`${path}: ${message}`);
        if (action === 'allow') return;
      }
      rules.push({ name: `${name}/${action}/${i}`, action, conditions: conditionsOf(rule, namespace, bad.length > 0) });
    });
  }
  const authz: IrAuthz = { policy: name, rules, noMatch: allow !== undefined ? 'deny' : 'allow' };
  return problems.length === 0 ? { authz } : { authz, invalid: problems[0]! };
}

function badCidrs(rule: AccessRule): string[] {
  return [...(rule.clientIPs ?? []), ...(rule.notClientIPs ?? [])].filter((c) => parseCidr(c).kind !== 'ok');
}

function sortedEntries(m: Readonly<Record<string, readonly string[]>> | undefined): [string, readonly string[]][] {
  return Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function conditionsOf(rule: AccessRule, namespace: string, dropAddresses: boolean): IrAuthzCondition[] {
  const out: IrAuthzCondition[] = [];
  const consumer = (n: string): string => (n.includes('/') ? n : `${namespace}/${n}`);
  const add = (kind: 'consumer' | 'group' | 'method' | 'path' | 'host', values: readonly string[] | undefined, negate: boolean, map: (v: string) => string = (v) => v): void => {
    if (values !== undefined && values.length > 0) out.push({ kind, values: values.map(map), negate });
  };
  add('consumer', rule.consumers, false, consumer);
  add('consumer', rule.notConsumers, true, consumer);
  add('group', rule.groups, false);
  add('group', rule.notGroups, true);
  for (const [claim, values] of sortedEntries(rule.claims)) out.push({ kind: 'claim', path: [claim], values: [...values], negate: false });
  for (const [claim, values] of sortedEntries(rule.notClaims)) out.push({ kind: 'claim', path: [claim], values: [...values], negate: true });
  add('method', rule.methods, false, (m) => m.toUpperCase());
  add('method', rule.notMethods, true, (m) => m.toUpperCase());
  add('path', rule.paths, false);
  add('path', rule.notPaths, true);
  add('host', rule.hosts, false, (h) => h.toLowerCase());
  add('host', rule.notHosts, true, (h) => h.toLowerCase());
  for (const [header, values] of sortedEntries(rule.headers)) out.push({ kind: 'header', name: header.toLowerCase(), values: [...values], negate: false });
  for (const [header, values] of sortedEntries(rule.notHeaders)) out.push({ kind: 'header', name: header.toLowerCase(), values: [...values], negate: true });
  if (!dropAddresses) {
    if ((rule.clientIPs ?? []).length > 0) out.push({ kind: 'ip', of: 'client', cidrs: [...rule.clientIPs!], negate: false });
    if ((rule.notClientIPs ?? []).length > 0) out.push({ kind: 'ip', of: 'client', cidrs: [...rule.notClientIPs!], negate: true });
  }
  return out;
}
