// Answering one request on a known collection or object, once authentication, injected
// failures, authorization and routing have let it through: the verb decides the handler.

import type { ServerResponse } from 'node:http';
import type { KubeVerb } from './access-rules.js';
import { sendJson } from './http-io.js';
import { isJsonObject, objectKey, presentObject, type KindDefinition } from './kube-object.js';
import { notFoundStatus, successStatus, unsupportedMediaTypeStatus } from './kube-status.js';
import { listObjects } from './list-objects.js';
import { applyMergePatch } from './merge-patch.js';
import type { ObjectStore } from './object-store.js';
import { createObject, deleteObject, updateObject, type WriteOutcome } from './object-writes.js';
import { openWatch } from './open-watch.js';
import type { WatchStream } from './watch-stream.js';

export interface ResourceRequest {
  readonly def: KindDefinition;
  readonly verb: KubeVerb;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly contentType: string | undefined;
}

export interface ServeDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly bookmarkIntervalMs: number;
  readonly onWatchOpen: (stream: WatchStream) => void;
  readonly onWatchClose: (stream: WatchStream) => void;
}

/** The kube verb of an HTTP request; undefined where the real server answers 405. */
export function verbOf(method: string, hasName: boolean, subresource: string | undefined, watch: boolean): KubeVerb | undefined {
  if (subresource !== undefined) {
    if (method === 'GET') return 'get';
    if (method === 'PUT') return 'update';
    if (method === 'PATCH') return 'patch';
    return undefined;
  }
  if (method === 'GET') return watch ? 'watch' : hasName ? 'get' : 'list';
  if (method === 'POST') return hasName ? undefined : 'create';
  if (method === 'PUT') return hasName ? 'update' : undefined;
  if (method === 'PATCH') return hasName ? 'patch' : undefined;
  if (method === 'DELETE') return hasName ? 'delete' : undefined;
  return undefined;
}

export function serveResource(request: ResourceRequest, deps: ServeDeps, response: ServerResponse): void {
  const { def, verb, namespace, query, body } = request;
  const name = request.name ?? '';
  const statusOnly = request.subresource === 'status';
  const ctx = { store: deps.store, now: deps.now };
  const address = { def, namespace, name };
  const subject = { group: def.group, plural: def.plural, name };
  const reply = (outcome: WriteOutcome): void => {
    if (outcome.kind === 'rejected') return sendJson(response, outcome.status.code, outcome.status);
    // DELETE of a built-in kind answers a Success Status; CRDs answer the deleted object.
    if (verb === 'delete' && outcome.deleted && def.builtIn) {
      const { uid } = outcome.object.metadata;
      return sendJson(response, 200, successStatus({ name, ...(def.group ? { group: def.group } : {}), kind: def.plural, ...(uid ? { uid } : {}) }));
    }
    sendJson(response, outcome.code, presentObject(outcome.object, def));
  };
  switch (verb) {
    case 'list': {
      const listed = listObjects({ def, namespace, query, store: deps.store });
      return sendJson(response, listed.code, listed.body);
    }
    case 'watch': {
      const watchRequest = {
        def,
        namespace,
        name: request.name,
        query,
        store: deps.store,
        bookmarkIntervalMs: deps.bookmarkIntervalMs,
        onOpen: deps.onWatchOpen,
        onClose: deps.onWatchClose,
      };
      const invalid = openWatch(watchRequest, response);
      if (invalid !== undefined) sendJson(response, invalid.code, invalid);
      return;
    }
    case 'get': {
      const found = deps.store.get(def.resource, objectKey(def, namespace, name));
      if (found === undefined) return sendJson(response, 404, notFoundStatus(subject));
      return sendJson(response, 200, presentObject(found, def));
    }
    case 'create':
      return reply(createObject(ctx, { def, namespace }, body));
    case 'update':
      return reply(updateObject(ctx, address, body, { statusOnly }));
    case 'patch': {
      if (request.contentType !== 'application/merge-patch+json') {
        const message = `the fake API server only supports application/merge-patch+json patches, not ${request.contentType ?? 'none'}`;
        return sendJson(response, 415, unsupportedMediaTypeStatus(message));
      }
      const current = deps.store.get(def.resource, objectKey(def, namespace, name));
      if (current === undefined) return sendJson(response, 404, notFoundStatus(subject));
      return reply(updateObject(ctx, address, applyMergePatch(presentObject(current, def), body), { statusOnly }));
    }
    case 'delete': {
      // DeleteOptions.preconditions, as kubectl and client libraries send them.
      const preconditions = isJsonObject(body) && isJsonObject(body['preconditions']) ? body['preconditions'] : {};
      return reply(deleteObject(ctx, address, preconditions));
    }
  }
}
