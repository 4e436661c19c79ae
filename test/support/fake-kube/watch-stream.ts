// One open watch: a chunked `application/json` response carrying one JSON event per line,
// as kube-apiserver streams them. Events are filtered the way the watch cache filters them
// (cacher.go convertToWatchEvent): an object that starts matching the selector arrives as
// ADDED, one that stops matching as DELETED with its previous content and the new revision.

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { cloneObject, presentObject, type KindDefinition, type KubeObject } from './kube-object.js';
import type { KubeStatus } from './kube-status.js';
import type { StoreEvent } from './object-store.js';
import { matchesFilter, type ObjectFilter } from './selectors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchStreamOptions {
  readonly def: KindDefinition;
  /** Only objects in this namespace; undefined for all namespaces. */
  readonly namespace: string | undefined;
  readonly filter: ObjectFilter;
  readonly allowBookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  /** From `timeoutSeconds`: end the stream cleanly after this long. */
  readonly timeoutMs: number | undefined;
  /** The latest revision, which a bookmark reports. */
  readonly currentRv: () => number;
  readonly onClose: () => void;
}

export class WatchStream {
  readonly #response: ServerResponse;
  readonly #options: WatchStreamOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(response: ServerResponse, options: WatchStreamOptions) {
    this.#response = response;
    this.#options = options;
    response.on('close', () => this.#cleanUp());
  }

  get resource(): string {
    return this.#options.def.resource;
  }

  /** Sends the 200 and headers at once, as the real server does before any event. */
  open(): void {
    // No Content-Length, so node frames the body with Transfer-Encoding: chunked.
    this.#response.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
    });
    this.#response.flushHeaders();
    if (this.#options.allowBookmarks) {
      const interval = setInterval(() => this.sendBookmark(), this.#options.bookmarkIntervalMs);
      this.#timers.push(interval);
    }
    const { timeoutMs } = this.#options;
    if (timeoutMs !== undefined) {
      const timeout = setTimeout(() => {
        // The watch cache sends a last bookmark just before a timed-out watch closes.
        if (this.#options.allowBookmarks) this.sendBookmark();
        this.end();
      }, timeoutMs);
      this.#timers.push(timeout);
    }
  }

  /** A synthetic ADDED for an object that exists when the watch starts. */
  sendInitial(object: KubeObject): void {
    if (this.#inScope(object) && matchesFilter(this.#options.filter, object)) this.#send('ADDED', object);
  }

  deliver(event: StoreEvent): void {
    if (event.resource !== this.resource || !this.#inScope(event.object)) return;
    const { filter } = this.#options;
    const current = event.type !== 'DELETED' && matchesFilter(filter, event.object);
    const previous = event.previous !== undefined && matchesFilter(filter, event.previous);
    if (current && !previous) this.#send('ADDED', event.object);
    else if (current && previous) this.#send('MODIFIED', event.object);
    else if (!current && previous && event.previous !== undefined) {
      const gone = cloneObject(event.previous);
      gone.metadata.resourceVersion = String(event.rv);
      this.#send('DELETED', gone);
    }
  }

  sendBookmark(annotations?: Record<string, string>): void {
    if (!this.#options.allowBookmarks) return;
    const { def } = this.#options;
    const metadata = {
      resourceVersion: String(this.#options.currentRv()),
      ...(annotations ? { annotations } : {}),
    };
    this.#write({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: def.apiVersion, metadata } });
  }

  /** An ERROR event, then a clean end: how the real server reports a watch it cannot serve. */
  fail(status: KubeStatus): void {
    this.#write({ type: 'ERROR', object: status });
    this.end();
  }

  /** Ends the stream with the chunked terminator, as a server-side timeout does. */
  end(): void {
    if (this.#closed) return;
    this.#cleanUp();
    this.#response.end();
  }

  /** Drops the connection mid-stream: no terminating chunk, the client sees a broken body. */
  destroy(): void {
    this.#cleanUp();
    this.#response.socket?.destroy();
    this.#response.destroy();
  }

  #inScope(object: KubeObject): boolean {
    const { namespace } = this.#options;
    return namespace === undefined || object.metadata.namespace === namespace;
  }

  #send(type: WatchEventType, object: KubeObject): void {
    this.#write({ type, object: presentObject(object, this.#options.def) });
  }

  #write(event: { type: WatchEventType; object: unknown }): void {
    if (this.#closed) return;
    this.#response.write(`${JSON.stringify(event)}\n`);
  }

  #cleanUp(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.length = 0;
    this.#options.onClose();
  }
}
