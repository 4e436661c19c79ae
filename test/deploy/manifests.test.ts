// deploy/: renders the base and every overlay with the real `kubectl kustomize`, validates every
// object against the Kubernetes OpenAPI schemas (kubernetes-models; Gateway API kinds with
// @kubernetes-models/gateway-api) and field names (@kubernetes/client-node's models), then checks
// the properties that matter: least-privilege RBAC derived from the kinds the source reads,
// probes on the health port, the security context, a grace period that outlasts the drain, and
// what each overlay changes. The last test breaks copies of the manifests and shows every check
// failing, so none of them can pass by accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { load } from 'js-yaml';
import { parseRunArgs } from '../../src/cli/args.js';
import { DEFAULT_GATEWAY_CONTROLLER } from '../../src/translate/gateway-api/translate-gateway-api.js';
import {
  argsOf,
  clusterRoleCoverageProblems,
  clusterRoleLeastPrivilegeProblems,
  containersOf,
  flagValue,
  GATEWAY,
  gatewayContainer,
  gracePeriodProblems,
  leaseRoleProblems,
  NAMESPACE,
  namespaceProblems,
  podSpecOf,
  preStopSleepSeconds,
  probeProblems,
  resolvePort,
  securityContextProblems,
  selects,
  wildcardProblems,
} from './checks.js';
import { at, describe, find, findAll, isRecord, kubectlBinaries, kubectlVersion, metadataOf, render, repoRoot, type K8sObject } from './render.js';
import { schemaErrors, unknownFields } from './schema.js';

const DEPLOY = path.join(repoRoot(), 'deploy');
const TARGETS = ['base', 'overlays/nodeport', 'overlays/redis', 'overlays/istio-sidecar'] as const;
type Target = (typeof TARGETS)[number];
const KUBECTLS = kubectlBinaries();

/** What `kubectl apply -k deploy/base` creates (docs/deploy.md lists the same). */
const BASE_OBJECTS = [
  `Namespace ${NAMESPACE}`,
  `ServiceAccount ${NAMESPACE}/isthmus`,
  'ClusterRole isthmus',
  'ClusterRoleBinding isthmus',
  `Role ${NAMESPACE}/isthmus-leader-election`,
  `RoleBinding ${NAMESPACE}/isthmus-leader-election`,
  `Deployment ${NAMESPACE}/isthmus`,
  `Service ${NAMESPACE}/isthmus`,
  'IngressClass isthmus',
  'GatewayClass isthmus',
  `HorizontalPodAutoscaler ${NAMESPACE}/isthmus`,
  `PodDisruptionBudget ${NAMESPACE}/isthmus`,
];
/** What an overlay adds to the base. */
const EXTRA_OBJECTS: Partial<Record<Target, readonly string[]>> = {
  'overlays/redis': [`Deployment ${NAMESPACE}/isthmus-redis`, `Service ${NAMESPACE}/isthmus-redis`, `NetworkPolicy ${NAMESPACE}/isthmus-redis`],
};

const renders = new Map<string, K8sObject[]>();
/** One target rendered by one kubectl (the first by default), once per run. */
function objectsOf(target: Target, kubectl = KUBECTLS[0]!): K8sObject[] {
  const key = `${kubectl} ${target}`;
  let objects = renders.get(key);
  if (objects === undefined) {
    objects = render(kubectl, path.join(DEPLOY, target));
    renders.set(key, objects);
  }
  return objects;
}

function clone(target: Target): K8sObject[] {
  return structuredClone(objectsOf(target));
}

function must(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const object = find(objects, kind, name);
  assert.ok(object, `no ${kind} ${name} among ${objects.map(describe).join(', ')}`);
  return object;
}

/** The rendered objects keyed by identity, with sorted keys: for comparing two renderings. */
function canonical(objects: readonly K8sObject[]): Map<string, string> {
  const sortKeys = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(sortKeys) : isRecord(value) ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])])) : value;
  return new Map(objects.map((o) => [`${o.apiVersion} ${describe(o)}`, JSON.stringify(sortKeys(o))]));
}

