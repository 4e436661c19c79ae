// Create, update and delete with the rules kube-apiserver's generic registry applies
// (apiserver pkg/registry/generic/registry/store.go and the per-kind strategies):
// server-owned metadata, optimistic concurrency on metadata.resourceVersion, the status
// subresource split, generation bumps on spec changes, no-op updates that write nothing,
// and finalizers that turn a DELETE into a deletionTimestamp.

import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  cloneObject,
  formatKubeTime,
  isKubeObject,
  objectKey,
  type KindDefinition,
  type KubeObject,
} from './kube-object.js';
import {
  alreadyExistsStatus,
  badRequestStatus,
  conflictStatus,
  internalErrorStatus,
  invalidStatus,
  MODIFIED_CONFLICT_MESSAGE,
  notFoundStatus,
  type KubeStatus,
} from './kube-status.js';
import type { ObjectStore } from './object-store.js';

export type WriteOutcome =
  | { readonly kind: 'written'; readonly code: number; readonly object: KubeObject; readonly deleted: boolean }
  | { readonly kind: 'rejected'; readonly status: KubeStatus };

export interface WriteContext {
  readonly store: ObjectStore;
  readonly now: () => Date;
}

export interface ObjectAddress {
  readonly def: KindDefinition;
  /** From the URL; undefined for cluster-scoped kinds. */
  readonly namespace: string | undefined;
}

// apimachinery's DNS-1123 subdomain, which most kinds require of metadata.name.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// names.SimpleNameGenerator's alphabet: no vowels, no confusable digits.
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function rejected(status: KubeStatus): WriteOutcome {
  return { kind: 'rejected', status };
}

function generateName(prefix: string): string {
  const bytes = randomBytes(5);
  let suffix = '';
  for (const byte of bytes) suffix += GENERATE_NAME_ALPHABET[byte % GENERATE_NAME_ALPHABET.length];
  return `${prefix}${suffix}`;
}

