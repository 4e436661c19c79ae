import type { IrEndpoint } from '../../ir/types.js';
import type { EndpointSlice } from '../../resources/endpoint-slice.js';
import type { Endpoints, Pod, Service } from '../../resources/resource.js';
import type { ServicePort } from '../../resources/service.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';

export type PodWeight = (pod: Pod | undefined) => number;

interface TargetRef {
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
}

function podOf(ref: TargetRef | undefined, namespace: string, index: ResourceIndex): { target?: string; pod?: Pod } {
  if (!ref || (ref.kind !== undefined && ref.kind !== 'Pod')) return {};
  const ns = ref.namespace ?? namespace;
  return { target: `pod/${ns}/${ref.name}`, pod: index.pods.get(namespacedKey(ns, ref.name)) };
}

function endpoint(address: string, port: number, weight: number, target: string | undefined): IrEndpoint {
  return target === undefined ? { address, port, weight } : { address, port, weight, target };
}

// An EndpointSlice port belongs to a Service port by name; a Service's single unnamed port is ''.
function portNameOf(servicePort: ServicePort): string {
  return servicePort.name ?? '';
}

function fromSlices(slices: readonly EndpointSlice[], sp: ServicePort, namespace: string, index: ResourceIndex, weightOf: PodWeight): IrEndpoint[] {
  const ready: IrEndpoint[] = [];
  const terminatingServing: IrEndpoint[] = [];
  for (const slice of slices) {
    const port = slice.ports.find((p) => (p.name ?? '') === portNameOf(sp) && p.protocol === sp.protocol)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints) {
      // The API: "clients may choose to only use the first element" of `addresses`.
      const address = ep.addresses[0];
      if (address === undefined) continue;
      const { target, pod } = podOf(ep.targetRef, namespace, index);
      const built = endpoint(address, port, weightOf(pod), target);
      // `ready` absent means ready (API docs: "nil should be interpreted as true").
      if (ep.conditions.ready !== false) ready.push(built);
      else if (ep.conditions.serving === true && ep.conditions.terminating === true) terminatingServing.push(built);
    }
  }
  // As kube-proxy does (KEP-1669): when nothing is ready, terminating endpoints that still serve
  // get traffic rather than none.
  return ready.length > 0 ? ready : terminatingServing;
}

function fromEndpoints(endpoints: Endpoints, sp: ServicePort, namespace: string, index: ResourceIndex, weightOf: PodWeight): IrEndpoint[] {
  const out: IrEndpoint[] = [];
  for (const subset of endpoints.subsets) {
    const port = subset.ports.find((p) => (p.name ?? '') === portNameOf(sp) && p.protocol === sp.protocol)?.port;
    if (port === undefined) continue;
    for (const address of subset.addresses) {
      const { target, pod } = podOf(address.targetRef, namespace, index);
      out.push(endpoint(address.ip, port, weightOf(pod), target));
    }
  }
  return out;
}

function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function isPodReady(pod: Pod): boolean {
  const { conditions, phase } = pod.status;
  if (conditions.length === 0) return phase === 'Running';
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The container port a targetPort names (the endpoint controller's podutil.FindPort). */
function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  for (const container of pod.spec.containers) {
    for (const port of container.ports) if (port.name === target && port.protocol === sp.protocol) return port.containerPort;
  }
  return undefined;
}

// What Kubernetes' endpoint controller would publish for a selector Service without EndpointSlices.
function fromPods(service: Service, sp: ServicePort, selector: Readonly<Record<string, string>>, index: ResourceIndex, weightOf: PodWeight): IrEndpoint[] {
  const out: IrEndpoint[] = [];
  const namespace = service.metadata.namespace ?? '';
  for (const pod of index.podsByNamespace.get(namespace) ?? []) {
    if (!selectorMatches(selector, pod.metadata.labels)) continue;
    const ip = pod.status.podIP;
    if (ip === undefined || pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const publishAll = service.spec.publishNotReadyAddresses;
    if (!publishAll && (pod.metadata.deletionTimestamp !== undefined || !isPodReady(pod))) continue;
    const port = resolveTargetPort(pod, sp);
    if (port === undefined) continue; // the controller skips pods without the named port
    out.push(endpoint(ip, port, weightOf(pod), `pod/${namespace}/${pod.metadata.name}`));
  }
  return out;
}

function dedupeAndSort(endpoints: readonly IrEndpoint[]): IrEndpoint[] {
  const seen = new Map<string, IrEndpoint>();
  for (const ep of endpoints) {
    const key = `${ep.address}|${ep.port}`;
    if (!seen.has(key)) seen.set(key, ep); // an address in two slices (slice churn) counts once
  }
  return [...seen.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

/**
 * Ready endpoints of one Service port: its EndpointSlices when there are any, else its v1
 * Endpoints, else what the endpoint controller would derive from the selector and the Pods.
 * ExternalName Services are handled by the caller (one DNS-name endpoint).
 */
export function resolveServiceEndpoints(service: Service, sp: ServicePort, index: ResourceIndex, weightOf: PodWeight): IrEndpoint[] {
  const namespace = service.metadata.namespace ?? '';
  const key = namespacedKey(namespace, service.metadata.name);
  const slices = index.endpointSlicesByService.get(key);
  if (slices && slices.length > 0) return dedupeAndSort(fromSlices(slices, sp, namespace, index, weightOf));
  const endpoints = index.endpoints.get(key);
  if (endpoints) return dedupeAndSort(fromEndpoints(endpoints, sp, namespace, index, weightOf));
  const selector = service.spec.selector;
  if (selector && Object.keys(selector).length > 0) return dedupeAndSort(fromPods(service, sp, selector, index, weightOf));
  return [];
}
