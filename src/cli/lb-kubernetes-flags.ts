// The flags of `isthmus lb --kubernetes` and their checks, apart from the wiring (lb-kubernetes.ts)
// so that `isthmus lb --config` does not load the Kubernetes client. Named as `isthmus run
// --kubernetes` names them where they mean the same.
import { isIP } from 'node:net';
import type { IpFamily } from '../kubeproxy/service-ports.js';
import { UsageError } from './args.js';

export const LB_KUBERNETES_HELP = `Kubernetes mode (--kubernetes):
  --kubeconfig PATH             credentials ($KUBECONFIG, ~/.kube/config, or the Pod's service account)
  --watch-namespace NS          watch Services only in this namespace (repeatable; default all)
  --advertise-address IP        written to the status of Services served on 0.0.0.0 / :: (one per family)
  --load-balancer-class NAME    serve Services of this class and of none (default isthmus.dev/lb)
  --leader-election-namespace NS  namespace of the Lease (default $POD_NAMESPACE or isthmus-system)
  --leader-election-id NAME     the Lease that elects the one replica writing status (default isthmus-lb-leader)
  --lease-duration MS           (default 15000)
  --resync-period MS            how often every status is compared with the live object (default 600000)
`;

/** The parseArgs options of Kubernetes mode, merged into `isthmus lb`'s. */
export const LB_KUBERNETES_FLAGS = {
  kubernetes: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  'watch-namespace': { type: 'string', multiple: true },
  'advertise-address': { type: 'string', multiple: true },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
  'lease-duration': { type: 'string' },
  'resync-period': { type: 'string' },
} as const;

export interface LbKubernetesOptions {
  readonly kubeconfig?: string;
  readonly watchNamespaces: readonly string[];
  readonly advertise: Readonly<Partial<Record<IpFamily, string>>>;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly resyncPeriodMs: number;
}

type KubeFlagValues = { [K in keyof typeof LB_KUBERNETES_FLAGS]?: (typeof LB_KUBERNETES_FLAGS)[K] extends { multiple: true } ? string[] : (typeof LB_KUBERNETES_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** Undefined without --kubernetes (then no other flag of this mode may be given). */
export function lbKubernetesOptions(values: KubeFlagValues): LbKubernetesOptions | undefined {
  if (values.kubernetes !== true) {
    const stray = Object.keys(LB_KUBERNETES_FLAGS).find((f) => f !== 'kubernetes' && values[f as keyof KubeFlagValues] !== undefined);
    if (stray !== undefined) throw new UsageError(`lb: --${stray} needs --kubernetes`);
    return undefined;
  }
  const advertise: Partial<Record<IpFamily, string>> = {};
  for (const ip of values['advertise-address'] ?? []) {
    const version = isIP(ip);
    if (version === 0) throw new UsageError(`lb: --advertise-address expects an IP address, got ${JSON.stringify(ip)}`);
    const family: IpFamily = version === 4 ? 'IPv4' : 'IPv6';
    if (advertise[family] !== undefined) throw new UsageError(`lb: --advertise-address: one ${family} address at most (got ${advertise[family]} and ${ip})`);
    advertise[family] = ip;
  }
  const ms = (flag: 'lease-duration' | 'resync-period', fallback: number, min: number): number => {
    const raw = values[flag];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`lb: --${flag} expects a whole number of ms ≥ ${min}`);
    return n;
  };
  return {
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    watchNamespaces: values['watch-namespace'] ?? [],
    advertise,
    leaderElectionNamespace: values['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? 'isthmus-system',
    leaderElectionId: values['leader-election-id'] ?? 'isthmus-lb-leader',
    leaseDurationMs: ms('lease-duration', 15_000, 1000),
    resyncPeriodMs: ms('resync-period', 600_000, 0),
  };
}
