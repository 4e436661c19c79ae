// Flags of `isthmus run`, with their defaults; `--help` prints this table, so it is the contract.
import { parseArgs } from 'node:util';
import { availableParallelism, homedir } from 'node:os';
import path from 'node:path';

export interface RunOptions {
  readonly configDirs: readonly string[];
  readonly demo: boolean;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly listenAddress: string;
  readonly adminPort: number;
  readonly portMap: ReadonlyMap<number, number>;
  readonly accessLog: string;
  readonly ingressClass: string;
  readonly ingressController: string;
  /** `--istio-gateway-labels`: this instance's Pod labels, matched by Istio Gateway selectors. */
  readonly istioGatewayLabels: ReadonlyMap<string, string>;
  readonly trustedProxies: readonly string[];
  readonly shutdownGraceMs: number;
  /** `--health-port`: /healthz, /ready and /metrics on the listen address (for kubelet probes and Prometheus); 0 = off. */
  readonly healthPort: number;
  /** `--redis-url`: the shared store of global rate limits and quotas; without it they count per replica. */
  readonly redisUrl?: string;
  /** `--redis-timeout`: the longest a request waits for Redis before the policy's failure mode applies. */
  readonly redisTimeoutMs: number;
  /**
   * `--state-dir`: where the gateway keeps state that must survive a restart (usage counts, in
   * `usage.json`) when there is no Redis; undefined = kept in memory only (the sidecar).
   */
  readonly stateDir?: string;
  /** `--serve-services`: NodePort and LoadBalancer Services become L4 listeners (docs/l4.md). */
  readonly services?: { readonly nodeAddress: string; readonly nodeName?: string };
  /** Set with `--kubernetes`: read the cluster instead of folders (docs/kubernetes.md). */
  readonly kubernetes?: KubernetesOptions;
  /**
   * `--upstream-client`: what speaks HTTP/1.1 to http1 and https upstreams (docs/upstream-pool.md);
   * h2 and h2c upstreams always use undici. Absent (callers that build options themselves): raw.
   */
  readonly upstreamClient?: UpstreamClient;
  /** `--workers N|auto`, resolved: how many processes serve traffic; 1 or absent (the sidecar) = no cluster at all (docs/workers.md). */
  readonly workers?: number;
  /** Whether `--workers` was on the command line (modes that run one process say so only then). */
  readonly workersExplicit?: boolean;
  /** Connection limits (docs/security.md); each unset one keeps the data plane's default. */
  readonly limits: {
    readonly maxConnectionsPerClient?: number;
    readonly firstByteTimeoutMs?: number;
    readonly headersTimeoutMs?: number;
    readonly keepAliveTimeoutMs?: number;
    readonly sendTimeoutMs?: number;
    readonly maxConcurrentStreams?: number;
    /** `--http1-frontend node|lean` (or $ISTHMUS_HTTP1_FRONTEND): who parses cleartext HTTP/1.1 (docs/http1-frontend.md). */
    readonly http1Frontend?: 'node' | 'lean';
  };
}

export type UpstreamClient = 'raw' | 'undici';

export interface KubernetesOptions {
  readonly kubeconfig?: string;
  readonly watchNamespaces: readonly string[];
  readonly secretLabelSelector?: string;
  readonly publishService?: { readonly namespace: string; readonly name: string };
  readonly publishAddresses: readonly string[];
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly resyncPeriodMs: number;
}

/**
 * `--workers` when not given: one serving process per core, as nginx's `worker_processes auto` and
 * Envoy's default concurrency. The test harness pins `--workers 1` for tests about one process.
 */
export const DEFAULT_WORKERS: 'auto' | `${number}` = 'auto';

