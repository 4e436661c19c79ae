// `isthmus run --config DIR` in file mode: a Pod in a config folder is a declaration, not a process
// (its `status.podIP` stands in for what the kubelet would report). Nothing answers on its address
// unless `--demo` started an echo backend there or the user runs a server, and every request routed
// to it answers 502. Said once at start-up, naming the Services, rather than left for each request
// to discover. The Gateway runs it on its first applied IR (no second load or translation).
import net from 'node:net';
import path from 'node:path';
import type { IrCluster, IrSnapshot } from '../ir/types.js';
import type { RunOptions } from './args.js';

export interface UnservedService {
  /** `Service demo/web`. */
  readonly service: string;
  /** `127.0.0.2:8081`, the Pod endpoints nothing listens on. */
  readonly endpoints: readonly string[];
}

/** How long a loopback connect may take before the address counts as unserved (a refusal is immediate). */
const PROBE_TIMEOUT_MS = 300;

/**
 * The routed Services of an applied IR whose Pod endpoints on loopback addresses (how Pods are
 * told apart on one machine) have nothing listening. Pods elsewhere are not probed: they may be real.
 */
export async function findUnservedPodServices(ir: IrSnapshot): Promise<UnservedService[]> {
  const byService = new Map<string, Set<string>>();
  const probes = new Map<string, Promise<boolean>>();
  for (const cluster of ir.clusters) {
    for (const e of cluster.endpoints) {
      if (!e.target?.startsWith('pod/') || !isLoopback(e.address)) continue;
      const key = `${e.address}:${e.port}`;
      if (!probes.has(key)) probes.set(key, isListening(e.address, e.port));
      const service = serviceOf(cluster);
      byService.set(service, (byService.get(service) ?? new Set()).add(key));
    }
  }
  const listening = new Map(await Promise.all([...probes].map(async ([key, p]) => [key, await p] as const)));
  const unserved: UnservedService[] = [];
  for (const [service, keys] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    const endpoints = [...keys].filter((k) => listening.get(k) === false).sort();
    if (endpoints.length > 0) unserved.push({ service, endpoints });
  }
  return unserved;
}

/** The one stderr line: what is not served, why, and the two ways out. */
export function describeUnservedPods(unserved: readonly UnservedService[], options: Pick<RunOptions, 'configDirs' | 'demo'>, demoDirs: readonly string[]): string {
  const list = unserved.map((u) => `${u.service} (${u.endpoints.join(', ')})`).join(', ');
  const demo = new Set(demoDirs.map((d) => path.resolve(d)));
  const givenDemo = options.configDirs.filter((d) => demo.has(path.resolve(d)));
  const first = unserved[0]?.endpoints[0] ?? '127.0.0.2:8080';
  const fixes = [
    ...(givenDemo.length > 0 && !options.demo ? [`add --demo to start echo backends for the Pods of ${givenDemo.join(', ')}`] : []),
    `start a server on a Pod's address (isthmus echo --listen ${first})`,
    'or point a Service at a server you already run (examples/external-service)',
  ];
  return (
    `isthmus: warning: nothing listens on the Pods behind ${list}: a Pod in a config folder is a declaration, not a process, ` +
    `so requests routed there answer 502 (upstream_connect_error). To serve them: ${fixes.join('; ')}.`
  );
}

/** The Service a cluster sends to: its origin, or, for a DestinationRule subset, the Service in its name. */
function serviceOf(cluster: IrCluster): string {
  if (cluster.origin.kind === 'Service') return `Service ${cluster.origin.namespace}/${cluster.origin.name}`;
  // `destinationrule/<dr ns>/<dr name>/<service ns>/<service>/<port>/subset/<subset>` (translate/istio).
  const subset = /^destinationrule\/[^/]+\/[^/]+\/([^/]+)\/([^/]+)\/\d+\/subset\//.exec(cluster.name);
  if (subset !== null) return `Service ${subset[1]}/${subset[2]}`;
  return `${cluster.origin.kind} ${cluster.origin.namespace === undefined ? '' : `${cluster.origin.namespace}/`}${cluster.origin.name}`;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && ((net.isIPv4(address) && address.startsWith('127.')) || address === '::1');
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
