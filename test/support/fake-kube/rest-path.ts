// Parsing a kube-apiserver URL path into what it addresses. The layout is the one in the
// Kubernetes API concepts doc ("Resource URIs"):
//   /api/v1[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
//   /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
// plus the discovery documents a client may read first.

export type RestPath =
  | {
      readonly kind: 'resource';
      readonly group: string;
      readonly version: string;
      readonly plural: string;
      readonly namespace: string | undefined;
      readonly name: string | undefined;
      readonly subresource: string | undefined;
    }
  | { readonly kind: 'groupVersion'; readonly group: string; readonly version: string }
  | { readonly kind: 'coreVersions' }
  | { readonly kind: 'groups' }
  | { readonly kind: 'version' }
  | { readonly kind: 'health' };

// Subresources of a Namespace, so `/api/v1/namespaces/{name}/status` is not read as a
// collection called "status" inside namespace {name}.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRestPath(pathname: string): RestPath | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').filter((segment) => segment !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [root, ...rest] = segments;
  if (rest.length === 0) {
    if (root === 'api') return { kind: 'coreVersions' };
    if (root === 'apis') return { kind: 'groups' };
    if (root === 'version') return { kind: 'version' };
    if (root === 'healthz' || root === 'readyz' || root === 'livez') return { kind: 'health' };
    return undefined;
  }
  let group: string;
  let version: string;
  let resourceSegments: string[];
  if (root === 'api') {
    group = '';
    version = rest[0] ?? '';
    resourceSegments = rest.slice(1);
  } else if (root === 'apis' && rest.length >= 2) {
    group = rest[0] ?? '';
    version = rest[1] ?? '';
    resourceSegments = rest.slice(2);
  } else {
    return undefined;
  }
  if (resourceSegments.length === 0) return { kind: 'groupVersion', group, version };
  const [first, second, third, fourth, fifth] = resourceSegments;
  const isNamespaceObjectPath =
    group === '' && resourceSegments.length === 3 && NAMESPACE_SUBRESOURCES.has(third ?? '');
  if (first === 'namespaces' && resourceSegments.length >= 3 && !isNamespaceObjectPath) {
    if (resourceSegments.length > 5 || third === undefined) return undefined;
    return { kind: 'resource', group, version, plural: third, namespace: second, name: fourth, subresource: fifth };
  }
  if (resourceSegments.length > 3 || first === undefined) return undefined;
  return { kind: 'resource', group, version, plural: first, namespace: undefined, name: second, subresource: third };
}
