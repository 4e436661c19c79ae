// The fake's etcd: every object of every resource, one global revision counter, and a
// bounded history of changes. The history serves two things a real server serves from etcd
// and its watch cache: watches that resume from a resourceVersion, and paginated lists that
// must stay at the snapshot of their first page. Anything older than the compaction point is
// gone, and asking for it is the 410 Expired a real cluster answers after etcd compaction.

import { cloneObject, type KubeObject } from './kube-object.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly rv: number;
  readonly resource: string;
  readonly key: string;
  readonly type: StoreEventType;
  /** The object after the change; for DELETED, its last state stamped with the deletion rv. */
  readonly object: KubeObject;
  /** The object before the change, if it existed. */
  readonly previous: KubeObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

export class ObjectStore {
  #rv = 0;
  #compactedRv = 0;
  #history: StoreEvent[] = [];
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #listeners = new Set<StoreListener>();
  readonly #maxHistory: number;

  constructor(maxHistory: number) {
    this.#maxHistory = maxHistory;
  }

  /** The latest revision: what a list without resourceVersion reports. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Every event after this revision is still known; a resume from before it is too old. */
  get compactedResourceVersion(): number {
    return this.#compactedRv;
  }

  get(resource: string, key: string): KubeObject | undefined {
    const found = this.#objects.get(resource)?.get(key);
    return found === undefined ? undefined : cloneObject(found);
  }

  /** Objects of `resource` as of revision `rv` (default: now), in key order; undefined if compacted. */
  list(resource: string, rv: number = this.#rv): Array<{ key: string; object: KubeObject }> | undefined {
    if (rv < this.#compactedRv) return undefined;
    const state = new Map(this.#objects.get(resource) ?? []);
    // Walk back from now to `rv`, undoing each change to this resource.
    for (let index = this.#history.length - 1; index >= 0; index -= 1) {
      const event = this.#history[index];
      if (event === undefined || event.rv <= rv) break;
      if (event.resource !== resource) continue;
      if (event.previous === undefined) state.delete(event.key);
      else state.set(event.key, event.previous);
    }
    return [...state.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, object]) => ({ key, object: cloneObject(object) }));
  }

  /** Changes to `resource` after revision `rv`, oldest first; undefined if compacted. */
  eventsSince(resource: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.#compactedRv) return undefined;
    return this.#history.filter((event) => event.rv > rv && event.resource === resource);
  }

  /** Creates or replaces; stamps the new revision into metadata.resourceVersion. */
  write(resource: string, key: string, next: KubeObject): StoreEvent {
    const objects = this.#objectsOf(resource);
    const previous = objects.get(key);
    const rv = this.#rv + 1;
    const object = cloneObject(next);
    object.metadata.resourceVersion = String(rv);
    objects.set(key, object);
    return this.#record({ rv, resource, key, type: previous ? 'MODIFIED' : 'ADDED', object, previous });
  }

  delete(resource: string, key: string): StoreEvent | undefined {
    const objects = this.#objects.get(resource);
    const previous = objects?.get(key);
    if (objects === undefined || previous === undefined) return undefined;
    objects.delete(key);
    const rv = this.#rv + 1;
    const object = cloneObject(previous);
    object.metadata.resourceVersion = String(rv);
    return this.#record({ rv, resource, key, type: 'DELETED', object, previous });
  }

  /** Forget all history: every revision before now becomes too old to resume from. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#history = [];
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #objectsOf(resource: string): Map<string, KubeObject> {
    let objects = this.#objects.get(resource);
    if (objects === undefined) {
      objects = new Map();
      this.#objects.set(resource, objects);
    }
    return objects;
  }

  #record(event: StoreEvent): StoreEvent {
    this.#rv = event.rv;
    this.#history.push(event);
    // Like the watch cache's fixed capacity: dropping the oldest event moves the floor.
    while (this.#history.length > this.#maxHistory) {
      const dropped = this.#history.shift();
      if (dropped !== undefined) this.#compactedRv = dropped.rv;
    }
    for (const listener of this.#listeners) listener(event);
    return event;
  }
}