test('kubectl is installed (deploy/ is rendered with `kubectl kustomize`)', (t) => {
  for (const kubectl of KUBECTLS) t.diagnostic(`${kubectl}: ${kubectlVersion(kubectl)}`);
});

for (const target of TARGETS) {
  test(`${target}: every object passes the Kubernetes schemas, has no unknown field, and sits in ${NAMESPACE}`, async () => {
    const objects = objectsOf(target);
    assert.deepEqual(objects.map(describe).sort(), [...BASE_OBJECTS, ...(EXTRA_OBJECTS[target] ?? [])].sort());
    const problems: string[] = [];
    for (const object of objects) {
      const schema = await schemaErrors(object);
      if (schema !== undefined) problems.push(`${describe(object)}: ${schema}`);
      for (const field of unknownFields(object)) problems.push(`${describe(object)} ${field}`);
    }
    problems.push(...namespaceProblems(objects));
    assert.deepEqual(problems, []);
  });

  test(`${target}: least-privilege RBAC (no wildcard; list+watch on every kind Isthmus reads; only status writes and Events; Leases in a Role)`, () => {
    const objects = objectsOf(target);
    const lease = flagValue(argsOf(gatewayContainer(objects)), '--leader-election-id');
    assert.deepEqual(
      [...wildcardProblems(objects), ...clusterRoleCoverageProblems(objects), ...clusterRoleLeastPrivilegeProblems(objects), ...leaseRoleProblems(objects, lease)],
      [],
    );
  });

  test(`${target}: probes on the health port, hardened security context, a grace period longer than the drain`, () => {
    const objects = objectsOf(target);
    assert.deepEqual([...probeProblems(objects), ...securityContextProblems(objects), ...gracePeriodProblems(objects)], []);
  });
}

if (KUBECTLS.length > 1) {
  test(`every kubectl (${KUBECTLS.join(', ')}) renders the same objects`, () => {
    for (const target of TARGETS) {
      const [first, ...rest] = KUBECTLS.map((k) => canonical(objectsOf(target, k)));
      for (const [i, other] of rest.entries()) {
        assert.deepEqual([...other!.keys()].sort(), [...first!.keys()].sort(), `${target}: ${KUBECTLS[i + 1]} renders other objects than ${KUBECTLS[0]}`);
        for (const [id, text] of first!) assert.equal(other!.get(id), text, `${target}: ${id} differs between ${KUBECTLS[0]} and ${KUBECTLS[i + 1]}`);
      }
    }
  });
}