export const RUN_FLAGS = [
  ['--config DIR', '(none)', 'Folder of *.yaml/*.yml/*.json to load and watch; repeatable. Without it, the embedded demo runs.'],
  ['--demo', 'off', 'Also serve the embedded demo (examples/quickstart, examples/gateway-api and examples/istio) and start echo backends for its Pods.'],
  ['--http-port N', '8080', 'Port for plain HTTP (logical port 80 of Ingress).'],
  ['--https-port N', '8443', 'Port for HTTPS (logical port 443 of Ingress).'],
  ['--listen-address ADDR', '0.0.0.0', 'Address the traffic listeners bind.'],
  ['--admin-port N', '9901', 'Admin API port, bound to 127.0.0.1.'],
  ['--port-map A=B,...', '80=<http-port>,443=<https-port>', 'Map ports declared in resources to real ports.'],
  ['--access-log T', 'stdout', 'stdout, off, or a file path.'],
  ['--ingress-class NAME', 'isthmus', 'IngressClass name served by this instance.'],
  ['--ingress-controller NAME', 'isthmus.dev/ingress-controller', 'spec.controller of IngressClasses that are ours.'],
  ['--istio-gateway-labels K=V,...', 'istio=ingressgateway', 'Labels of this gateway instance: Istio Gateways whose selector they satisfy are served.'],
  ['--trusted-proxy CIDR', '(none)', 'Client address or CIDR whose X-Forwarded-* / X-Request-Id are kept; repeatable.'],
  ['--workers N|auto', DEFAULT_WORKERS, 'Processes that serve traffic (auto: one per core); the primary loads and translates once and hands each the result (docs/workers.md).'],
  ['--shutdown-grace MS', '10000', 'On SIGTERM, how long in-flight requests may take to finish.'],
  ['--max-connections-per-client N', '1024', 'Open connections one client address may hold; 0 = no cap.'],
  ['--first-byte-timeout MS', '10000', 'A new connection must send its first byte (or finish TLS) within this.'],
  ['--header-timeout MS', '30000', 'A request head must be complete within this (HTTP/1.x).'],
  ['--idle-timeout MS', '60000', 'Idle keep-alive connections and HTTP/2 sessions without streams close after this.'],
  ['--send-timeout MS', '60000', 'A response the client takes no bytes of for this long is cut; 0 = never.'],
  ['--max-concurrent-streams N', '100', 'HTTP/2 streams one connection may have open at once.'],
  ['--health-port N', '0 (off)', 'Serve only /healthz, /ready and /metrics on --listen-address at this port (kubelet probes, Prometheus).'],
  ['--redis-url URL', '$ISTHMUS_REDIS_URL or (none)', 'Redis for global rate limits and quotas shared by replicas; without it they count per replica.'],
  ['--redis-timeout MS', '100', 'The longest a request waits for Redis; then the policy fails open (local limit) or closed (503).'],
  ['--http1-frontend F', '$ISTHMUS_HTTP1_FRONTEND or lean', 'Who parses cleartext HTTP/1.1 requests: lean (Isthmus\' own parser on the sockets, as strict as node\'s; docs/http1-frontend.md) or node (node:http).'],
  ['--upstream-client C', 'raw', 'What speaks HTTP/1.1 to http1 and https upstreams: raw (Isthmus\' own keep-alive pool on net/tls sockets) or undici; h2/h2c upstreams always use undici (docs/upstream-pool.md).'],
  ['--state-dir DIR', '$ISTHMUS_STATE_DIR, $XDG_STATE_HOME/isthmus or ~/.local/state/isthmus', 'Where usage counts (GET /api/usage) are kept across restarts without --redis-url: usage.json, flushed every 10 s and on shutdown.'],
  ['--serve-services', 'off', 'Serve NodePort and LoadBalancer Services as L4 (TCP/UDP) listeners: node ports on --node-address, load-balancer and external IPs on the Service port (docs/l4.md).'],
  ['--node-address ADDR', '0.0.0.0', 'Address node ports bind with --serve-services.'],
  ['--node-name NAME', '$NODE_NAME or (none)', 'This node, for externalTrafficPolicy: Local with --serve-services.'],
  ['--kubernetes', 'off', 'Read the cluster (list/watch every kind) instead of folders; write statuses back (docs/kubernetes.md).'],
  ['--kubeconfig PATH', '$KUBECONFIG, ~/.kube/config, or the Pod\'s service account', 'Credentials for --kubernetes.'],
  ['--watch-namespace NS', '(all)', 'Watch only this namespace (namespaced kinds); repeatable.'],
  ['--secret-label-selector SEL', '(none)', 'Read only Secrets matching this label selector, e.g. isthmus.dev/tls=true.'],
  ['--publish-service NS/NAME', '(none)', 'Write this Service\'s load-balancer addresses into Ingress and Gateway statuses.'],
  ['--publish-address ADDR', '(none)', 'Write this address into Ingress and Gateway statuses; repeatable; wins over --publish-service.'],
  ['--leader-election-namespace NS', '$POD_NAMESPACE or isthmus-system', 'Namespace of the Lease that elects the one replica that writes statuses.'],
  ['--leader-election-id NAME', 'isthmus-leader', 'Name of that Lease.'],
  ['--lease-duration MS', '15000', 'How long a leader\'s lease lasts without renewal.'],
  ['--resync-period MS', '600000', 'How often every status is compared with the live object again; 0 = never.'],
] as const;

