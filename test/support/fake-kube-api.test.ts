// Drives FakeKubeApi with the clients the gateway uses: @kubernetes/client-node 1.x's
// KubeConfig, Watch and ListWatch (loaded from the kubeconfig the fake writes, over plain
// http) and node:http for lists, gets and writes. No real API server runs on these machines,
// so these tests are what hold the fake to the real server's protocol.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CoreV1Api,
  KubeConfig,
  ListWatch,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import {
  CORE_KINDS,
  FakeKubeApi,
  GATEWAY_API_KINDS,
  INGRESS_KINDS,
  type FakeKubeApiOptions,
  type KubeObject,
} from './fake-kube-api.js';

const TOKEN = 'fake-token-123';
const ALL_KINDS = [...CORE_KINDS, ...INGRESS_KINDS, ...GATEWAY_API_KINDS];

let scratch: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'fake-kube-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Harness {
  readonly api: FakeKubeApi;
  readonly kc: KubeConfig;
  readonly http: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<HttpReply>;
}

interface HttpReply {
  readonly status: number;
  readonly body: unknown;
}

/** `dig(body, 'metadata.resourceVersion')`: a value inside parsed JSON, or undefined. */
function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

function asObject(value: unknown): KubeObject {
  assert.ok(typeof value === 'object' && value !== null && 'metadata' in value, `not an object: ${JSON.stringify(value)}`);
  return value as KubeObject;
}

function itemNames(reply: HttpReply): string[] {
  const items = dig(reply.body, 'items');
  assert.ok(Array.isArray(items), `no items in ${JSON.stringify(reply.body)}`);
  return items.map((item: unknown) => asObject(item).metadata.name ?? '');
}

/** A started fake, a KubeConfig loaded from the file it wrote, and an authenticated http helper. */
async function withApi(options: FakeKubeApiOptions, run: (harness: Harness) => Promise<void>): Promise<void> {
  const api = new FakeKubeApi({ token: TOKEN, kinds: ALL_KINDS, ...options });
  const { url } = await api.start();
  const kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(mkdtempSync(join(scratch, 'kc-'))));
  const http = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpReply> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'user-agent': 'fake-kube-test/1.0',
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: raw === '' ? undefined : (JSON.parse(raw) as unknown) });
        });
      });
      req.on('error', reject);
      req.end(text);
    });
  try {
    await run({ api, kc, http });
  } finally {
    await api.close();
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function configMap(name: string, namespace: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { name } };
}

interface SeenEvent {
  readonly type: string;
  readonly object: KubeObject;
}

/** A raw client-node Watch collecting events; `ended` holds what `done` was called with. */
async function startWatch(kc: KubeConfig, path: string, query: Record<string, string | number | boolean>) {
  const events: SeenEvent[] = [];
  const state: { ended: boolean; error: unknown } = { ended: false, error: undefined };
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (error) => {
      state.ended = true;
      state.error = error;
    },
  );
  return { events, state, controller };
}

const names = (objects: readonly KubernetesObject[]): string[] => objects.map((object) => object.metadata?.name ?? '').sort();

const queryParam = (query: string, name: string): string | null => new URLSearchParams(query).get(name);

/** A list fetched with node:http, in the shape ListWatch wants from its list function. */
async function listOver(http: Harness['http'], path: string): Promise<KubernetesListObject<KubernetesObject>> {
  const reply = await http('GET', path);
  assert.equal(reply.status, 200);
  return reply.body as KubernetesListObject<KubernetesObject>;
}

