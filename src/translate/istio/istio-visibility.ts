// `exportTo` on VirtualService, DestinationRule and ServiceEntry: which namespaces' proxies may
// use the object. Absent, empty or `*`: every namespace; `.`: the object's own namespace; `~`: no
// namespace; any other entry names a namespace. A proxy's namespace is the client's: the
// sidecar's `--namespace`, and at the edge the namespace of the Istio Gateway resource a route is
// served through (Istio checks the gateway workload's namespace, which Isthmus does not know;
// Gateways usually live beside their workload). Pure.

/** Istio's configuration root namespace (meshConfig.rootNamespace's default). */
export const ROOT_NAMESPACE = 'istio-system';

/** May a proxy in `clientNamespace` use an object in `ownNamespace` with this `exportTo`? */
export function isExportedTo(exportTo: readonly string[] | undefined, ownNamespace: string, clientNamespace: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === clientNamespace || (e === '.' && ownNamespace === clientNamespace));
}

/** `exportTo` as a diagnostic quotes it. */
export function describeExportTo(exportTo: readonly string[] | undefined): string {
  return `exportTo: ${(exportTo ?? []).join(', ')}`;
}