test('base: the Deployment runs `isthmus run --kubernetes` as the brief sets it up', () => {
  const objects = objectsOf('base');
  const deployment = must(objects, 'Deployment', GATEWAY);
  const container = gatewayContainer(objects);
  const args = argsOf(container);
  assert.equal(at(deployment, 'spec', 'replicas'), 2);
  assert.equal(container.raw.image, 'isthmus:0.1.0');
  assert.equal(container.raw.command, undefined, 'command would replace the image ENTRYPOINT and its node flags');
  assert.deepEqual(args.slice(0, 2), ['run', '--kubernetes']);
  // The CLI's own parser takes them (the downward-API variables as the kubelet would expand them).
  const expanded = args.slice(1).map((a) => a.replace(/\$\((POD_NAMESPACE)\)/g, NAMESPACE).replace(/\$\(POD_NAME\)/g, 'isthmus-0'));
  const parsed = parseRunArgs(expanded);
  assert.ok(parsed.kubernetes, 'run --kubernetes');
  assert.equal(parsed.demo, false);
  assert.equal(flagValue(args, '--listen-address'), '0.0.0.0');
  assert.equal(flagValue(args, '--health-port'), '9902');
  assert.equal(flagValue(args, '--admin-port'), '9901');
  assert.equal(flagValue(args, '--shutdown-grace'), '10000');

  // Container ports are the ports the gateway is told to bind.
  assert.equal(resolvePort(container, 'http'), Number(flagValue(args, '--http-port')));
  assert.equal(resolvePort(container, 'https'), Number(flagValue(args, '--https-port')));
  assert.equal(resolvePort(container, 'health'), Number(flagValue(args, '--health-port')));
  assert.deepEqual([resolvePort(container, 'http'), resolvePort(container, 'https'), resolvePort(container, 'health')], [8080, 8443, 9902]);

  // The downward API gives the lease namespace and identity.
  const env = Array.isArray(container.raw.env) ? container.raw.env.filter(isRecord) : [];
  const fieldOf = (name: string): unknown => at(env.find((e) => e.name === name), 'valueFrom', 'fieldRef', 'fieldPath');
  assert.equal(fieldOf('POD_NAMESPACE'), 'metadata.namespace');
  assert.equal(fieldOf('POD_NAME'), 'metadata.name');

  // --publish-service names the Service that exists, and it selects these pods.
  const [svcNamespace, svcName] = (flagValue(args, '--publish-service') ?? '').split('/');
  const service = must(objects, 'Service', svcName ?? '');
  assert.equal(metadataOf(service).namespace, svcNamespace);
  const podLabels = (at(deployment, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;
  assert.ok(selects(at(service, 'spec', 'selector'), podLabels), 'the Service does not select the gateway pods');
  assert.ok(selects(at(deployment, 'spec', 'selector', 'matchLabels'), podLabels), 'the Deployment selector does not match its template');

  // Its identity is the ServiceAccount the RBAC binds.
  assert.equal(podSpecOf(deployment).serviceAccountName, GATEWAY);
  must(objects, 'ServiceAccount', GATEWAY);

  // Classes: the IngressClass named by --ingress-class, the GatewayClass with the controller name the translator owns.
  const ingressClass = must(objects, 'IngressClass', flagValue(args, '--ingress-class') ?? 'isthmus');
  assert.equal(at(ingressClass, 'spec', 'controller'), 'isthmus.dev/ingress-controller');
  const gatewayClass = must(objects, 'GatewayClass', 'isthmus');
  assert.equal(at(gatewayClass, 'spec', 'controllerName'), DEFAULT_GATEWAY_CONTROLLER);

  // A preStop pause before SIGTERM, and the grace period covers it plus the drain (checked per target above).
  assert.ok(preStopSleepSeconds(container) > 0, 'no preStop pause: the pod stops accepting before the load balancer stops sending');
  assert.ok(!args.includes('--demo') && flagValue(args, '--config') === undefined, 'no demo or file configuration in the cluster');
});

test('base: LoadBalancer Service 80 → 8080 and 443 → 8443, the namespace, HPA and PDB', () => {
  const objects = objectsOf('base');
  const container = gatewayContainer(objects);
  const deployment = must(objects, 'Deployment', GATEWAY);
  const podLabels = (at(deployment, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;

  const service = must(objects, 'Service', GATEWAY);
  assert.equal(at(service, 'spec', 'type'), 'LoadBalancer');
  const ports = (at(service, 'spec', 'ports') as unknown[]).filter(isRecord);
  const targetOf = (port: number): number | undefined => resolvePort(container, ports.find((p) => p.port === port)?.targetPort);
  assert.equal(targetOf(80), 8080);
  assert.equal(targetOf(443), 8443);
  assert.equal(ports.length, 2, 'only the traffic ports are public (not health, not admin)');

  const namespace = must(objects, 'Namespace', NAMESPACE);
  assert.equal(metadataOf(namespace).labels['pod-security.kubernetes.io/enforce'], 'restricted');

  const hpa = must(objects, 'HorizontalPodAutoscaler', GATEWAY);
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(at(hpa, 'spec', 'scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: GATEWAY });
  assert.equal(at(hpa, 'spec', 'metrics', 0, 'resource', 'name'), 'cpu');
  assert.ok((at(hpa, 'spec', 'minReplicas') as number) >= 2);

  const pdb = must(objects, 'PodDisruptionBudget', GATEWAY);
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.equal(at(pdb, 'spec', 'minAvailable'), 1);
  assert.ok(selects(at(pdb, 'spec', 'selector', 'matchLabels'), podLabels), 'the PDB does not select the gateway pods');

  // Overlay-only settings stay out of the base.
  assert.equal(metadataOf({ apiVersion: 'v1', kind: 'Pod', metadata: at(deployment, 'spec', 'template', 'metadata') }).labels['sidecar.istio.io/inject'], undefined);
  assert.equal(find(objects, 'Deployment', 'isthmus-redis'), undefined);
});

test('overlays/nodeport: the Service is NodePort on 30080 and 30443, the rest is the base', () => {
  const objects = objectsOf('overlays/nodeport');
  const service = must(objects, 'Service', GATEWAY);
  assert.equal(at(service, 'spec', 'type'), 'NodePort');
  const ports = (at(service, 'spec', 'ports') as unknown[]).filter(isRecord);
  assert.deepEqual(
    ports.map((p) => [p.port, p.targetPort, p.nodePort]),
    [
      [80, 'http', 30080],
      [443, 'https', 30443],
    ],
  );
  const base = canonical(objectsOf('base'));
  const overlay = canonical(objects);
  const changed = [...overlay.keys()].filter((id) => overlay.get(id) !== base.get(id));
  assert.deepEqual(changed, [`v1 Service ${NAMESPACE}/${GATEWAY}`]);
});

test('overlays/redis: a hardened Redis with probes, its Service, and ISTHMUS_REDIS_URL pointing at it', () => {
  const objects = objectsOf('overlays/redis');
  const redis = must(objects, 'Deployment', 'isthmus-redis');
  const [container] = containersOf(redis);
  assert.ok(container, 'no Redis container');
  assert.ok(isRecord(container.raw.readinessProbe) && isRecord(container.raw.livenessProbe), 'Redis has no readiness and liveness probes');
  // The data directory is an emptyDir, since the root filesystem is read-only.
  const volumes = (podSpecOf(redis).volumes as unknown[]).filter(isRecord);
  const mounts = (container.raw.volumeMounts as unknown[]).filter(isRecord);
  const data = mounts.find((m) => m.mountPath === '/data');
  assert.ok(data && isRecord(volumes.find((v) => v.name === data.name)?.emptyDir), '/data is not an emptyDir');

  const service = must(objects, 'Service', 'isthmus-redis');
  assert.ok(selects(at(service, 'spec', 'selector'), (at(redis, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>));
  const port = at(service, 'spec', 'ports', 0, 'port');
  const env = (gatewayContainer(objects).raw.env as unknown[]).filter(isRecord);
  assert.equal(env.find((e) => e.name === 'ISTHMUS_REDIS_URL')?.value, `redis://${metadataOf(service).name}.${metadataOf(service).namespace}.svc:${String(port)}`);
  // The base env is kept next to it.
  assert.ok(env.some((e) => e.name === 'POD_NAME') && env.some((e) => e.name === 'POD_NAMESPACE'));

  // Only the gateway's pods may reach it.
  const policy = must(objects, 'NetworkPolicy', 'isthmus-redis');
  const gatewayLabels = (at(must(objects, 'Deployment', GATEWAY), 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;
  assert.ok(selects(at(policy, 'spec', 'ingress', 0, 'from', 0, 'podSelector', 'matchLabels'), gatewayLabels));
});

test('overlays/istio-sidecar: injected, inbound not intercepted, the app waits for the proxy, the proxy outlives the drain', () => {
  const objects = objectsOf('overlays/istio-sidecar');
  const deployment = must(objects, 'Deployment', GATEWAY);
  const template = { apiVersion: 'v1', kind: 'Pod', metadata: at(deployment, 'spec', 'template', 'metadata') } as K8sObject;
  const { labels, annotations } = metadataOf(template);
  assert.equal(labels['sidecar.istio.io/inject'], 'true');
  assert.equal(annotations['traffic.sidecar.istio.io/includeInboundPorts'], '');
  assert.equal(annotations['traffic.sidecar.istio.io/excludeOutboundIPRanges'], undefined, 'outbound must stay intercepted');
  const proxyConfig = load(annotations['proxy.istio.io/config'] ?? '') as Record<string, unknown>;
  assert.equal(proxyConfig.holdApplicationUntilProxyStarts, true);
  const drain = /^(\d+)s$/.exec(String(proxyConfig.terminationDrainDuration));
  assert.ok(drain, 'terminationDrainDuration is not set in seconds');
  const container = gatewayContainer(objects);
  const gatewayDrain = preStopSleepSeconds(container) + Number(flagValue(argsOf(container), '--shutdown-grace')) / 1000;
  assert.ok(Number(drain[1]) >= gatewayDrain, `the sidecar stops after ${drain[1]} s, the gateway may still need it for ${gatewayDrain} s`);
  assert.ok(Number(drain[1]) < (podSpecOf(deployment).terminationGracePeriodSeconds as number));

  // The namespace allows the sidecar (baseline, Istio's level with its CNI) and is not opted out of injection.
  const namespace = metadataOf(must(objects, 'Namespace', NAMESPACE)).labels;
  assert.equal(namespace['pod-security.kubernetes.io/enforce'], 'baseline');
  assert.notEqual(namespace['istio-injection'], 'disabled');
});

test('the checks fail on broken manifests (each property is really tested)', async (t) => {
  const cases: Array<{ name: string; breakIt: (objects: K8sObject[]) => void; check: (objects: K8sObject[]) => string[] | Promise<string[]>; expect: RegExp }> = [
    {
      name: 'a wildcard verb',
      breakIt: (o) => (find(o, 'ClusterRole', GATEWAY)!.rules as Array<{ verbs: string[] }>)[0]!.verbs.push('*'),
      check: wildcardProblems,
      expect: /wildcard/,
    },
    {
      name: 'a wildcard resource in the Role',
      breakIt: (o) => (findAll(o, 'Role')[0]!.rules as Array<{ resources: string[] }>)[0]!.resources.push('*'),
      check: wildcardProblems,
      expect: /wildcard/,
    },
    {
      name: 'a kind the source reads without list/watch',
      breakIt: (o) => {
        for (const rule of find(o, 'ClusterRole', GATEWAY)!.rules as Array<{ resources: string[] }>) rule.resources = rule.resources.filter((r) => r !== 'listenersets');
      },
      check: clusterRoleCoverageProblems,
      expect: /list on listenersets\.gateway\.networking\.k8s\.io \(gateway\.networking\.k8s\.io\/v1 ListenerSet\)/,
    },
    {
      name: 'a status the gateway writes without update',
      breakIt: (o) => {
        for (const rule of find(o, 'ClusterRole', GATEWAY)!.rules as Array<{ resources: string[]; verbs: string[] }>) {
          if (rule.resources.includes('ingresses/status')) rule.verbs = ['get'];
        }
      },
      check: clusterRoleCoverageProblems,
      expect: /update on ingresses\/status/,
    },
    {
      name: 'get on Secrets',
      breakIt: (o) => (find(o, 'ClusterRole', GATEWAY)!.rules as Array<{ verbs: string[] }>)[0]!.verbs.push('get'),
      check: clusterRoleLeastPrivilegeProblems,
      expect: /get on secrets/,
    },
    {
      name: 'Leases in the ClusterRole',
      breakIt: (o) => (find(o, 'ClusterRole', GATEWAY)!.rules as unknown[]).push({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list'] }),
      check: (o) => leaseRoleProblems(o, 'isthmus'),
      expect: /grants leases cluster-wide/,
    },
    {
      name: 'another Lease name than the Role allows',
      breakIt: (o) => {
        const args = gatewayContainer(o).raw.args as string[];
        args[args.indexOf('--leader-election-id') + 1] = 'other';
      },
      check: (o) => leaseRoleProblems(o, flagValue(argsOf(gatewayContainer(o)), '--leader-election-id')),
      expect: /but the gateway uses "other"/,
    },
    {
      name: 'the readiness probe on the traffic port',
      breakIt: (o) => ((gatewayContainer(o).raw.readinessProbe as { httpGet: { port: string } }).httpGet.port = 'http'),
      check: probeProblems,
      expect: /readinessProbe: port http \(8080\) is not the health port 9902/,
    },
    {
      name: 'liveness on /ready',
      breakIt: (o) => ((gatewayContainer(o).raw.livenessProbe as { httpGet: { path: string } }).httpGet.path = '/ready'),
      check: probeProblems,
      expect: /livenessProbe: path \/ready, expected \/healthz/,
    },
    {
      name: 'a writable root filesystem',
      breakIt: (o) => ((gatewayContainer(o).raw.securityContext as Record<string, unknown>).readOnlyRootFilesystem = false),
      check: securityContextProblems,
      expect: /readOnlyRootFilesystem is not true/,
    },
    {
      name: 'running as root',
      breakIt: (o) => {
        (gatewayContainer(o).raw.securityContext as Record<string, unknown>).runAsUser = 0;
        (gatewayContainer(o).raw.securityContext as Record<string, unknown>).runAsNonRoot = false;
      },
      check: securityContextProblems,
      expect: /runAsNonRoot is not true/,
    },
    {
      name: 'an added capability',
      breakIt: (o) => ((gatewayContainer(o).raw.securityContext as { capabilities: Record<string, unknown> }).capabilities.add = ['NET_ADMIN']),
      check: securityContextProblems,
      expect: /adds capabilities NET_ADMIN/,
    },
    {
      name: 'no seccomp profile',
      breakIt: (o) => {
        delete (gatewayContainer(o).raw.securityContext as Record<string, unknown>).seccompProfile;
        delete (podSpecOf(find(o, 'Deployment', GATEWAY)!).securityContext as Record<string, unknown>).seccompProfile;
      },
      check: securityContextProblems,
      expect: /seccompProfile is not RuntimeDefault/,
    },
    {
      name: 'a grace period shorter than preStop + drain',
      breakIt: (o) => (podSpecOf(find(o, 'Deployment', GATEWAY)!).terminationGracePeriodSeconds = 15),
      check: gracePeriodProblems,
      expect: /terminationGracePeriodSeconds 15 s is not more than preStop \+ --shutdown-grace = 15 s/,
    },
    {
      name: 'a longer drain than the grace period',
      breakIt: (o) => {
        const args = gatewayContainer(o).raw.args as string[];
        args[args.indexOf('--shutdown-grace') + 1] = '30000';
      },
      check: gracePeriodProblems,
      expect: /is not more than preStop \+ --shutdown-grace = 35 s/,
    },
    {
      name: 'a misspelt securityContext field',
      breakIt: (o) => ((gatewayContainer(o).raw.securityContext as Record<string, unknown>).runAsNonRot = true),
      check: (o) => unknownFields(find(o, 'Deployment', GATEWAY)!),
      expect: /spec\.template\.spec\.containers\[0\]\.securityContext\.runAsNonRot: no such field in V1SecurityContext/,
    },
    {
      name: 'a misspelt GatewayClass field',
      breakIt: (o) => ((find(o, 'GatewayClass', 'isthmus')!.spec as Record<string, unknown>).controller = 'x'),
      check: (o) => unknownFields(find(o, 'GatewayClass', 'isthmus')!),
      expect: /\.spec\.controller: no such field/,
    },
    {
      name: 'a port number as a string',
      breakIt: (o) => (((gatewayContainer(o).raw.ports as unknown[])[0] as Record<string, unknown>).containerPort = '8080'),
      check: async (o) => [(await schemaErrors(find(o, 'Deployment', GATEWAY)!)) ?? ''].filter((e) => e !== ''),
      expect: /containerPort must be integer/,
    },
    {
      name: 'a GatewayClass without controllerName',
      breakIt: (o) => delete (find(o, 'GatewayClass', 'isthmus')!.spec as Record<string, unknown>).controllerName,
      check: async (o) => [(await schemaErrors(find(o, 'GatewayClass', 'isthmus')!)) ?? ''].filter((e) => e !== ''),
      expect: /must have required property 'controllerName'|controllerName/,
    },
    {
      name: 'an object outside the namespace',
      breakIt: (o) => ((find(o, 'Service', GATEWAY)!.metadata as Record<string, unknown>).namespace = 'default'),
      check: namespaceProblems,
      expect: /Service default\/isthmus: must be in isthmus-system/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      assert.deepEqual(await c.check(objectsOf('base')), [], 'the unbroken base passes this check');
      const broken = clone('base');
      c.breakIt(broken);
      const problems = await c.check(broken);
      assert.ok(problems.some((p) => c.expect.test(p)), `expected a problem matching ${c.expect}, got ${JSON.stringify(problems)}`);
    });
  }
});
