// LIST with the semantics of the Kubernetes API concepts doc ("Resource versions",
// "Retrieving large results sets in chunks"): selectors, limit/continue pagination at the
// snapshot revision of the first page, resourceVersion / resourceVersionMatch, and 410
// Expired once that snapshot has been compacted away.

import { decodeContinue, encodeContinue, encodeInconsistentContinue } from './continue-token.js';
import { presentListItem, type KindDefinition, type KubeObject } from './kube-object.js';
import { badRequestStatus, expiredStatus, tooLargeResourceVersionStatus, type KubeStatus } from './kube-status.js';
import type { ObjectStore } from './object-store.js';
import { matchesFilter, parseFieldSelector, parseLabelSelector, type ObjectFilter } from './selectors.js';

export interface ListRequest {
  readonly def: KindDefinition;
  readonly namespace: string | undefined;
  readonly query: URLSearchParams;
  readonly store: ObjectStore;
}

export interface ListReply {
  readonly code: number;
  readonly body: unknown;
}

// The messages etcd3's store uses (apiserver pkg/storage/etcd3/store.go).
const CONTINUE_EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';
const LIST_EXPIRED_MESSAGE = 'The resourceVersion for the provided list is too old.';

export function parseResourceVersion(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

export function parseFilter(query: URLSearchParams, name?: string): ObjectFilter | KubeStatus {
  const labels = parseLabelSelector(query.get('labelSelector'));
  if (labels.kind === 'error') return badRequestStatus(labels.message);
  const fields = parseFieldSelector(query.get('fieldSelector'));
  if (fields.kind === 'error') return badRequestStatus(fields.message);
  // A request on /{plural}/{name} is the collection narrowed to that name.
  const byName = name === undefined ? [] : [{ field: 'metadata.name' as const, negated: false, value: name }];
  return { labels: labels.value, fields: [...fields.value, ...byName] };
}

export function isStatusBody(value: unknown): value is KubeStatus {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

function fail(status: KubeStatus): ListReply {
  return { code: status.code, body: status };
}

/** Which snapshot to read and from which key, or the error that a real server answers. */
function resolveSnapshot(request: ListRequest, limit: number): { rv: number; start: string } | KubeStatus {
  const { query, store } = request;
  const current = store.resourceVersion;
  const token = query.get('continue');
  const rvText = query.get('resourceVersion') ?? '';
  const match = query.get('resourceVersionMatch') ?? '';
  if (token) {
    if (rvText !== '' && rvText !== '0') {
      return badRequestStatus('specifying resource version is not allowed when using continue');
    }
    const position = decodeContinue(token);
    if (position === undefined) return badRequestStatus('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    if (position.rv === -1) return { rv: current, start: position.start };
    if (position.rv < store.compactedResourceVersion) {
      return expiredStatus(CONTINUE_EXPIRED_MESSAGE, encodeInconsistentContinue(position));
    }
    return { rv: position.rv, start: position.start };
  }
  if (match !== '' && rvText === '') {
    return badRequestStatus('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  }
  if (rvText === '' || rvText === '0') return { rv: current, start: '' };
  const requested = parseResourceVersion(rvText);
  if (requested === undefined) return badRequestStatus(`resourceVersion: Invalid value: "${rvText}": must be a decimal integer`);
  if (requested > current) return tooLargeResourceVersionStatus(requested, current);
  // Legacy rule: a non-zero resourceVersion with a limit and no match means Exact.
  const exact = match === 'Exact' || (match === '' && limit > 0);
  if (!exact) return { rv: current, start: '' };
  if (requested < store.compactedResourceVersion) return expiredStatus(LIST_EXPIRED_MESSAGE);
  return { rv: requested, start: '' };
}

export function listObjects(request: ListRequest): ListReply {
  const { def, namespace, query, store } = request;
  const filter = parseFilter(query);
  if (isStatusBody(filter)) return fail(filter);
  const limitText = query.get('limit') ?? '';
  const limit = limitText === '' ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) return fail(badRequestStatus(`limit: Invalid value: "${limitText}"`));
  const snapshot = resolveSnapshot(request, limit);
  if (isStatusBody(snapshot)) return fail(snapshot);
  const entries = store.list(def.resource, snapshot.rv);
  if (entries === undefined) return fail(expiredStatus(LIST_EXPIRED_MESSAGE));
  const prefix = namespace === undefined ? '' : `${namespace}/`;
  const matching = entries.filter(
    ({ key, object }) => key.startsWith(prefix) && key >= snapshot.start && matchesFilter(filter, object),
  );
  const page: Array<{ key: string; object: KubeObject }> = limit > 0 ? matching.slice(0, limit) : matching;
  const remaining = matching.length - page.length;
  const last = page[page.length - 1];
  const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
  if (remaining > 0 && last !== undefined) {
    metadata['continue'] = encodeContinue(snapshot.rv, last.key);
    // Only an unfiltered list can know how many items remain.
    if (filter.labels.length === 0 && filter.fields.length === 0) metadata['remainingItemCount'] = remaining;
  }
  return {
    code: 200,
    body: {
      kind: `${def.kind}List`,
      apiVersion: def.apiVersion,
      metadata,
      items: page.map(({ object }) => presentListItem(object, def)),
    },
  };
}
