// The properties of the deployment that matter, as functions from rendered objects to a list of
// problems ([] = holds). manifests.test.ts runs them on every rendering, and also on broken
// copies, so each check is shown to fail when its property does not hold.
import { KINDS } from '../../src/resources/kind-registry.js';
import { splitApiVersion } from './schema.js';
import { at, describe, find, findAll, isRecord, metadataOf, type K8sObject } from './render.js';

export const NAMESPACE = 'isthmus-system';
export const GATEWAY = 'isthmus';

/** The kinds whose `status` the gateway writes (issue 10): group and plural. */
export const STATUS_WRITES: ReadonlyArray<{ readonly group: string; readonly resource: string }> = [
  { group: 'networking.k8s.io', resource: 'ingresses' },
  { group: 'gateway.networking.k8s.io', resource: 'gatewayclasses' },
  { group: 'gateway.networking.k8s.io', resource: 'gateways' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  { group: 'gateway.networking.k8s.io', resource: 'grpcroutes' },
  { group: 'gateway.networking.k8s.io', resource: 'listenersets' },
  { group: 'gateway.networking.k8s.io', resource: 'backendtlspolicies' },
  { group: 'gateway.networking.k8s.io', resource: 'tcproutes' },
  { group: 'gateway.networking.k8s.io', resource: 'udproutes' },
  { group: 'gateway.networking.k8s.io', resource: 'tlsroutes' },
  { group: 'isthmus.dev', resource: 'authpolicies' },
  { group: 'isthmus.dev', resource: 'accesspolicies' },
  { group: 'isthmus.dev', resource: 'ratelimitpolicies' },
  { group: 'isthmus.dev', resource: 'apis' },
  { group: 'isthmus.dev', resource: 'transformpolicies' },
];

/** Every kind the gateway reads, from the one registry Kubernetes mode watches (src/resources/kind-registry.ts). */
export function readKinds(): Array<{ readonly group: string; readonly kind: string; readonly apiVersion: string; readonly resource: string }> {
  return KINDS.map((definition) => ({ group: splitApiVersion(definition.apiVersion).group, kind: definition.kind, apiVersion: definition.apiVersion, resource: definition.plural }));
}

// --- RBAC ------------------------------------------------------------------------------------

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
  readonly nonResourceURLs: readonly string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function rulesOf(role: K8sObject): Rule[] {
  const rules = Array.isArray(role.rules) ? role.rules : [];
  return rules.filter(isRecord).map((r) => ({
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    verbs: strings(r.verbs),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs),
  }));
}

function allows(rules: readonly Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

/** No `*` in any group, resource, verb, name or URL of any Role or ClusterRole, and no aggregation. */
export function wildcardProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const role of [...findAll(objects, 'ClusterRole'), ...findAll(objects, 'Role')]) {
    if (role.aggregationRule !== undefined) problems.push(`${describe(role)}: aggregationRule pulls in other roles' rules`);
    rulesOf(role).forEach((rule, i) => {
      for (const [field, values] of Object.entries(rule) as Array<[string, readonly string[]]>) {
        for (const value of values) if (value.includes('*')) problems.push(`${describe(role)} rules[${i}].${field}: "${value}" is a wildcard`);
      }
      if (rule.nonResourceURLs.length > 0) problems.push(`${describe(role)} rules[${i}]: nonResourceURLs are not needed`);
    });
  }
  return problems;
}

/** list + watch on every kind the gateway reads; get + update on every status it writes. */
export function clusterRoleCoverageProblems(objects: readonly K8sObject[]): string[] {
  const role = find(objects, 'ClusterRole', GATEWAY);
  if (role === undefined) return [`no ClusterRole ${GATEWAY}`];
  const rules = rulesOf(role);
  const problems: string[] = [];
  for (const { group, kind, apiVersion, resource } of readKinds()) {
    for (const verb of ['list', 'watch']) {
      if (!allows(rules, group, resource, verb)) problems.push(`ClusterRole ${GATEWAY} does not allow ${verb} on ${resource}.${group || 'core'} (${apiVersion} ${kind})`);
    }
  }
  for (const { group, resource } of STATUS_WRITES) {
    for (const verb of ['get', 'update']) {
      if (!allows(rules, group, `${resource}/status`, verb)) problems.push(`ClusterRole ${GATEWAY} does not allow ${verb} on ${resource}/status.${group}`);
    }
  }
  return problems;
}

