// An in-process fake of kube-apiserver's list/watch/get/create/update/delete protocol over
// plain HTTP on 127.0.0.1, for tests of the gateway's Kubernetes source.
//
// Why a fake: no real API server (nor kind, k3s or envtest binaries) runs on these machines,
// so tests cannot talk to a cluster. This fake is therefore held to the real server's wire
// behaviour where a client can observe it: one global resourceVersion, watch replay from a
// resourceVersion and 410 Expired (as an ERROR event) once it is compacted, bookmarks,
// selectors on lists and watches, limit/continue pagination, optimistic concurrency with
// 409 Conflict, the status subresource, and metav1.Status bodies worded like the real ones.
// test/support/fake-kube-api.test.ts drives it with @kubernetes/client-node's Watch and
// ListWatch and with node:http. Not modelled: admission, validation against schemas,
// version conversion (objects are relabelled, not converted), strategic merge / JSON patch /
// server-side apply, managedFields, namespace lifecycle, garbage collection.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AccessRules, type FailureMatch, type InjectedFailure, type KubeVerb } from './fake-kube/access-rules.js';
import { coreVersionsDocument, groupListDocument, resourceListDocument, VERSION_DOCUMENT } from './fake-kube/discovery.js';
import { decodeBody, MAX_REQUEST_BODY_BYTES, readBody, sendJson, sendText } from './fake-kube/http-io.js';
import { objectKey, presentObject, resolveKind, type KindDefinition, type KindSpec, type KubeObject } from './fake-kube/kube-object.js';
import {
  failureStatus,
  forbiddenStatus,
  methodNotAllowedStatus,
  notFoundRouteStatus,
  unauthorizedStatus,
} from './fake-kube/kube-status.js';
import { renderKubeconfig } from './fake-kube/kubeconfig.js';
import { ObjectStore } from './fake-kube/object-store.js';
import { upsertObject } from './fake-kube/object-writes.js';
import { parseRestPath } from './fake-kube/rest-path.js';
import { serveResource, verbOf } from './fake-kube/serve-resource.js';
import type { WatchStream } from './fake-kube/watch-stream.js';

export type { FailureMatch, InjectedFailure, KubeVerb } from './fake-kube/access-rules.js';
export type { KindSpec, KubeObject } from './fake-kube/kube-object.js';
export type { KubeStatus } from './fake-kube/kube-status.js';
export { CORE_KINDS, GATEWAY_API_KINDS, INGRESS_KINDS } from './fake-kube/standard-kinds.js';

export interface FakeKubeApiOptions {
  /** When set, every request needs `Authorization: Bearer <token>` or gets 401. */
  readonly token?: string;
  /** The user named in 403 messages. */
  readonly user?: string;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK (a real server: ~1 min). */
  readonly bookmarkIntervalMs?: number;
  /** Events kept for watch resume and paginated lists; older ones are compacted away. */
  readonly maxHistory?: number;
  /** Clock for creationTimestamp and deletionTimestamp. */
  readonly now?: () => Date;
  readonly kinds?: readonly KindSpec[];
}

export interface WriteRecord {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly userAgent: string | undefined;
  readonly authorization: string | undefined;
  readonly at: Date;
  /** The HTTP status answered. */
  readonly status: number;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly verb: KubeVerb | undefined;
  readonly status: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DEFAULT_USER = 'system:serviceaccount:isthmus:isthmus';

export class FakeKubeApi {
  /** Every POST/PUT/PATCH/DELETE received, in order, including rejected ones. */
  readonly writes: WriteRecord[] = [];
  /** Every request received, in order. */
  readonly requests: RequestRecord[] = [];

  readonly #options: FakeKubeApiOptions;
  readonly #store: ObjectStore;
  readonly #kinds = new Map<string, KindDefinition>();
  readonly #watches = new Set<WatchStream>();
  readonly #watchWaiters = new Set<() => void>();
  readonly #access = new AccessRules();
  #server: Server | undefined;
  #url: string | undefined;

  constructor(options: FakeKubeApiOptions = {}) {
    this.#options = options;
    this.#store = new ObjectStore(options.maxHistory ?? 1000);
    this.#store.subscribe((event) => {
      for (const watch of this.#watches) watch.deliver(event);
    });
    for (const spec of options.kinds ?? []) this.defineKind(spec);
  }

  /** Makes a collection exist (as installing a CRD would). Unknown collections answer 404. */
  defineKind(spec: KindSpec): void {
    const def = resolveKind(spec);
    this.#kinds.set(`${def.group}|${def.version}|${def.plural}`, def);
    this.#kinds.set(`${def.apiVersion}|${def.kind}`, def);
  }

