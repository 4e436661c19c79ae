// Checks the requests a real process made to the fake API server against rendered RBAC objects,
// the way the API server's RBAC authorizer decides: a request is allowed when a rule of a
// ClusterRole bound by a ClusterRoleBinding, or of a Role bound in the request's namespace, names
// its group, resource (with subresource) and verb, and, if the rule lists resourceNames, its name.
// Only bindings to `subject` count. Discovery paths (/api, /apis/...) are left out: every
// authenticated user may read them (system:discovery).
import type { RequestRecord } from '../support/fake-kube-api.js';
import { parseRestPath } from '../support/fake-kube/rest-path.js';
import { at, findAll, metadataOf, type K8sObject } from '../deploy/render.js';

export interface Subject {
  readonly name: string;
  readonly namespace: string;
}

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames: string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function rulesOf(role: K8sObject | undefined): Rule[] {
  const rules = Array.isArray(role?.rules) ? (role.rules as unknown[]) : [];
  return rules.map((r) => ({ apiGroups: strings(at(r, 'apiGroups')), resources: strings(at(r, 'resources')), verbs: strings(at(r, 'verbs')), resourceNames: strings(at(r, 'resourceNames')) }));
}

function binds(binding: K8sObject, subject: Subject): boolean {
  const subjects = Array.isArray(binding.subjects) ? (binding.subjects as unknown[]) : [];
  return subjects.some((s) => at(s, 'kind') === 'ServiceAccount' && at(s, 'name') === subject.name && at(s, 'namespace') === subject.namespace);
}

/** The requests RBAC would refuse, as `verb resource.group ns/name` lines; [] when all are allowed. */
export function deniedRequests(objects: readonly K8sObject[], subject: Subject, requests: readonly RequestRecord[]): string[] {
  const clusterRules = findAll(objects, 'ClusterRoleBinding')
    .filter((b) => binds(b, subject) && at(b, 'roleRef', 'kind') === 'ClusterRole')
    .flatMap((b) => rulesOf(findAll(objects, 'ClusterRole').find((r) => metadataOf(r).name === at(b, 'roleRef', 'name'))));
  const namespaceRules = (namespace: string | undefined): Rule[] =>
    namespace === undefined
      ? []
      : findAll(objects, 'RoleBinding')
          .filter((b) => metadataOf(b).namespace === namespace && binds(b, subject) && at(b, 'roleRef', 'kind') === 'Role')
          .flatMap((b) => rulesOf(findAll(objects, 'Role').find((r) => metadataOf(r).name === at(b, 'roleRef', 'name') && metadataOf(r).namespace === namespace)));
  const denied = new Set<string>();
  for (const request of requests) {
    const path = parseRestPath(request.path);
    if (path?.kind !== 'resource' || request.verb === undefined) continue;
    const resource = path.subresource === undefined ? path.plural : `${path.plural}/${path.subresource}`;
    const allowed = [...clusterRules, ...namespaceRules(path.namespace)].some(
      (r) =>
        r.apiGroups.includes(path.group) &&
        r.resources.includes(resource) &&
        r.verbs.includes(request.verb!) &&
        (r.resourceNames.length === 0 || (path.name !== undefined && r.resourceNames.includes(path.name))),
    );
    if (!allowed) denied.add(`${request.verb} ${resource}.${path.group || 'core'} ${path.namespace ?? ''}/${path.name ?? ''}`);
  }
  return [...denied].sort();
}