describe('FakeKubeApi with @kubernetes/client-node and node:http', () => {
  test('kubeconfig + ListWatch: initial list and watch sync, then events after writes', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      api.put(configMap('a', 'default', { app: 'web' }));
      api.put(configMap('b', 'default'));
      api.put(configMap('elsewhere', 'other'));
      const core = kc.makeApiClient(CoreV1Api);
      const added: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      // The list goes through client-node's generated client, so its deserializer is checked too.
      const listWatch = new ListWatch<KubernetesObject>(
        '/api/v1/namespaces/default/configmaps',
        new Watch(kc),
        () => core.listNamespacedConfigMap({ namespace: 'default' }),
        false,
      );
      listWatch.on('add', (object) => added.push(object.metadata?.name ?? ''));
      listWatch.on('update', (object) => updated.push(object.metadata?.name ?? ''));
      listWatch.on('delete', (object) => deleted.push(object.metadata?.name ?? ''));
      listWatch.on('error', () => undefined);
      await listWatch.start();
      await api.waitForWatches(1);
      assert.deepEqual(names(listWatch.list()), ['a', 'b']);
      assert.equal(listWatch.latestResourceVersion(), '3');

      const created = await http('POST', '/api/v1/namespaces/default/configmaps', configMap('c', 'default'));
      assert.equal(created.status, 201);
      assert.equal(dig(created.body, 'metadata.resourceVersion'), '4');
      assert.equal(dig(created.body, 'metadata.generation'), 1);
      assert.match(String(dig(created.body, 'metadata.uid')), /^[0-9a-f-]{36}$/);
      const changed = { ...asObject(created.body), data: { name: 'c2' } };
      assert.equal((await http('PUT', '/api/v1/namespaces/default/configmaps/c', changed)).status, 200);
      assert.equal((await http('DELETE', '/api/v1/namespaces/default/configmaps/a')).status, 200);
      api.put(configMap('late', 'other'));

      await waitFor('the delete of a', () => deleted.includes('a'));
      assert.deepEqual(names(listWatch.list()), ['b', 'c']);
      assert.equal(dig(listWatch.get('c', 'default'), 'data.name'), 'c2');
      assert.deepEqual(added, ['a', 'b', 'c']);
      assert.deepEqual(updated, ['c']);
      assert.equal(listWatch.latestResourceVersion(), '6');
      // The write log tells who wrote what.
      assert.deepEqual(
        api.writes.map((write) => `${write.method} ${write.path} ${write.status}`),
        [
          'POST /api/v1/namespaces/default/configmaps 201',
          'PUT /api/v1/namespaces/default/configmaps/c 200',
          'DELETE /api/v1/namespaces/default/configmaps/a 200',
        ],
      );
      assert.equal(api.writes[0]?.userAgent, 'fake-kube-test/1.0');
      assert.equal(api.writes[0]?.authorization, `Bearer ${TOKEN}`);
      assert.equal(dig(api.writes[1]?.body, 'data.name'), 'c2');
      // client-node sent the kubeconfig's token on list and watch: without it they would be 401s.
      assert.ok(api.requests.some((entry) => entry.verb === 'watch' && entry.status === 200));
      assert.ok(api.requests.some((entry) => entry.verb === 'list' && entry.status === 200));
      await listWatch.stop();
    });
  });

  test('wire format: list items of built-in kinds lack apiVersion/kind, CRD items have them; watch objects always do', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      api.put(configMap('a', 'default'));
      api.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: {} });
      const builtIn = await http('GET', '/api/v1/configmaps');
      assert.equal(dig(builtIn.body, 'kind'), 'ConfigMapList');
      assert.equal(dig(builtIn.body, 'items.0.metadata.name'), 'a');
      assert.equal(dig(builtIn.body, 'items.0.kind'), undefined);
      const crd = await http('GET', '/apis/gateway.networking.k8s.io/v1/httproutes');
      assert.equal(dig(crd.body, 'kind'), 'HTTPRouteList');
      assert.equal(dig(crd.body, 'items.0.kind'), 'HTTPRoute');
      assert.equal(dig(crd.body, 'items.0.apiVersion'), 'gateway.networking.k8s.io/v1');
      const watch = await startWatch(kc, '/api/v1/configmaps', {});
      await waitFor('the synthetic ADDED', () => watch.events.length === 1);
      assert.equal(watch.events[0]?.type, 'ADDED');
      assert.equal(watch.events[0]?.object.kind, 'ConfigMap');
      assert.equal(watch.events[0]?.object.apiVersion, 'v1');
      watch.controller.abort();
    });
  });

  test('watch: resourceVersion=N replays history after N; unknown collection 404; missing token 401', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      api.put(configMap('a', 'default'));
      const rv = api.resourceVersion;
      api.put(configMap('b', 'default'));
      api.remove('v1', 'ConfigMap', 'default', 'a');
      const watch = await startWatch(kc, '/api/v1/namespaces/default/configmaps', { resourceVersion: rv });
      await waitFor('the replay', () => watch.events.length === 2);
      assert.deepEqual(
        watch.events.map((event) => `${event.type} ${event.object.metadata.name} ${event.object.metadata.resourceVersion}`),
        ['ADDED b 2', 'DELETED a 3'],
      );
      watch.controller.abort();

      const missing = await http('GET', '/apis/example.com/v1/widgets');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        details: {},
        code: 404,
      });
      const anonymous = await http('GET', '/api/v1/configmaps', undefined, { authorization: '' });
      assert.equal(anonymous.status, 401);
      assert.equal(dig(anonymous.body, 'reason'), 'Unauthorized');
    });
  });

  test('pagination: limit + continue stay on the first page snapshot; a compacted token is 410 Expired', async () => {
    await withApi({}, async ({ api, http }) => {
      for (const name of ['a', 'b', 'c']) api.put(configMap(name, 'default'));
      for (const name of ['d', 'e']) api.put(configMap(name, 'zeta'));
      const first = await http('GET', '/api/v1/configmaps?limit=2');
      assert.equal(first.status, 200);
      assert.deepEqual(itemNames(first), ['a', 'b']);
      assert.equal(dig(first.body, 'metadata.resourceVersion'), '5');
      assert.equal(dig(first.body, 'metadata.remainingItemCount'), 3);
      const firstToken = String(dig(first.body, 'metadata.continue'));

      // Changes after the first page do not leak into later pages.
      api.put(configMap('c0', 'default'));
      api.remove('v1', 'ConfigMap', 'zeta', 'e');
      const second = await http('GET', `/api/v1/configmaps?limit=2&continue=${encodeURIComponent(firstToken)}`);
      assert.deepEqual(itemNames(second), ['c', 'd']);
      assert.equal(dig(second.body, 'metadata.resourceVersion'), '5');
      const secondToken = String(dig(second.body, 'metadata.continue'));
      const third = await http('GET', `/api/v1/configmaps?limit=2&continue=${encodeURIComponent(secondToken)}`);
      assert.deepEqual(itemNames(third), ['e']);
      assert.equal(dig(third.body, 'metadata.continue'), undefined);

      const scoped = await http('GET', '/api/v1/namespaces/default/configmaps?limit=1');
      assert.deepEqual(itemNames(scoped), ['a']);

      api.compact();
      const expired = await http('GET', `/api/v1/configmaps?limit=2&continue=${encodeURIComponent(firstToken)}`);
      assert.equal(expired.status, 410);
      assert.equal(dig(expired.body, 'kind'), 'Status');
      assert.equal(dig(expired.body, 'reason'), 'Expired');
      assert.equal(dig(expired.body, 'code'), 410);
      assert.match(String(dig(expired.body, 'message')), /^The provided continue parameter is too old to display a consistent list result/);
      // The Status offers an inconsistent continuation, served at the latest revision.
      const inconsistent = String(dig(expired.body, 'metadata.continue'));
      const rest = await http('GET', `/api/v1/configmaps?continue=${encodeURIComponent(inconsistent)}`);
      assert.deepEqual(itemNames(rest), ['c', 'c0', 'd']);
    });
  });

  test('label selectors on lists, and on watches as ADDED/DELETED when objects start or stop matching', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      api.put(configMap('web', 'default', { app: 'web', tier: 'front' }));
      api.put(configMap('api', 'default', { app: 'api' }));
      api.put(configMap('bare', 'default'));
      const select = async (selector: string): Promise<string[]> => {
        const reply = await http('GET', `/api/v1/namespaces/default/configmaps?labelSelector=${encodeURIComponent(selector)}`);
        assert.equal(reply.status, 200, selector);
        return itemNames(reply);
      };
      assert.deepEqual(await select('app=web'), ['web']);
      assert.deepEqual(await select('app!=web'), ['api', 'bare']);
      assert.deepEqual(await select('app'), ['api', 'web']);
      assert.deepEqual(await select('!app'), ['bare']);
      assert.deepEqual(await select('app=web,tier=front'), ['web']);
      assert.deepEqual(await select('app in (web,api),!tier'), ['api']);
      assert.deepEqual(itemNames(await http('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dapi')), ['api']);
      const bad = await http('GET', '/api/v1/configmaps?labelSelector=a%20b%20c');
      assert.equal(bad.status, 400);
      assert.equal(dig(bad.body, 'reason'), 'BadRequest');
      assert.equal((await http('GET', '/api/v1/configmaps?fieldSelector=spec.x%3D1')).status, 400);

      const watch = await startWatch(kc, '/api/v1/namespaces/default/configmaps', { labelSelector: 'app=web' });
      await waitFor('the initial ADDED', () => watch.events.length === 1);
      api.put(configMap('web', 'default', { app: 'retired' }));
      api.put(configMap('api', 'default', { app: 'web' }));
      api.put(configMap('bare', 'default', { other: 'x' }));
      await waitFor('two more events', () => watch.events.length === 3);
      assert.deepEqual(
        watch.events.map((event) => `${event.type} ${event.object.metadata.name}`),
        ['ADDED web', 'DELETED web', 'ADDED api'],
      );
      // The DELETED event carries the last matching content at the revision of the change.
      const retired = api.get('v1', 'ConfigMap', 'default', 'web');
      assert.equal(watch.events[1]?.object.metadata.labels?.['app'], 'web');
      assert.equal(watch.events[1]?.object.metadata.resourceVersion, retired?.metadata.resourceVersion);
      watch.controller.abort();
    });
  });

  test('bookmarks: periodic and on demand with allowWatchBookmarks, none without it', async () => {
    await withApi({ bookmarkIntervalMs: 50 }, async ({ api, kc }) => {
      api.put(configMap('a', 'default'));
      const withBookmarks = await startWatch(kc, '/api/v1/configmaps', { allowWatchBookmarks: true, resourceVersion: api.resourceVersion });
      const without = await startWatch(kc, '/api/v1/configmaps', { resourceVersion: api.resourceVersion });
      await api.waitForWatches(2);
      api.put(configMap('b', 'default'));
      await waitFor('a periodic bookmark after b', () =>
        withBookmarks.events.some((event) => event.type === 'BOOKMARK' && event.object.metadata.resourceVersion === '2'),
      );
      const bookmark = withBookmarks.events.find((event) => event.type === 'BOOKMARK');
      assert.deepEqual(bookmark?.object, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '2' } });
      assert.deepEqual(without.events.map((event) => event.type), ['ADDED']);
      withBookmarks.controller.abort();
      without.controller.abort();
    });
    await withApi({ bookmarkIntervalMs: 60_000 }, async ({ api, kc }) => {
      const watch = await startWatch(kc, '/api/v1/configmaps', { allowWatchBookmarks: true });
      await api.waitForWatches(1);
      api.put(configMap('a', 'default'));
      api.sendBookmarks();
      await waitFor('the on-demand bookmark', () => watch.events.some((event) => event.type === 'BOOKMARK'));
      assert.deepEqual(watch.events.map((event) => event.type), ['ADDED', 'BOOKMARK']);
      assert.equal(watch.events[1]?.object.metadata.resourceVersion, '1');
      watch.controller.abort();
    });
  });

  test('dropWatches ends the stream with an error; after a compaction ListWatch gets 410 and relists', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      api.put(configMap('a', 'default'));
      api.put(configMap('b', 'default'));
      const path = '/api/v1/namespaces/default/configmaps';
      const listWatch = new ListWatch<KubernetesObject>(path, new Watch(kc), () => listOver(http, path), false);
      const errors: unknown[] = [];
      const deleted: string[] = [];
      const added: string[] = [];
      listWatch.on('error', (error) => errors.push(error));
      listWatch.on('delete', (object) => deleted.push(object.metadata?.name ?? ''));
      listWatch.on('add', (object) => added.push(object.metadata?.name ?? ''));
      await listWatch.start();
      await api.waitForWatches(1);
      assert.deepEqual(names(listWatch.list()), ['a', 'b']);
      const rawWatch = await startWatch(kc, '/api/v1/configmaps', { resourceVersion: api.resourceVersion });
      await api.waitForWatches(2);

      assert.equal(api.dropWatches(), 2);
      await waitFor('both clients to see the stream end', () => rawWatch.state.ended && errors.length === 1);
      // No chunked terminator: node-fetch reports "Premature close", and ListWatch treats any
      // error as final (it only restarts on a clean end), so its owner must start() it again.
      assert.match(String(dig(rawWatch.state.error, 'message')), /Premature close/);
      assert.match(String(dig(errors[0], 'message')), /Premature close/);
      assert.equal(api.openWatches, 0);

      // While it is disconnected: a is deleted, c created, and history compacted.
      const staleRv = listWatch.latestResourceVersion();
      api.remove('v1', 'ConfigMap', 'default', 'a');
      api.put(configMap('c', 'default'));
      api.compact();
      const listsBefore = api.requests.filter((entry) => entry.verb === 'list').length;
      await listWatch.start();
      await waitFor('the relist', () => names(listWatch.list()).join() === 'b,c');
      await api.waitForWatches(1);
      assert.deepEqual(deleted, ['a']);
      assert.deepEqual(added, ['a', 'b', 'c']);
      assert.equal(listWatch.latestResourceVersion(), api.resourceVersion);
      // The resumed watch got 200 + ERROR(410) and ended; ListWatch then listed again.
      assert.ok(api.requests.some((entry) => entry.verb === 'watch' && queryParam(entry.query, 'resourceVersion') === staleRv));
      assert.equal(api.requests.filter((entry) => entry.verb === 'list').length, listsBefore + 1);
      await listWatch.stop();
    });
  });

  test('a too-old watch is a 200 carrying one ERROR(410) event; endWatches ends cleanly and ListWatch resumes', async () => {
    await withApi({}, async ({ api, kc }) => {
      api.put(configMap('a', 'default'));
      api.put(configMap('b', 'default'));
      api.compact();
      const expired = await startWatch(kc, '/api/v1/configmaps', { resourceVersion: '1' });
      await waitFor('the stream to end', () => expired.state.ended);
      assert.equal(expired.state.error, null);
      assert.deepEqual(
        expired.events.map((event) => ({ type: event.type, object: event.object as unknown })),
        [
          {
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Failure',
              message: 'too old resource version: 1 (2)',
              reason: 'Expired',
              code: 410,
            },
          },
        ],
      );

      const core = kc.makeApiClient(CoreV1Api);
      const listWatch = new ListWatch<KubernetesObject>('/api/v1/configmaps', new Watch(kc), () => core.listConfigMapForAllNamespaces(), false);
      await listWatch.start();
      await api.waitForWatches(1);
      api.put(configMap('c', 'default'));
      await waitFor('c', () => listWatch.list().length === 3);
      const lists = api.requests.filter((entry) => entry.verb === 'list').length;
      assert.equal(api.endWatches(), 1);
      await api.waitForWatches(1);
      api.put(configMap('d', 'default'));
      await waitFor('d', () => listWatch.list().length === 4);
      // A clean end makes ListWatch re-watch from its last resourceVersion without relisting.
      assert.equal(api.requests.filter((entry) => entry.verb === 'list').length, lists);
      assert.ok(api.requests.some((entry) => entry.verb === 'watch' && queryParam(entry.query, 'resourceVersion') === '3'));
      await listWatch.stop();
    });
  });

  test('timeoutSeconds ends the watch cleanly (done without error)', async () => {
    await withApi({}, async ({ kc }) => {
      const started = Date.now();
      const watch = await startWatch(kc, '/api/v1/configmaps', { timeoutSeconds: 1 });
      await waitFor('the timeout', () => watch.state.ended, 3000);
      assert.equal(watch.state.error, null);
      assert.ok(Date.now() - started >= 900);
    });
  });

  test('forbid: 403 Status with the real message on list, watch and status writes; allow restores access', async () => {
    await withApi({ user: 'system:serviceaccount:x:y' }, async ({ api, kc, http }) => {
      api.forbid('ingresses');
      const listed = await http('GET', '/apis/networking.k8s.io/v1/ingresses');
      assert.equal(listed.status, 403);
      assert.deepEqual(listed.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'ingresses.networking.k8s.io is forbidden: User "system:serviceaccount:x:y" cannot list resource "ingresses" in API group "networking.k8s.io" at the cluster scope',
        reason: 'Forbidden',
        details: { group: 'networking.k8s.io', kind: 'ingresses' },
        code: 403,
      });
      const namespaced = await http('GET', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses');
      assert.match(String(dig(namespaced.body, 'message')), /cannot list resource "ingresses" in API group "networking.k8s.io" in the namespace "shop"$/);
      const watch = await startWatch(kc, '/apis/networking.k8s.io/v1/ingresses', {});
      await waitFor('the watch to fail', () => watch.state.ended);
      assert.equal(dig(watch.state.error, 'statusCode'), 403);
      // get is still allowed: forbid() defaults to list and watch.
      assert.equal((await http('GET', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/x')).status, 404);

      api.put({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'shop' }, spec: {} });
      api.forbid('ingresses.networking.k8s.io/status', ['update']);
      const current = asObject((await http('GET', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/x')).body);
      const statusPath = '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/x/status';
      const statusWrite = await http('PUT', statusPath, { ...current, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } });
      assert.equal(statusWrite.status, 403);
      assert.equal(
        dig(statusWrite.body, 'message'),
        'ingresses.networking.k8s.io "x" is forbidden: User "system:serviceaccount:x:y" cannot update resource "ingresses/status" in API group "networking.k8s.io" in the namespace "shop"',
      );

      api.allow('ingresses');
      api.allow('ingresses.networking.k8s.io/status');
      assert.equal((await http('GET', '/apis/networking.k8s.io/v1/ingresses')).status, 200);
      const allowed = await http('PUT', statusPath, { ...current, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } });
      assert.equal(allowed.status, 200);
      assert.equal(dig(allowed.body, 'status.loadBalancer.ingress.0.ip'), '10.0.0.1');

      api.failNext(1, { code: 503, reason: 'ServiceUnavailable', message: 'etcd is sad' }, { verbs: ['list'] });
      const failed = await http('GET', '/apis/networking.k8s.io/v1/ingresses');
      assert.equal(failed.status, 503);
      assert.equal(dig(failed.body, 'message'), 'etcd is sad');
      assert.equal((await http('GET', '/apis/networking.k8s.io/v1/ingresses')).status, 200);
    });
  });

  test('PUT: 409 Conflict on a stale resourceVersion, then success with the latest; no-op writes change nothing', async () => {
    await withApi({}, async ({ api, http }) => {
      const path = '/apis/coordination.k8s.io/v1/namespaces/isthmus/leases';
      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leader' }, spec: { holderIdentity: 'a' } };
      const created = await http('POST', path, lease);
      assert.equal(created.status, 201);
      const duplicate = await http('POST', path, lease);
      assert.equal(duplicate.status, 409);
      assert.equal(dig(duplicate.body, 'reason'), 'AlreadyExists');
      assert.equal(dig(duplicate.body, 'message'), 'leases.coordination.k8s.io "leader" already exists');

      const stale = asObject(created.body);
      const other = await http('PUT', `${path}/leader`, { ...stale, spec: { holderIdentity: 'b' } });
      assert.equal(other.status, 200);
      assert.equal(dig(other.body, 'metadata.generation'), 2);

      const conflict = await http('PUT', `${path}/leader`, { ...stale, spec: { holderIdentity: 'c' } });
      assert.equal(conflict.status, 409);
      assert.deepEqual(conflict.body, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        details: { name: 'leader', group: 'coordination.k8s.io', kind: 'leases' },
        code: 409,
      });
      assert.equal(dig(api.get('coordination.k8s.io/v1', 'Lease', 'isthmus', 'leader'), 'spec.holderIdentity'), 'b');

      const latest = asObject((await http('GET', `${path}/leader`)).body);
      const retried = await http('PUT', `${path}/leader`, { ...latest, spec: { holderIdentity: 'c' } });
      assert.equal(retried.status, 200);
      assert.equal(dig(retried.body, 'spec.holderIdentity'), 'c');
      assert.equal(Number(dig(retried.body, 'metadata.resourceVersion')), Number(latest.metadata.resourceVersion) + 1);

      // etcd skips a write that changes nothing: same resourceVersion, no event.
      const before = api.resourceVersion;
      const noop = await http('PUT', `${path}/leader`, retried.body);
      assert.equal(noop.status, 200);
      assert.equal(dig(noop.body, 'metadata.resourceVersion'), dig(retried.body, 'metadata.resourceVersion'));
      assert.equal(api.resourceVersion, before);
      const renamed = asObject(retried.body);
      const wrongName = await http('PUT', `${path}/leader`, { ...renamed, metadata: { ...renamed.metadata, name: 'x' } });
      assert.equal(wrongName.status, 400);
    });
  });

  test('/status: a status write bumps resourceVersion but not generation and ignores spec; a main write ignores status', async () => {
    await withApi({}, async ({ api, kc, http }) => {
      const path = '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes';
      const route = {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'shop' },
        spec: { hostnames: ['shop.example'] },
        status: { parents: ['ignored on create'] },
      };
      const createdReply = await http('POST', path, route);
      assert.equal(createdReply.status, 201);
      const created = asObject(createdReply.body);
      assert.equal(created['status'], undefined);
      assert.equal(created.metadata.generation, 1);
      const watch = await startWatch(kc, path, { resourceVersion: created.metadata.resourceVersion ?? '' });
      await api.waitForWatches(1);

      const accepted = { parents: [{ controllerName: 'isthmus.dev/gateway', conditions: [{ type: 'Accepted', status: 'True' }] }] };
      const written = await http('PUT', `${path}/shop/status`, { ...created, spec: { hostnames: ['evil.example'] }, status: accepted });
      assert.equal(written.status, 200);
      assert.deepEqual(dig(written.body, 'spec'), { hostnames: ['shop.example'] });
      assert.deepEqual(dig(written.body, 'status'), accepted);
      assert.equal(dig(written.body, 'metadata.generation'), 1);
      assert.equal(Number(dig(written.body, 'metadata.resourceVersion')), Number(created.metadata.resourceVersion) + 1);

      const mainWrite = await http('PUT', `${path}/shop`, { ...asObject(written.body), spec: { hostnames: ['new.example'] }, status: { parents: [] } });
      assert.equal(mainWrite.status, 200);
      assert.equal(dig(mainWrite.body, 'metadata.generation'), 2);
      assert.deepEqual(dig(mainWrite.body, 'status'), accepted);

      const patched = await http('PATCH', `${path}/shop/status`, { status: { parents: [] } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patched.status, 200);
      assert.deepEqual(dig(patched.body, 'status.parents'), []);
      assert.equal(dig(patched.body, 'metadata.generation'), 2);

      await waitFor('three MODIFIED events', () => watch.events.length === 3);
      assert.deepEqual(
        watch.events.map((event) => `${event.type} ${event.object.metadata.generation}`),
        ['MODIFIED 1', 'MODIFIED 2', 'MODIFIED 2'],
      );
      // Kinds without a status subresource have no /status path.
      assert.equal((await http('GET', '/api/v1/namespaces/default/configmaps/x/status')).status, 404);
      watch.controller.abort();
    });
  });

  test('cluster-scoped paths, finalizers and discovery', async () => {
    await withApi({}, async ({ api, http }) => {
      const classes = '/apis/gateway.networking.k8s.io/v1/gatewayclasses';
      const gatewayClass = { metadata: { name: 'isthmus', finalizers: ['isthmus.dev/cleanup'] }, spec: { controllerName: 'isthmus.dev/gateway' } };
      const created = await http('POST', classes, gatewayClass);
      assert.equal(created.status, 201);
      assert.equal(dig(created.body, 'metadata.namespace'), undefined);
      assert.equal(dig((await http('GET', `${classes}/isthmus`)).body, 'spec.controllerName'), 'isthmus.dev/gateway');
      assert.equal((await http('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/default/gatewayclasses')).status, 404);
      const namespace = await http('POST', '/api/v1/namespaces', { metadata: { name: 'shop' } });
      assert.equal(namespace.status, 201);
      assert.equal(dig((await http('GET', '/api/v1/namespaces/shop')).body, 'kind'), 'Namespace');
      const phase = await http('PUT', '/api/v1/namespaces/shop/status', { ...asObject(namespace.body), status: { phase: 'Active' } });
      assert.equal(dig(phase.body, 'status.phase'), 'Active');

      // A finalizer turns DELETE into a deletionTimestamp; removing it completes the deletion.
      const deleting = await http('DELETE', `${classes}/isthmus`);
      assert.equal(deleting.status, 200);
      assert.match(String(dig(deleting.body, 'metadata.deletionTimestamp')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(api.list('gateway.networking.k8s.io/v1', 'GatewayClass').length, 1);
      const pending = asObject(deleting.body);
      const finalized = await http('PUT', `${classes}/isthmus`, { ...pending, metadata: { ...pending.metadata, finalizers: [] } });
      assert.equal(finalized.status, 200);
      assert.equal((await http('GET', `${classes}/isthmus`)).status, 404);
      assert.equal(api.list('gateway.networking.k8s.io/v1', 'GatewayClass').length, 0);

      const discovery = await http('GET', '/apis/gateway.networking.k8s.io/v1');
      const resources = dig(discovery.body, 'resources');
      assert.ok(Array.isArray(resources));
      const httproutes: unknown = resources.find((resource: unknown) => dig(resource, 'name') === 'httproutes');
      assert.equal(dig(httproutes, 'kind'), 'HTTPRoute');
      assert.equal(dig(httproutes, 'namespaced'), true);
      assert.equal((await http('GET', '/apis/example.com/v1')).status, 404);
      // A built-in kind's DELETE answers a Success Status rather than the object.
      const deletedBuiltIn = await http('DELETE', '/api/v1/namespaces/shop');
      assert.equal(dig(deletedBuiltIn.body, 'kind'), 'Status');
      assert.equal(dig(deletedBuiltIn.body, 'status'), 'Success');
      assert.equal(dig(deletedBuiltIn.body, 'details.name'), 'shop');
    });
  });
});