  async start(): Promise<{ url: string }> {
    if (this.#url !== undefined) return { url: this.#url };
    const server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!response.headersSent) sendJson(response, 500, failureStatus(500, 'InternalError', message));
        else response.destroy();
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return { url: this.#url };
  }

  get url(): string {
    if (this.#url === undefined) throw new Error('FakeKubeApi: start() first');
    return this.#url;
  }

  /** Destroys open watches and connections so the test process can exit. */
  async close(): Promise<void> {
    this.dropWatches();
    const server = this.#server;
    this.#server = undefined;
    this.#url = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  // ---- state, as seen by tests -------------------------------------------------------------

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.#store.resourceVersion);
  }

  /**
   * Creates or replaces an object directly (as another controller would), emitting the same
   * watch events as an API write. Server-owned metadata is filled in; .status is taken as
   * given; metadata.namespace defaults to "default" for namespaced kinds.
   */
  put(object: KubeObject): KubeObject {
    const def = this.#kindOf(object.apiVersion, object.kind);
    if (!object.metadata.name) throw new Error('FakeKubeApi.put: metadata.name is required');
    const namespace = def.namespaced ? (object.metadata.namespace ?? 'default') : undefined;
    const written = upsertObject({ store: this.#store, now: () => this.#now() }, { def, namespace }, object);
    return presentObject(written, def);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = this.#kindOf(apiVersion, kind);
    const found = this.#store.get(def.resource, objectKey(def, namespace, name));
    return found === undefined ? undefined : presentObject(found, def);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const def = this.#kindOf(apiVersion, kind);
    return (this.#store.list(def.resource) ?? [])
      .filter(({ object }) => namespace === undefined || object.metadata.namespace === namespace)
      .map(({ object }) => presentObject(object, def));
  }

  /** Deletes immediately (finalizers are ignored); false if there was nothing to delete. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const def = this.#kindOf(apiVersion, kind);
    return this.#store.delete(def.resource, objectKey(def, namespace, name)) !== undefined;
  }

  /** Makes every resourceVersion before now too old (410) for watches and continue tokens. */
  compact(): void {
    this.#store.compact();
  }

  // ---- watches -----------------------------------------------------------------------------

  get openWatches(): number {
    return this.#watches.size;
  }

  /** Resolves once at least `count` watches are open. */
  waitForWatches(count: number, timeoutMs = 2000): Promise<void> {
    if (this.#watches.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.#watches.size < count) return;
        clearTimeout(timer);
        this.#watchWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchWaiters.delete(check);
        reject(new Error(`FakeKubeApi: ${this.#watches.size} watches open, wanted ${count}`));
      }, timeoutMs);
      this.#watchWaiters.add(check);
    });
  }

  /** A BOOKMARK now on every watch that allowed them. */
  sendBookmarks(): void {
    for (const watch of this.#watches) watch.sendBookmark();
  }

  /** Destroys every watch connection mid-stream (no chunked terminator). Returns how many. */
  dropWatches(): number {
    const watches = [...this.#watches];
    for (const watch of watches) watch.destroy();
    return watches.length;
  }

  /** Ends every watch cleanly, as the server-side watch timeout does. Returns how many. */
  endWatches(): number {
    const watches = [...this.#watches];
    for (const watch of watches) watch.end();
    return watches.length;
  }

  // ---- failure injection -------------------------------------------------------------------

  /** 403 for `verbs` (default list and watch) on "plural", "plural.group" or ".../status". */
  forbid(resource: string, verbs: readonly KubeVerb[] = ['list', 'watch']): void {
    this.#access.forbid(resource, verbs);
  }

  /** Undoes every forbid() written with exactly this resource name. */
  allow(resource: string): void {
    this.#access.allow(resource);
  }

  /** The next `count` matching resource requests answer `failure` as a Status. */
  failNext(count: number, failure: InjectedFailure, match: FailureMatch = {}): void {
    this.#access.failNext(count, failure, match);
  }

  // ---- kubeconfig --------------------------------------------------------------------------

  kubeconfig(namespace = 'default'): string {
    return renderKubeconfig({ server: this.url, token: this.#options.token, namespace });
  }

  /** Writes kubeconfig() to `dir/kubeconfig.yaml` and returns that path. */
  writeKubeconfig(dir: string, namespace = 'default'): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'kubeconfig.yaml');
    writeFileSync(path, this.kubeconfig(namespace), { mode: 0o600 });
    return path;
  }

  // ---- request handling --------------------------------------------------------------------

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #kindOf(apiVersion: string | undefined, kind: string | undefined): KindDefinition {
    const def = this.#kinds.get(`${apiVersion ?? ''}|${kind ?? ''}`);
    if (def === undefined) throw new Error(`FakeKubeApi: no kind ${apiVersion ?? '?'} ${kind ?? '?'}; defineKind() it first`);
    return def;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const records: Array<{ status: number }> = [];
    try {
      await this.#dispatch(request, response, records);
    } finally {
      // Every reply (and a watch's 200) has its head written synchronously by now; an open
      // watch never emits 'finish', so its status is taken here.
      if (response.headersSent) for (const record of records) record.status = response.statusCode;
    }
  }

  async #dispatch(request: IncomingMessage, response: ServerResponse, records: Array<{ status: number }>): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const raw = WRITE_METHODS.has(method) ? await readBody(request, MAX_REQUEST_BODY_BYTES) : Buffer.alloc(0);
    const body = raw === 'tooLarge' ? undefined : decodeBody(raw);
    const path = parseRestPath(url.pathname);
    const watchParam = url.searchParams.get('watch');
    const isWatch = watchParam === 'true' || watchParam === '1';
    const verb = path?.kind === 'resource' ? verbOf(method, path.name !== undefined, path.subresource, isWatch) : undefined;
    const record = { method, path: url.pathname, query: url.search, verb, status: 0 };
    this.requests.push(record);
    records.push(record);
    if (WRITE_METHODS.has(method)) {
      const { 'user-agent': userAgent, authorization } = request.headers;
      const write = { method, path: url.pathname, query: url.search, body, userAgent, authorization, at: this.#now(), status: 0 };
      this.writes.push(write);
      records.push(write);
    }

    // The order of kube-apiserver's filter chain: authentication, then authorization, then
    // routing, so a forbidden request is 403 even for a kind that is not installed.
    const { token } = this.#options;
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      return sendJson(response, 401, unauthorizedStatus());
    }
    if (raw === 'tooLarge') return sendJson(response, 413, failureStatus(413, 'RequestEntityTooLarge', 'Request entity too large'));
    if (path === undefined) return sendJson(response, 404, notFoundRouteStatus());
    switch (path.kind) {
      case 'health':
        return sendText(response, 200, 'ok');
      case 'version':
        return sendJson(response, 200, VERSION_DOCUMENT);
      case 'coreVersions':
        return sendJson(response, 200, coreVersionsDocument(new URL(this.url).host));
      case 'groups':
        return sendJson(response, 200, groupListDocument(this.#definitions()));
      case 'groupVersion': {
        const document = resourceListDocument(this.#definitions(), path.group, path.version);
        return document === undefined ? sendJson(response, 404, notFoundRouteStatus()) : sendJson(response, 200, document);
      }
      case 'resource':
        break;
    }
    if (verb === undefined) return sendJson(response, 405, methodNotAllowedStatus());
    const injected = this.#access.takeFailure(verb, path.plural);
    if (injected !== undefined) return sendJson(response, injected.code, injected);
    if (this.#access.isForbidden(path.group, path.plural, path.subresource, verb)) {
      const status = forbiddenStatus({
        group: path.group,
        plural: path.plural,
        user: this.#options.user ?? DEFAULT_USER,
        verb,
        ...(path.name === undefined ? {} : { name: path.name }),
        ...(path.namespace === undefined ? {} : { namespace: path.namespace }),
        ...(path.subresource === undefined ? {} : { subresource: path.subresource }),
      });
      return sendJson(response, 403, status);
    }
    const def = this.#kinds.get(`${path.group}|${path.version}|${path.plural}`);
    const scopeOk = def !== undefined && (def.namespaced || path.namespace === undefined);
    const nameOk = def !== undefined && (!def.namespaced || path.name === undefined || path.namespace !== undefined);
    const subresourceOk = path.subresource === undefined || (path.subresource === 'status' && def?.statusSubresource === true);
    if (def === undefined || !scopeOk || !nameOk || !subresourceOk) return sendJson(response, 404, notFoundRouteStatus());
    // The all-namespaces path of a namespaced kind only serves list and watch.
    if (def.namespaced && path.namespace === undefined && verb !== 'list' && verb !== 'watch') {
      return sendJson(response, 405, methodNotAllowedStatus());
    }
    const contentType = request.headers['content-type']?.split(';')[0]?.trim();
    serveResource(
      { def, verb, namespace: path.namespace, name: path.name, subresource: path.subresource, query: url.searchParams, body, contentType },
      {
        store: this.#store,
        now: () => this.#now(),
        bookmarkIntervalMs: this.#options.bookmarkIntervalMs ?? 1000,
        onWatchOpen: (stream) => {
          this.#watches.add(stream);
          for (const waiter of [...this.#watchWaiters]) waiter();
        },
        onWatchClose: (stream) => this.#watches.delete(stream),
      },
      response,
    );
  }

  #definitions(): KindDefinition[] {
    return [...new Set(this.#kinds.values())];
  }
}