/** The parts of an object that make up its "spec" for metadata.generation. */
export function specOf(def: KindDefinition, object: KubeObject): unknown {
  const { metadata: _metadata, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  if (def.statusSubresource) delete rest['status'];
  return rest;
}

function checkTypeMeta(def: KindDefinition, body: unknown): KubeObject | KubeStatus {
  if (!isKubeObject(body)) {
    return badRequestStatus(`the object provided is unrecognized (must be of type ${def.kind}): missing metadata`);
  }
  // The decoder fills a missing apiVersion/kind from the endpoint but rejects a different one.
  if (body.apiVersion !== undefined && body.apiVersion !== def.apiVersion) {
    return badRequestStatus(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${def.apiVersion})`,
    );
  }
  if (body.kind !== undefined && body.kind !== def.kind) {
    return badRequestStatus(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
  }
  return body;
}

function isStatus(value: KubeObject | KubeStatus): value is KubeStatus {
  return value.kind === 'Status' && 'code' in value;
}

export function createObject(ctx: WriteContext, address: ObjectAddress, body: unknown): WriteOutcome {
  const { def } = address;
  const checked = checkTypeMeta(def, body);
  if (isStatus(checked)) return rejected(checked);
  const meta = checked.metadata;
  if (def.namespaced && meta.namespace !== undefined && meta.namespace !== address.namespace) {
    return rejected(badRequestStatus('the namespace of the provided object does not match the namespace sent on the request'));
  }
  const name = meta.name || (meta.generateName ? generateName(meta.generateName) : '');
  if (name === '') {
    return rejected(
      invalidStatus(def.kind, '', def.group, [
        { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
      ]),
    );
  }
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
    const message =
      `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric ` +
      `characters, '-' or '.', and must start and end with an alphanumeric character`;
    return rejected(invalidStatus(def.kind, name, def.group, [{ reason: 'FieldValueInvalid', message, field: 'metadata.name' }]));
  }
  if (meta.resourceVersion) return rejected(internalErrorStatus('resourceVersion should not be set on objects to be created'));
  const key = objectKey(def, address.namespace, name);
  if (ctx.store.get(def.resource, key)) {
    return rejected(alreadyExistsStatus({ group: def.group, plural: def.plural, name }));
  }
  const object: KubeObject = { ...cloneObject(checked), apiVersion: def.apiVersion, kind: def.kind };
  const { deletionTimestamp: _deletion, resourceVersion: _rv, ...userMeta } = object.metadata;
  object.metadata = {
    ...userMeta,
    name,
    ...(def.namespaced ? { namespace: address.namespace } : {}),
    uid: randomUUID(),
    generation: 1,
    creationTimestamp: formatKubeTime(ctx.now()),
  };
  if (!def.namespaced) delete object.metadata.namespace;
  // Strategies reset status on create when status is its own subresource.
  if (def.statusSubresource) delete object['status'];
  const event = ctx.store.write(def.resource, key, object);
  return { kind: 'written', code: 201, object: event.object, deleted: false };
}

export interface UpdateOptions {
  /** PUT to `{name}/status`: only `.status` is taken from the body. */
  readonly statusOnly: boolean;
}

export function updateObject(
  ctx: WriteContext,
  address: ObjectAddress & { readonly name: string },
  body: unknown,
  options: UpdateOptions,
): WriteOutcome {
  const { def, name } = address;
  const subject = { group: def.group, plural: def.plural, name };
  const checked = checkTypeMeta(def, body);
  if (isStatus(checked)) return rejected(checked);
  const meta = checked.metadata;
  if (meta.name !== name) {
    return rejected(badRequestStatus(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`));
  }
  if (def.namespaced && meta.namespace && meta.namespace !== address.namespace) {
    return rejected(
      badRequestStatus(`the namespace of the object (${meta.namespace}) does not match the namespace on the URL (${address.namespace ?? ''})`),
    );
  }
  const key = objectKey(def, address.namespace, name);
  const stored = ctx.store.get(def.resource, key);
  // Generic registry: AllowCreateOnUpdate is false for every kind the gateway touches.
  if (stored === undefined) return rejected(notFoundStatus(subject));
  if (meta.uid && meta.uid !== stored.metadata.uid) {
    const why = `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${stored.metadata.uid ?? ''}`;
    return rejected(conflictStatus(subject, why));
  }
  if (meta.resourceVersion && meta.resourceVersion !== stored.metadata.resourceVersion) {
    return rejected(conflictStatus(subject, MODIFIED_CONFLICT_MESSAGE));
  }
  let next: KubeObject;
  if (options.statusOnly) {
    // Status strategies keep everything from the stored object but .status.
    next = cloneObject(stored);
    if (checked['status'] === undefined) delete next['status'];
    else next['status'] = cloneObject(checked['status']);
  } else {
    next = { ...cloneObject(checked), apiVersion: def.apiVersion, kind: def.kind };
    next.metadata = {
      ...next.metadata,
      uid: stored.metadata.uid,
      creationTimestamp: stored.metadata.creationTimestamp,
      generation: stored.metadata.generation,
      resourceVersion: stored.metadata.resourceVersion,
    };
    if (stored.metadata.deletionTimestamp) next.metadata.deletionTimestamp = stored.metadata.deletionTimestamp;
    else delete next.metadata.deletionTimestamp;
    if (def.namespaced) next.metadata.namespace = address.namespace;
    if (def.statusSubresource) {
      if (stored['status'] === undefined) delete next['status'];
      else next['status'] = stored['status'];
    }
    if (!isDeepStrictEqual(specOf(def, stored), specOf(def, next))) {
      next.metadata.generation = (stored.metadata.generation ?? 0) + 1;
    }
  }
  return commitUpdate(ctx, def, key, stored, next);
}

