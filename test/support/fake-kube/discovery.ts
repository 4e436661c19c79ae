// The discovery documents (/api, /apis, /api/v1, /apis/{group}/{version}, /version) for the
// kinds a test defined, so a client that checks "is this CRD installed?" through discovery
// gets the same answer as one that lists and meets a 404.

import type { KindDefinition } from './kube-object.js';

const OBJECT_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export function coreVersionsDocument(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function groupListDocument(defs: readonly KindDefinition[]): unknown {
  const versionsByGroup = new Map<string, string[]>();
  for (const def of defs) {
    if (def.group === '') continue;
    const versions = versionsByGroup.get(def.group) ?? [];
    if (!versions.includes(def.version)) versions.push(def.version);
    versionsByGroup.set(def.group, versions);
  }
  const groups = [...versionsByGroup.entries()].map(([name, versions]) => {
    const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { name, versions: entries, preferredVersion: entries[0] };
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** undefined when nothing is served at that group/version, which the server answers with 404. */
export function resourceListDocument(defs: readonly KindDefinition[], group: string, version: string): unknown {
  const served = defs.filter((def) => def.group === group && def.version === version);
  if (served.length === 0) return undefined;
  const resources = served.flatMap((def) => {
    const main = {
      name: def.plural,
      singularName: def.kind.toLowerCase(),
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: OBJECT_VERBS,
    };
    const status = { name: `${def.plural}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] };
    return def.statusSubresource ? [main, status] : [main];
  });
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

export const VERSION_DOCUMENT = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-isthmus-fake',
  platform: 'linux/amd64',
};