export class UsageError extends Error {}

function http1Frontend(raw: string | undefined): 'node' | 'lean' {
  if (raw === undefined || raw === '' || raw === 'lean') return 'lean';
  if (raw === 'node') return 'node';
  throw new UsageError(`--http1-frontend: expected node or lean, got "${raw}"`);
}

function upstreamClient(raw: string | undefined): UpstreamClient {
  if (raw === undefined) return 'raw';
  if (raw === 'raw' || raw === 'undici') return raw;
  throw new UsageError(`--upstream-client: expected raw or undici, got "${raw}"`);
}

export function parseRunArgs(argv: readonly string[]): RunOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', multiple: true },
      demo: { type: 'boolean' },
      'http-port': { type: 'string' },
      'https-port': { type: 'string' },
      'listen-address': { type: 'string' },
      'admin-port': { type: 'string' },
      'port-map': { type: 'string', multiple: true },
      'access-log': { type: 'string' },
      'ingress-class': { type: 'string' },
      'ingress-controller': { type: 'string' },
      'istio-gateway-labels': { type: 'string' },
      'trusted-proxy': { type: 'string', multiple: true },
      'shutdown-grace': { type: 'string' },
      workers: { type: 'string' },
      'max-connections-per-client': { type: 'string' },
      'first-byte-timeout': { type: 'string' },
      'header-timeout': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'send-timeout': { type: 'string' },
      'max-concurrent-streams': { type: 'string' },
      'health-port': { type: 'string' },
      'redis-url': { type: 'string' },
      'redis-timeout': { type: 'string' },
      'state-dir': { type: 'string' },
      'upstream-client': { type: 'string' },
      'http1-frontend': { type: 'string' },
      'serve-services': { type: 'boolean' },
      'node-address': { type: 'string' },
      'node-name': { type: 'string' },
      kubernetes: { type: 'boolean' },
      kubeconfig: { type: 'string' },
      'watch-namespace': { type: 'string', multiple: true },
      'secret-label-selector': { type: 'string' },
      'publish-service': { type: 'string' },
      'publish-address': { type: 'string', multiple: true },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string' },
      'lease-duration': { type: 'string' },
      'resync-period': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const httpPort = port(values['http-port'] ?? '8080', '--http-port');
  const httpsPort = port(values['https-port'] ?? '8443', '--https-port');
  const portMap = new Map<number, number>([
    [80, httpPort],
    [443, httpsPort],
  ]);
  addPortMap(portMap, values['port-map']);
  const configDirs = values.config ?? [];
  const grace = Number(values['shutdown-grace'] ?? '10000');
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError('--shutdown-grace: expected milliseconds');
  const kubernetes = values.kubernetes === true ? kubernetesOptions(values) : undefined;
  if (kubernetes && (configDirs.length > 0 || values.demo === true)) throw new UsageError('--kubernetes reads the cluster; --config and --demo read folders: choose one');
  if (!kubernetes) {
    const stray = ['kubeconfig', 'watch-namespace', 'secret-label-selector', 'publish-service', 'publish-address', 'leader-election-namespace', 'leader-election-id', 'lease-duration', 'resync-period'].find((f) => values[f as keyof typeof values] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --kubernetes`);
  }
  return {
    configDirs,
    demo: !kubernetes && (values.demo === true || configDirs.length === 0),
    healthPort: port(values['health-port'] ?? '0', '--health-port'),
    ...redisUrl(values['redis-url'] ?? process.env.ISTHMUS_REDIS_URL),
    redisTimeoutMs: optionalCount(values['redis-timeout'], '--redis-timeout', 'ms', 1).ms ?? 100,
    stateDir: stateDir(values['state-dir']),
    upstreamClient: upstreamClient(values['upstream-client']),
    ...(kubernetes ? { kubernetes } : {}),
    ...serviceListeners(values['serve-services'] === true, values['node-address'], values['node-name'] ?? process.env.NODE_NAME),
    httpPort,
    httpsPort,
    listenAddress: values['listen-address'] ?? '0.0.0.0',
    adminPort: port(values['admin-port'] ?? '9901', '--admin-port'),
    portMap,
    accessLog: values['access-log'] ?? 'stdout',
    ingressClass: values['ingress-class'] ?? 'isthmus',
    ingressController: values['ingress-controller'] ?? 'isthmus.dev/ingress-controller',
    istioGatewayLabels: parseLabels(values['istio-gateway-labels'] ?? 'istio=ingressgateway', '--istio-gateway-labels'),
    trustedProxies: values['trusted-proxy'] ?? [],
    shutdownGraceMs: grace,
    workers: workerCount(values.workers ?? DEFAULT_WORKERS),
    workersExplicit: values.workers !== undefined,
    limits: {
      ...optionalCount(values['max-connections-per-client'], '--max-connections-per-client', 'maxConnectionsPerClient', 0),
      ...optionalCount(values['first-byte-timeout'], '--first-byte-timeout', 'firstByteTimeoutMs', 1),
      ...optionalCount(values['header-timeout'], '--header-timeout', 'headersTimeoutMs', 1),
      ...optionalCount(values['idle-timeout'], '--idle-timeout', 'keepAliveTimeoutMs', 1),
      ...optionalCount(values['send-timeout'], '--send-timeout', 'sendTimeoutMs', 0),
      ...optionalCount(values['max-concurrent-streams'], '--max-concurrent-streams', 'maxConcurrentStreams', 1),
      http1Frontend: http1Frontend(values['http1-frontend'] ?? process.env.ISTHMUS_HTTP1_FRONTEND),
    },
  };
}

/** `auto` is os.availableParallelism(): the cores this process may run on (cgroup/affinity aware), not the machine's. */
export function workerCount(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--workers: expected auto or an integer 1-256, got ${JSON.stringify(value)}`);
  return n;
}

