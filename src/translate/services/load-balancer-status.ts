// What `isthmus lb --kubernetes` writes to each Service's `status.loadBalancer.ingress`: the
// addresses its listeners for that Service answer on. Pure: the Services and the listeners that
// are serving in, the statuses out (the StatusWriter compares them with the live objects and
// writes only what differs).
//   - A listener on a specific address: that address.
//   - A listener on the wildcard (0.0.0.0, ::) answers on every local address, so it names none a
//     client can use: `--advertise-address` of that family is written instead; without one the
//     Service is reported in `unadvertised` and, if it has no other address, gets no status.
//   - A Service of our class (or none) that no listener serves (not type LoadBalancer any more, no
//     node port, a listener that could not bind) gets an empty list: we clear what we wrote.
//   - A Service of another class is not ours to write at all (KEP-1959).
import type { LoadBalancerIngress, ServiceObjectStatus } from '../../core/object-status.js';
import type { IrL4Listener } from '../../ir/l4.js';
import { familyOf, type IpFamily } from '../../kubeproxy/service-ports.js';
import type { ResourceIndex } from '../../store/resource-index.js';
import { isWildcardAddress } from '../binds/bind-listeners.js';
import { DEFAULT_LOAD_BALANCER_CLASS, isServedClass } from './load-balancer-listeners.js';

export interface LoadBalancerStatusOptions {
  /** Default DEFAULT_LOAD_BALANCER_CLASS. */
  readonly loadBalancerClass?: string;
  /** `--advertise-address`, at most one per family: written for listeners bound to the wildcard. */
  readonly advertise: Readonly<Partial<Record<IpFamily, string>>>;
  /**
   * `ipMode` of every entry (Kubernetes 1.30+; an older API server drops the field). VIP: the
   * traffic reaches the nodes as if sent to the Service's address, so kube-proxy may short-cut
   * in-cluster clients straight to the endpoints; undefined leaves the field out.
   */
  readonly ipMode?: LoadBalancerIngress['ipMode'];
}

export interface UnadvertisedService {
  /** `namespace/name`. */
  readonly service: string;
  readonly family: IpFamily;
  /** True when the Service got no status at all because of it. */
  readonly withoutStatus: boolean;
}

export interface LoadBalancerStatusResult {
  readonly statuses: ServiceObjectStatus[];
  readonly unadvertised: UnadvertisedService[];
}

export function loadBalancerStatuses(index: ResourceIndex, serving: readonly IrL4Listener[], options: LoadBalancerStatusOptions): LoadBalancerStatusResult {
  const cls = options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS;
  const byService = new Map<string, IrL4Listener[]>();
  for (const l of serving) {
    if (l.origin?.kind !== 'Service') continue;
    const key = `${l.origin.namespace ?? ''}/${l.origin.name}`;
    byService.set(key, [...(byService.get(key) ?? []), l]);
  }
  const statuses: ServiceObjectStatus[] = [];
  const unadvertised: UnadvertisedService[] = [];
  const keys = [...index.services.keys()].sort();
  for (const key of keys) {
    const service = index.services.get(key)!;
    if (!isServedClass(service, cls)) continue;
    const namespace = service.metadata.namespace ?? 'default';
    const addresses: string[] = [];
    const missing = new Set<IpFamily>();
    for (const l of byService.get(`${namespace}/${service.metadata.name}`) ?? []) {
      const family = familyOf(l.address);
      const address = isWildcardAddress(l.address) ? options.advertise[family] : l.address;
      if (address === undefined) missing.add(family);
      else if (!addresses.includes(address)) addresses.push(address);
    }
    for (const family of missing) unadvertised.push({ service: `${namespace}/${service.metadata.name}`, family, withoutStatus: addresses.length === 0 });
    if (missing.size > 0 && addresses.length === 0) continue;
    const ingress = addresses.map((ip): LoadBalancerIngress => (options.ipMode === undefined ? { ip } : { ip, ipMode: options.ipMode }));
    statuses.push({ apiVersion: 'v1', kind: 'Service', namespace, name: service.metadata.name, status: { loadBalancer: { ingress } } });
  }
  return { statuses, unadvertised };
}
