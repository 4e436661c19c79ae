// Starting a WATCH the way kube-apiserver's watch cache starts one: with no resourceVersion
// (or "0") it first replays the current objects as synthetic ADDED events; with N it replays
// every change after N from history, or, if N is older than the compaction point, sends one
// ERROR event carrying a 410 Expired Status and ends the stream (HTTP status stays 200).

import type { ServerResponse } from 'node:http';
import type { KindDefinition } from './kube-object.js';
import { badRequestStatus, expiredStatus, tooLargeResourceVersionStatus, type KubeStatus } from './kube-status.js';
import { isStatusBody, parseFilter, parseResourceVersion } from './list-objects.js';
import type { ObjectStore } from './object-store.js';
import { WatchStream } from './watch-stream.js';

export interface WatchRequest {
  readonly def: KindDefinition;
  readonly namespace: string | undefined;
  /** Set when the watch is on `/{plural}/{name}`. */
  readonly name: string | undefined;
  readonly query: URLSearchParams;
  readonly store: ObjectStore;
  readonly bookmarkIntervalMs: number;
  readonly onOpen: (stream: WatchStream) => void;
  readonly onClose: (stream: WatchStream) => void;
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** Streams on `response`, or returns the Status to answer instead when the request is invalid. */
export function openWatch(request: WatchRequest, response: ServerResponse): KubeStatus | undefined {
  const { def, query, store } = request;
  const filter = parseFilter(query, request.name);
  if (isStatusBody(filter)) return filter;
  const rvText = query.get('resourceVersion') ?? '';
  const requested = rvText === '' ? 0 : parseResourceVersion(rvText);
  if (requested === undefined) return badRequestStatus(`resourceVersion: Invalid value: "${rvText}": must be a decimal integer`);
  // timeoutSeconds is an int64 in ListOptions; a fraction does not decode on a real server.
  const timeoutText = query.get('timeoutSeconds');
  const timeoutSeconds = timeoutText === null ? undefined : parseResourceVersion(timeoutText);
  if (timeoutText !== null && timeoutSeconds === undefined) {
    return badRequestStatus(`timeoutSeconds: Invalid value: "${timeoutText}": must be a non-negative integer`);
  }
  const allowBookmarks = isTrue(query.get('allowWatchBookmarks'));
  const sendInitialEvents = isTrue(query.get('sendInitialEvents'));
  const stream: WatchStream = new WatchStream(response, {
    def,
    namespace: request.namespace,
    filter,
    allowBookmarks,
    bookmarkIntervalMs: request.bookmarkIntervalMs,
    timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
    currentRv: () => store.resourceVersion,
    onClose: () => request.onClose(stream),
  });
  // Registration, replay and the first live event happen in one tick: nothing can interleave.
  request.onOpen(stream);
  stream.open();
  const current = store.resourceVersion;
  if (sendInitialEvents || requested === 0) {
    for (const { object } of store.list(def.resource) ?? []) stream.sendInitial(object);
    // WatchList (sendInitialEvents=true): a bookmark marks the end of the initial state.
    if (sendInitialEvents) stream.sendBookmark({ 'k8s.io/initial-events-end': 'true' });
    return undefined;
  }
  if (requested > current) {
    stream.fail(tooLargeResourceVersionStatus(requested, current));
    return undefined;
  }
  const events = store.eventsSince(def.resource, requested);
  if (events === undefined) {
    const floor = store.compactedResourceVersion;
    stream.fail(expiredStatus(`too old resource version: ${requested} (${floor})`));
    return undefined;
  }
  for (const event of events) stream.deliver(event);
  return undefined;
}