/** Beyond reading, the ClusterRole writes only status subresources and creates Events; Secrets are never fetched one by one. */
export function clusterRoleLeastPrivilegeProblems(objects: readonly K8sObject[]): string[] {
  const role = find(objects, 'ClusterRole', GATEWAY);
  if (role === undefined) return [`no ClusterRole ${GATEWAY}`];
  const problems: string[] = [];
  rulesOf(role).forEach((rule, i) => {
    for (const resource of rule.resources) {
      for (const verb of rule.verbs) {
        const ok =
          (['list', 'watch'].includes(verb) && !resource.includes('/')) ||
          (['get', 'update'].includes(verb) && resource.endsWith('/status')) ||
          (verb === 'create' && resource === 'events');
        if (!ok) problems.push(`ClusterRole ${GATEWAY} rules[${i}]: ${verb} on ${resource} is more than the gateway needs`);
      }
    }
  });
  return problems;
}

/** Leases: a Role in the gateway's namespace (not a ClusterRole), bound to its ServiceAccount, on the Lease it is told to use. */
export function leaseRoleProblems(objects: readonly K8sObject[], leaseName: string | undefined): string[] {
  const problems: string[] = [];
  for (const role of findAll(objects, 'ClusterRole')) {
    if (rulesOf(role).some((r) => r.resources.includes('leases'))) problems.push(`${describe(role)} grants leases cluster-wide; use a Role in ${NAMESPACE}`);
  }
  const roles = findAll(objects, 'Role').filter((r) => rulesOf(r).some((rule) => rule.resources.includes('leases')));
  if (roles.length !== 1) return [...problems, `expected one Role granting leases, found ${roles.length}`];
  const role = roles[0]!;
  if (metadataOf(role).namespace !== NAMESPACE) problems.push(`${describe(role)} is not in ${NAMESPACE}`);
  const rules = rulesOf(role);
  for (const verb of ['get', 'create', 'update']) {
    if (!allows(rules, 'coordination.k8s.io', 'leases', verb)) problems.push(`${describe(role)} does not allow ${verb} on leases`);
  }
  if (leaseName === undefined) problems.push('the Deployment does not pass --leader-election-id');
  for (const rule of rules) {
    if (rule.resourceNames.length > 0 && (leaseName === undefined || !rule.resourceNames.includes(leaseName))) {
      problems.push(`${describe(role)} limits ${rule.verbs.join('/')} to Leases ${rule.resourceNames.join(', ')}, but the gateway uses "${leaseName}"`);
    }
  }
  const binding = findAll(objects, 'RoleBinding').find((b) => at(b, 'roleRef', 'name') === metadataOf(role).name && at(b, 'roleRef', 'kind') === 'Role');
  if (binding === undefined) problems.push(`no RoleBinding for ${describe(role)}`);
  else problems.push(...subjectProblems(binding));
  const clusterBinding = findAll(objects, 'ClusterRoleBinding').find((b) => at(b, 'roleRef', 'name') === GATEWAY && at(b, 'roleRef', 'kind') === 'ClusterRole');
  if (clusterBinding === undefined) problems.push(`no ClusterRoleBinding for ClusterRole ${GATEWAY}`);
  else problems.push(...subjectProblems(clusterBinding));
  return problems;
}

function subjectProblems(binding: K8sObject): string[] {
  const subjects = Array.isArray(binding.subjects) ? binding.subjects.filter(isRecord) : [];
  const ok = subjects.length === 1 && subjects[0]!.kind === 'ServiceAccount' && subjects[0]!.name === GATEWAY && subjects[0]!.namespace === NAMESPACE;
  return ok ? [] : [`${describe(binding)} should bind exactly ServiceAccount ${NAMESPACE}/${GATEWAY}, binds ${JSON.stringify(subjects)}`];
}

// --- the Deployment --------------------------------------------------------------------------

export interface Container {
  readonly name: string;
  readonly raw: Record<string, unknown>;
}

export function podSpecOf(workload: K8sObject): Record<string, unknown> {
  const spec = at(workload, 'spec', 'template', 'spec');
  return isRecord(spec) ? spec : {};
}

export function containersOf(workload: K8sObject): Container[] {
  const pod = podSpecOf(workload);
  const all = [...(Array.isArray(pod.initContainers) ? pod.initContainers : []), ...(Array.isArray(pod.containers) ? pod.containers : [])];
  return all.filter(isRecord).map((raw) => ({ name: typeof raw.name === 'string' ? raw.name : '', raw }));
}

export function gatewayContainer(objects: readonly K8sObject[]): Container {
  const deployment = find(objects, 'Deployment', GATEWAY);
  if (deployment === undefined) throw new Error(`no Deployment ${GATEWAY}`);
  const container = containersOf(deployment).find((c) => c.name === GATEWAY);
  if (container === undefined) throw new Error(`Deployment ${GATEWAY} has no container ${GATEWAY}`);
  return container;
}

export function argsOf(container: Container): string[] {
  return strings(container.raw.args);
}

