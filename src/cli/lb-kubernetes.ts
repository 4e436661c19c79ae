// `isthmus lb --kubernetes`: the load balancer with the cluster as its source, plus the side
// output a LoadBalancer implementation owes the cluster: each served Service's
// `status.loadBalancer.ingress`, written by one leader only. The same pieces as
// `isthmus run --kubernetes` (kubernetes-mode.ts), with fewer collections:
//   KubernetesSource (Services, Nodes) → LoadBalancerRunner (plan, health checks, L4 listeners)
//     → loadBalancerStatuses → StatusWriter (only the Lease holder writes; every replica proxies)
import { hostname } from 'node:os';
import { systemClock } from '../core/clock.js';
import type { ServiceObjectStatus } from '../core/object-status.js';
import { packageVersion } from '../core/package-root.js';
import { nodeKind } from '../resources/node.js';
import { serviceKind } from '../resources/service.js';
import { KubeApiClient } from '../sources/kubernetes/kube-api-client.js';
import { KubernetesSource } from '../sources/kubernetes/kubernetes-source.js';
import { LeaderElector } from '../sources/kubernetes/leader-election.js';
import { StatusWriter } from '../sources/kubernetes/status-writer.js';
import { watchedCollections } from '../sources/kubernetes/watched-collections.js';
import { loadBalancerStatuses } from '../translate/services/load-balancer-status.js';
import type { LbKubernetesOptions } from './lb-kubernetes-flags.js';
import { LoadBalancerRunner, type LbRunnerOptions } from './lb-runner.js';

/** What the lb reads: Services (what to serve) and Nodes (where to send). Its ClusterRole (deploy/lb) grants these and no more. */
export const LB_WATCHED_COLLECTIONS = watchedCollections([serviceKind, nodeKind]);

export interface KubernetesLoadBalancer {
  readonly runner: LoadBalancerRunner;
  readonly writer: StatusWriter;
  readonly elector: LeaderElector;
  start(): Promise<void>;
  /** Releases the lease first (another replica writes at once), then closes the listeners. */
  stop(): Promise<void>;
}

export function createKubernetesLoadBalancer(lb: Omit<LbRunnerOptions, 'onApplied' | 'addressFromStatus'>, k: LbKubernetesOptions): KubernetesLoadBalancer {
  const log = lb.log;
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  // The replica in the User-Agent: the API server's audit log then says which replica wrote.
  const client = KubeApiClient.load({ ...(k.kubeconfig === undefined ? {} : { kubeconfig: k.kubeconfig }), userAgent: `isthmus/${packageVersion()} lb (${identity})` });
  const sourceLog = (line: string): void => log(line.replace(/^isthmus: /, ''));
  const source = new KubernetesSource({ client, watchNamespaces: k.watchNamespaces, resyncPeriodMs: k.resyncPeriodMs, collections: LB_WATCHED_COLLECTIONS, log: sourceLog });
  const writer = new StatusWriter({ client, live: source, controllerName: lb.loadBalancerClass, publish: { addresses: [] }, clock: systemClock, log: sourceLog });
  const elector = new LeaderElector({
    client,
    namespace: k.leaderElectionNamespace,
    name: k.leaderElectionId,
    identity,
    leaseDurationMs: k.leaseDurationMs,
    clock: systemClock,
    log: sourceLog,
    onChange: (leading) => writer.setLeading(leading),
  });
  const warned = new Set<string>();
  /** Per Service, the addresses we last asked for: to clear them once the Service is no longer ours. */
  const ours = new Map<string, string>();
  const runner = new LoadBalancerRunner({
    ...lb,
    addressFromStatus: false,
    onApplied: (index, serving) => {
      const { statuses, unadvertised } = loadBalancerStatuses(index, serving, { loadBalancerClass: lb.loadBalancerClass, advertise: k.advertise, ipMode: 'VIP' });
      for (const u of unadvertised) {
        const key = `${u.service}|${u.family}`;
        if (warned.has(key)) continue;
        warned.add(key);
        log(`Service ${u.service}: its ${u.family} listener is on the wildcard address, which names no address a client can use; ${u.withoutStatus ? 'its status is not written' : `no ${u.family} address is written`} (give --advertise-address)`);
      }
      const wanted = new Set(statuses.map(keyOf));
      const clear: ServiceObjectStatus[] = [];
      for (const [key, ips] of ours) {
        if (wanted.has(key)) continue;
        // No longer ours (another class now): clear only while the status still holds what we wrote.
        const [namespace, name] = key.split('/') as [string, string];
        const live = source.liveObject({ group: '', kind: 'Service', namespace, name }) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } } | undefined;
        if (live !== undefined && ipsOf(live.status?.loadBalancer?.ingress ?? []) === ips) clear.push({ apiVersion: 'v1', kind: 'Service', namespace, name, status: { loadBalancer: { ingress: [] } } });
        else ours.delete(key);
      }
      for (const s of statuses) {
        if (s.status.loadBalancer.ingress.length > 0) ours.set(keyOf(s), ipsOf(s.status.loadBalancer.ingress));
        else ours.delete(keyOf(s));
      }
      writer.update([...statuses, ...clear]);
    },
  });
  source.onResync(() => writer.resync());
  return {
    runner,
    writer,
    elector,
    async start() {
      await runner.start(source);
      elector.start();
    },
    async stop() {
      await elector.close();
      await writer.close();
      await runner.close();
    },
  };
}

function keyOf(s: ServiceObjectStatus): string {
  return `${s.namespace ?? 'default'}/${s.name}`;
}

function ipsOf(ingress: readonly { readonly ip?: string }[]): string {
  return ingress.map((i) => i.ip ?? '').join(',');
}
