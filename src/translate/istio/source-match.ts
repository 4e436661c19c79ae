// `match.sourceLabels` and `match.sourceNamespace`: which proxies a route applies to. Istio matches
// them against the proxy that serves the route (a sidecar's workload, or the gateway's own
// deployment), not against each request, so a route whose source does not match is left out of
// that proxy's route table at apply time. Isthmus knows its labels from --istio-gateway-labels
// (edge) or --workload-labels (sidecar), and its namespace from the Gateway resource (edge) or
// --namespace (sidecar).

export interface IstioSource {
  readonly labels?: Readonly<Record<string, string>>;
  readonly namespace?: string;
}

export interface ProxyIdentity {
  readonly labels: ReadonlyMap<string, string>;
  readonly namespace: string;
}

/** Every source label equal on the proxy, and the namespace when one is named. */
export function sourceMatches(source: IstioSource | undefined, proxy: ProxyIdentity): boolean {
  if (source === undefined) return true;
  if (source.namespace !== undefined && source.namespace !== proxy.namespace) return false;
  return Object.entries(source.labels ?? {}).every(([k, v]) => proxy.labels.get(k) === v);
}
