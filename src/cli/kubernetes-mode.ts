// `isthmus run --kubernetes`: the same Gateway as file mode with the cluster as its source, plus
// the two side outputs a controller owes the cluster: statuses written back, by one leader only.
//   KubernetesSource (list/watch every kind) → Gateway (translate, apply, serve) → StatusWriter
//   LeaderElector (a Lease) decides whether this replica's StatusWriter writes.
// Every replica serves traffic; leadership only decides who writes.
import { hostname } from 'node:os';
import type { KubernetesOptions, RunOptions } from './args.js';
import { Gateway } from './gateway.js';
import { systemClock } from '../core/clock.js';
import { packageVersion } from '../core/package-root.js';
import { KubeApiClient } from '../sources/kubernetes/kube-api-client.js';
import { KubernetesSource } from '../sources/kubernetes/kubernetes-source.js';
import { LeaderElector } from '../sources/kubernetes/leader-election.js';
import { StatusWriter } from '../sources/kubernetes/status-writer.js';
import { DEFAULT_GATEWAY_CONTROLLER } from '../translate/gateway-api/translate-gateway-api.js';

export interface KubernetesGateway {
  readonly gateway: Gateway;
  readonly elector: LeaderElector;
  readonly writer: StatusWriter;
  /** Releases the lease first (another replica takes over at once), then drains. */
  stop(): Promise<number>;
}

export function createKubernetesGateway(options: RunOptions, k: KubernetesOptions, log: (line: string) => void = (line) => process.stderr.write(line + '\n')): KubernetesGateway {
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  // The replica's identity in the User-Agent: the API server's audit log then says which replica wrote.
  const client = KubeApiClient.load({ ...(k.kubeconfig === undefined ? {} : { kubeconfig: k.kubeconfig }), userAgent: `isthmus/${packageVersion()} (${identity})` });
  const source = new KubernetesSource({
    client,
    watchNamespaces: k.watchNamespaces,
    ...(k.secretLabelSelector === undefined ? {} : { secretLabelSelector: k.secretLabelSelector }),
    resyncPeriodMs: k.resyncPeriodMs,
    log,
  });
  const writer = new StatusWriter({
    client,
    live: source,
    controllerName: DEFAULT_GATEWAY_CONTROLLER,
    publish: { addresses: k.publishAddresses, ...(k.publishService ? { service: k.publishService } : {}) },
    clock: systemClock,
    log,
  });
  const gateway = new Gateway(options, { source, log, holdBackOnSourceErrors: false, onStatuses: (statuses) => writer.update(statuses) });
  const elector = new LeaderElector({
    client,
    namespace: k.leaderElectionNamespace,
    name: k.leaderElectionId,
    identity,
    leaseDurationMs: k.leaseDurationMs,
    clock: systemClock,
    log,
    onChange: (leading) => writer.setLeading(leading),
  });
  source.onResync(() => writer.resync());
  if (k.publishAddresses.length === 0 && !k.publishService) log('isthmus: kubernetes: no --publish-service or --publish-address: Ingress statuses are not written and Gateway statuses carry no address');
  return {
    gateway,
    elector,
    writer,
    async stop() {
      await elector.close();
      await writer.close();
      return await gateway.stop();
    },
  };
}