function serviceListeners(serve: boolean, nodeAddress: string | undefined, nodeName: string | undefined): { services?: RunOptions['services'] } {
  if (!serve) {
    if (nodeAddress !== undefined) throw new UsageError('--node-address needs --serve-services');
    return {};
  }
  if (nodeAddress === '') throw new UsageError('--node-address: expected an IP address');
  return { services: { nodeAddress: nodeAddress ?? '0.0.0.0', ...(nodeName ? { nodeName } : {}) } };
}

/** `--port-map A=B,...` (repeatable) into `map`; run, explain and lb read it the same way. */
export function addPortMap(map: Map<number, number>, specs: readonly string[] | undefined): Map<number, number> {
  for (const spec of specs ?? []) {
    for (const pair of spec.split(',').filter(Boolean)) {
      const [from, to] = pair.split('=');
      if (from === undefined || to === undefined) throw new UsageError(`--port-map: expected PORT=PORT, got ${JSON.stringify(pair)}`);
      map.set(port(from, '--port-map'), port(to, '--port-map'));
    }
  }
  return map;
}

/** `--node NAME=ADDRESS` (lb) and `--lb-node` (explain): nodes named on the command line. */
export function parseNodeSpecs(specs: readonly string[] | undefined, flag: string): { name: string; address: string }[] {
  return (specs ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`${flag} expects NAME=ADDRESS, got ${JSON.stringify(spec)}`);
    return { name: spec.slice(0, eq), address: spec.slice(eq + 1) };
  });
}