/** Writes `next` over `stored`, unless nothing changed: etcd3's GuaranteedUpdate skips no-ops. */
export function commitUpdate(
  ctx: WriteContext,
  def: KindDefinition,
  key: string,
  stored: KubeObject,
  next: KubeObject,
): WriteOutcome {
  // An update that empties the finalizers of an object being deleted completes the deletion
  // instead of writing (store.go shouldDeleteDuringUpdate): a single DELETED event.
  if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
    const event = ctx.store.delete(def.resource, key);
    return { kind: 'written', code: 200, object: event?.object ?? next, deleted: true };
  }
  if (isDeepStrictEqual(stored, next)) return { kind: 'written', code: 200, object: stored, deleted: false };
  const event = ctx.store.write(def.resource, key, next);
  return { kind: 'written', code: 200, object: event.object, deleted: false };
}

export function deleteObject(
  ctx: WriteContext,
  address: ObjectAddress & { readonly name: string },
  preconditions: { readonly uid?: unknown; readonly resourceVersion?: unknown },
): WriteOutcome {
  const { def, name } = address;
  const subject = { group: def.group, plural: def.plural, name };
  const key = objectKey(def, address.namespace, name);
  const stored = ctx.store.get(def.resource, key);
  if (stored === undefined) return rejected(notFoundStatus(subject));
  if (typeof preconditions.uid === 'string' && preconditions.uid !== stored.metadata.uid) {
    const why = `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${stored.metadata.uid ?? ''}`;
    return rejected(conflictStatus(subject, why));
  }
  const wantedRv = preconditions.resourceVersion;
  if (typeof wantedRv === 'string' && wantedRv !== stored.metadata.resourceVersion) {
    const why =
      `Precondition failed: ResourceVersion in precondition: ${wantedRv}, ` +
      `ResourceVersion in object meta: ${stored.metadata.resourceVersion ?? ''}`;
    return rejected(conflictStatus(subject, why));
  }
  if ((stored.metadata.finalizers ?? []).length > 0) {
    // Finalizers hold the object: it only gains a deletionTimestamp (a MODIFIED event).
    if (stored.metadata.deletionTimestamp) return { kind: 'written', code: 200, object: stored, deleted: false };
    const next = cloneObject(stored);
    next.metadata.deletionTimestamp = formatKubeTime(ctx.now());
    next.metadata['deletionGracePeriodSeconds'] = 0;
    const event = ctx.store.write(def.resource, key, next);
    return { kind: 'written', code: 200, object: event.object, deleted: false };
  }
  const event = ctx.store.delete(def.resource, key);
  return { kind: 'written', code: 200, object: event?.object ?? stored, deleted: true };
}

/**
 * A write by "someone else" (FakeKubeApi.put): no preconditions and no status split, but the
 * same server-owned metadata, generation rule and no-op detection as an API write.
 */
export function upsertObject(ctx: WriteContext, address: ObjectAddress, object: KubeObject): KubeObject {
  const { def } = address;
  const name = object.metadata.name ?? '';
  const key = objectKey(def, address.namespace, name);
  const stored = ctx.store.get(def.resource, key);
  const next: KubeObject = { ...cloneObject(object), apiVersion: def.apiVersion, kind: def.kind };
  next.metadata = { ...next.metadata, ...(address.namespace === undefined ? {} : { namespace: address.namespace }) };
  if (stored === undefined) {
    next.metadata.uid ??= randomUUID();
    next.metadata.generation ??= 1;
    next.metadata.creationTimestamp ??= formatKubeTime(ctx.now());
    delete next.metadata.resourceVersion;
    return ctx.store.write(def.resource, key, next).object;
  }
  next.metadata.uid = stored.metadata.uid;
  next.metadata.creationTimestamp = stored.metadata.creationTimestamp;
  next.metadata.resourceVersion = stored.metadata.resourceVersion;
  const specChanged = !isDeepStrictEqual(specOf(def, stored), specOf(def, next));
  next.metadata.generation = (stored.metadata.generation ?? 0) + (specChanged ? 1 : 0);
  const outcome = commitUpdate(ctx, def, key, stored, next);
  return outcome.kind === 'written' ? outcome.object : stored;
}