/** The value after `--flag` (or of `--flag=value`); undefined when the flag is absent. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(flag + '=')) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/** A named or numbered container port → its number. */
export function resolvePort(container: Container, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  const ports = Array.isArray(container.raw.ports) ? container.raw.ports.filter(isRecord) : [];
  const named = ports.find((p) => p.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

/** Liveness on /healthz and readiness on /ready, both on the port `--health-port` names. */
export function probeProblems(objects: readonly K8sObject[]): string[] {
  const container = gatewayContainer(objects);
  const healthPort = Number(flagValue(argsOf(container), '--health-port'));
  const problems: string[] = [];
  if (!Number.isInteger(healthPort) || healthPort <= 0) problems.push('the gateway is not given --health-port');
  for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/ready']] as const) {
    const get = at(container.raw, probe, 'httpGet');
    if (!isRecord(get)) {
      problems.push(`${probe}: not an httpGet probe`);
      continue;
    }
    if (get.path !== path) problems.push(`${probe}: path ${String(get.path)}, expected ${path}`);
    const port = resolvePort(container, get.port);
    if (port !== healthPort) problems.push(`${probe}: port ${String(get.port)} (${String(port)}) is not the health port ${healthPort}`);
  }
  return problems;
}

/** runAsNonRoot, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp: for every container of every workload. */
export function securityContextProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const workload of objects.filter((o) => isRecord(at(o, 'spec', 'template', 'spec')))) {
    const pod = isRecord(podSpecOf(workload).securityContext) ? (podSpecOf(workload).securityContext as Record<string, unknown>) : {};
    if (podSpecOf(workload).hostNetwork === true || podSpecOf(workload).hostPID === true) problems.push(`${describe(workload)}: host namespaces`);
    for (const container of containersOf(workload)) {
      const own = isRecord(container.raw.securityContext) ? container.raw.securityContext : {};
      // The container's setting wins over the pod's, as the kubelet applies them.
      const effective = (key: string): unknown => (own[key] !== undefined ? own[key] : pod[key]);
      const where = `${describe(workload)} container ${container.name}`;
      if (effective('runAsNonRoot') !== true) problems.push(`${where}: runAsNonRoot is not true`);
      const user = effective('runAsUser');
      if (typeof user !== 'number' || user === 0) problems.push(`${where}: runAsUser ${String(user)} (must be a non-zero uid)`);
      if (own.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (own.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (own.privileged === true) problems.push(`${where}: privileged`);
      const drop = strings(at(own, 'capabilities', 'drop'));
      const add = strings(at(own, 'capabilities', 'add'));
      if (!drop.includes('ALL')) problems.push(`${where}: capabilities.drop lacks ALL`);
      if (add.length > 0) problems.push(`${where}: adds capabilities ${add.join(', ')}`);
      if (at(effective('seccompProfile'), 'type') !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
      const resources = container.raw.resources;
      for (const part of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (at(resources, part, resource) === undefined) problems.push(`${where}: no resources.${part}.${resource}`);
        }
      }
    }
  }
  return problems;
}

/** Seconds a preStop `sleep N` holds the container before SIGTERM (0 without one). */
export function preStopSleepSeconds(container: Container): number {
  const command = strings(at(container.raw, 'lifecycle', 'preStop', 'exec', 'command'));
  if (command.length === 0) {
    const sleep = at(container.raw, 'lifecycle', 'preStop', 'sleep', 'seconds');
    return typeof sleep === 'number' ? sleep : 0;
  }
  if (command[0] !== 'sleep' || command.length !== 2 || !/^\d+$/.test(command[1]!)) throw new Error(`preStop ${JSON.stringify(command)}: expected [sleep, N]`);
  return Number(command[1]);
}

/** The pod's grace period outlasts preStop plus the drain (`--shutdown-grace`), or the kubelet kills it mid-drain. */
export function gracePeriodProblems(objects: readonly K8sObject[]): string[] {
  const deployment = find(objects, 'Deployment', GATEWAY)!;
  const container = gatewayContainer(objects);
  const graceMs = Number(flagValue(argsOf(container), '--shutdown-grace') ?? 10_000);
  const period = podSpecOf(deployment).terminationGracePeriodSeconds;
  const needed = preStopSleepSeconds(container) + graceMs / 1000;
  if (typeof period !== 'number') return ['terminationGracePeriodSeconds is not set (the default 30 s is not tied to the drain)'];
  return period > needed ? [] : [`terminationGracePeriodSeconds ${period} s is not more than preStop + --shutdown-grace = ${needed} s`];
}

/** Every namespaced object lives in the gateway's namespace. */
export function namespaceProblems(objects: readonly K8sObject[]): string[] {
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'IngressClass', 'GatewayClass']);
  return objects
    .filter((o) => (clusterScoped.has(o.kind) ? metadataOf(o).namespace !== undefined : metadataOf(o).namespace !== NAMESPACE))
    .map((o) => `${describe(o)}: ${clusterScoped.has(o.kind) ? 'cluster-scoped, must have no namespace' : `must be in ${NAMESPACE}`}`);
}

/** `key=value` labels of a selector all present in the given labels. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