/**
 * The flag, else $ISTHMUS_STATE_DIR, else the XDG base directory for state (per user, not in the
 * working directory, so a gateway started from a source checkout leaves the checkout clean), else
 * `.isthmus/` in the working directory when there is no home.
 */
export function stateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--state-dir: expected a folder');
    return path.resolve(flag);
  }
  if (env.ISTHMUS_STATE_DIR) return path.resolve(env.ISTHMUS_STATE_DIR);
  if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return path.join(env.XDG_STATE_HOME, 'isthmus');
  let home = '';
  try {
    home = homedir();
  } catch {
    // No home (a uid with no passwd entry): fall through to the working directory.
  }
  return home === '' ? path.resolve('.isthmus') : path.join(home, '.local', 'state', 'isthmus');
}

function redisUrl(value: string | undefined): { redisUrl?: string } {
  if (value === undefined || value === '') return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--redis-url: expected redis://[user:password@]host:port[/db], got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--redis-url: expected a redis:// or rediss:// URL, got ${url.protocol}`);
  return { redisUrl: value };
}

function kubernetesOptions(values: {
  kubeconfig?: string;
  'watch-namespace'?: string[];
  'secret-label-selector'?: string;
  'publish-service'?: string;
  'publish-address'?: string[];
  'leader-election-namespace'?: string;
  'leader-election-id'?: string;
  'lease-duration'?: string;
  'resync-period'?: string;
}): KubernetesOptions {
  let publishService: KubernetesOptions['publishService'];
  if (values['publish-service'] !== undefined) {
    const [namespace, name, extra] = values['publish-service'].split('/');
    if (!namespace || !name || extra !== undefined) throw new UsageError(`--publish-service: expected NAMESPACE/NAME, got ${JSON.stringify(values['publish-service'])}`);
    publishService = { namespace, name };
  }
  const leaseDurationMs = optionalCount(values['lease-duration'], '--lease-duration', 'ms', 1000).ms ?? 15_000;
  const resyncPeriodMs = optionalCount(values['resync-period'], '--resync-period', 'ms', 0).ms ?? 600_000;
  return {
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    watchNamespaces: values['watch-namespace'] ?? [],
    ...(values['secret-label-selector'] === undefined ? {} : { secretLabelSelector: values['secret-label-selector'] }),
    ...(publishService ? { publishService } : {}),
    publishAddresses: values['publish-address'] ?? [],
    leaderElectionNamespace: values['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? 'isthmus-system',
    leaderElectionId: values['leader-election-id'] ?? 'isthmus-leader',
    leaseDurationMs,
    resyncPeriodMs,
  };
}

/** `{ [key]: n }` for a given integer flag of at least `min`, `{}` when the flag is absent. */
function optionalCount<K extends string>(value: string | undefined, flag: string, key: K, min: number): Partial<Record<K, number>> {
  if (value === undefined) return {};
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer of at least ${min}, got ${JSON.stringify(value)}`);
  return { [key]: n } as Partial<Record<K, number>>;
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

/** `app=gw,istio=ingressgateway` → a label map; an empty string is no labels (only selector-less Gateways). */
export function parseLabels(value: string, flag: string): ReadonlyMap<string, string> {
  const labels = new Map<string, string>();
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag}: expected KEY=VALUE[,KEY=VALUE...], got ${JSON.stringify(pair)}`);
    labels.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return labels;
}
