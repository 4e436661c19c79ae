import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpRequest, ingressYaml, serviceYaml, startEcho } from './cli-harness.js';
import { startFakeCluster, startKubeGateway, waitFor } from './kubernetes-harness.js';

const INGRESS_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: isthmus}
spec: {controller: isthmus.dev/ingress-controller}
`;

function withClass(ingress: string): string {
  return ingress.replace('spec:\n', 'spec:\n  ingressClassName: isthmus\n');
}

test('Kubernetes mode: serves what the cluster holds, follows changes through the watch, writes Ingress status once', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  const cart = await startEcho(t, '127.0.0.1', 'cart');
  cluster.apply(INGRESS_CLASS + '---\n' + serviceYaml(shop) + '---\n' + serviceYaml(cart) + '---\n' + withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }])));
  const healthPort = await freePort();
  const gw = await startKubeGateway(t, cluster, ['--publish-address', '203.0.113.9', '--health-port', String(healthPort)]);

  // /ready on the health port says the same as the admin API's.
  assert.equal((await httpRequest({ port: healthPort, path: '/ready' })).status, 200);
  assert.equal((await httpRequest({ port: healthPort, path: '/healthz' })).status, 200);
  assert.equal((await httpRequest({ port: healthPort, path: '/api/config' })).status, 404, 'the health port shows no configuration');

  const first = await httpRequest({ port: gw.httpPort, path: '/x', headers: { host: 'shop.example' } });
  assert.equal(first.status, 200);
  assert.equal(JSON.parse(first.body).name, 'shop');

  // A change made through the API reaches the data plane through the watch.
  cluster.apply(withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }, { path: '/cart', service: 'cart' }])));
  await waitFor('the /cart path', async () => {
    const r = await httpRequest({ port: gw.httpPort, path: '/cart/1', headers: { host: 'shop.example' } });
    return r.status === 200 && JSON.parse(r.body).name === 'cart' ? true : undefined;
  });

  // The Ingress status carries the published address, written by the (only, so leading) replica.
  await waitFor('Ingress status', () => {
    const ing = cluster.api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } } | undefined;
    return ing?.status?.loadBalancer?.ingress?.[0]?.ip === '203.0.113.9' ? true : undefined;
  });
  const statusWrites = (): number => cluster.api.writes.filter((w) => w.method === 'PUT' && w.path.endsWith('/ingresses/web/status')).length;
  const before = statusWrites();
  assert.equal(before, 1, 'one write for one change of status');
  // Another change that leaves the status as it is: no write.
  cluster.apply(serviceYaml(cart).replace('ports: [{name: http, port: 80, targetPort: http}]', 'ports: [{name: http, port: 80, targetPort: http}]\n  sessionAffinity: None'));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(statusWrites(), before, 'no status write when nothing changed');
});

test('Kubernetes mode: /ready waits for the first full sync; a dropped watch resumes; a compacted one relists', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  cluster.apply(INGRESS_CLASS + '---\n' + serviceYaml(shop) + '---\n' + withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }])));
  // The first lists of Ingresses fail: the gateway must not say it is ready before they succeed.
  cluster.api.failNext(3, { code: 503, reason: 'ServiceUnavailable' }, { verbs: ['list'], plural: 'ingresses' });
  const started = performance.now();
  const gw = await startKubeGateway(t, cluster);
  assert.ok(cluster.api.requests.filter((r) => r.path.endsWith('/ingresses') && r.verb === 'list' && r.status === 503).length === 3, 'ready only after the failing lists');
  assert.ok(performance.now() - started > 500, 'the retries back off (0.5 s, 1 s, ...)');
  assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'shop.example' } })).status, 200, 'the first applied configuration already has the Ingress');

  // Drop every watch mid-stream; a change made afterwards still arrives (the watch resumes).
  await cluster.api.waitForWatches(1);
  cluster.api.dropWatches();
  cluster.apply(withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }, { path: '/after-drop', service: 'shop', pathType: 'Exact' }])));
  await waitFor('a change after the drop', async () => ((await httpRequest({ port: gw.httpPort, path: '/after-drop', headers: { host: 'shop.example' } })).status === 200 ? true : undefined));

  // Compact history and drop again: resuming from an old resourceVersion gets 410 Gone, and the
  // gateway relists: an object deleted while it was away disappears, one added appears.
  const listsBefore = cluster.api.requests.filter((r) => r.verb === 'list' && r.path.endsWith('/ingresses')).length;
  cluster.apply(withClass(ingressYaml('other', 'other.example', [{ path: '/', service: 'shop' }])));
  cluster.api.compact();
  cluster.api.dropWatches();
  cluster.api.remove('networking.k8s.io/v1', 'Ingress', 'default', 'web');
  cluster.api.compact();
  await waitFor('shop.example gone after the relist', async () => ((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'shop.example' } })).status === 404 ? true : undefined));
  assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'other.example' } })).status, 200);
  assert.ok(cluster.api.requests.filter((r) => r.verb === 'list' && r.path.endsWith('/ingresses')).length > listsBefore, 'a relist happened');
});

test('Kubernetes mode: RBAC 403 on one kind is a log line and a diagnostic; the other kinds keep working', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  cluster.api.forbid('grpcroutes.gateway.networking.k8s.io');
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  cluster.apply(INGRESS_CLASS + '---\n' + serviceYaml(shop) + '---\n' + withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }])));
  const gw = await startKubeGateway(t, cluster);
  assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'shop.example' } })).status, 200);
  assert.match(gw.stderr(), /RBAC forbids watching grpcroutes\.gateway\.networking\.k8s\.io/);
  const diagnostics = JSON.parse((await httpRequest({ port: gw.adminPort, path: '/api/diagnostics' })).body) as { code: string; message: string }[];
  const forbidden = diagnostics.find((d) => d.code === 'ERR_KUBERNETES_FORBIDDEN');
  assert.ok(forbidden, JSON.stringify(diagnostics));
  assert.match(forbidden.message, /grpcroutes/);
  // Istio's kinds are not installed in this cluster: logged, not an error.
  assert.match(gw.stderr(), /VirtualService is not served by the API server/);
});

test('Kubernetes mode: a status write that conflicts is retried on the latest version', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  cluster.apply(INGRESS_CLASS + '---\n' + serviceYaml(shop) + '---\n' + withClass(ingressYaml('web', 'shop.example', [{ path: '/', service: 'shop' }])));
  cluster.api.failNext(1, { code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on ingresses.networking.k8s.io "web": the object has been modified; please apply your changes to the latest version and try again' }, { verbs: ['update'], plural: 'ingresses' });
  await startKubeGateway(t, cluster, ['--publish-address', 'lb.example.net']);
  await waitFor('Ingress status after the conflict', () => {
    const ing = cluster.api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: { hostname?: string }[] } } } | undefined;
    return ing?.status?.loadBalancer?.ingress?.[0]?.hostname === 'lb.example.net' ? true : undefined;
  });
  const writes = cluster.api.writes.filter((w) => w.path.endsWith('/ingresses/web/status')).map((w) => w.status);
  assert.deepEqual(writes, [409, 200]);
  assert.ok(cluster.api.requests.some((r) => r.verb === 'get' && r.path.endsWith('/ingresses/web')), 'the latest version was read before the retry');
});

test('Kubernetes mode: Gateway API statuses, --publish-service addresses, --watch-namespace and --secret-label-selector', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const shop = await startEcho(t, '127.0.0.1', 'shop');
  cluster.apply(`${serviceYaml(shop, 'team-a')}---
${serviceYaml(shop, 'team-b')}---
apiVersion: v1
kind: Service
metadata: {name: isthmus, namespace: isthmus-system}
spec: {type: LoadBalancer, ports: [{name: http, port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.51.100.4}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: team-a}
spec:
  gatewayClassName: isthmus
  listeners: [{name: web, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-a}
spec:
  parentRefs: [{name: edge}]
  hostnames: [a.example]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-b}
spec:
  parentRefs: [{name: edge, namespace: team-a}]
  hostnames: [b.example]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
`);
  const gw = await startKubeGateway(t, cluster, ['--publish-service', 'isthmus-system/isthmus', '--watch-namespace', 'team-a', '--watch-namespace', 'isthmus-system', '--secret-label-selector', 'isthmus.dev/tls=true']);
  assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'a.example' } })).status, 200);
  assert.equal((await httpRequest({ port: gw.httpPort, path: '/', headers: { host: 'b.example' } })).status, 404, 'team-b is not watched');
  assert.ok(cluster.api.requests.every((r) => !r.path.includes('/namespaces/team-b/')), 'nothing in team-b was read');
  assert.ok(
    cluster.api.requests.filter((r) => r.path.endsWith('/secrets') && (r.verb === 'list' || r.verb === 'watch')).every((r) => new URLSearchParams(r.query).get('labelSelector') === 'isthmus.dev/tls=true'),
    'Secrets are read with the label selector',
  );
  type Conditions = { type: string; status: string; lastTransitionTime?: string }[];
  const gatewayStatus = await waitFor('Gateway status', () => {
    const g = cluster.api.get('gateway.networking.k8s.io/v1', 'Gateway', 'team-a', 'edge') as { status?: { addresses?: { value: string }[]; conditions?: Conditions; listeners?: { attachedRoutes: number }[] } } | undefined;
    return g?.status?.addresses?.[0]?.value === '198.51.100.4' ? g.status : undefined;
  });
  assert.equal(gatewayStatus.conditions?.find((c) => c.type === 'Programmed')?.status, 'True');
  assert.match(gatewayStatus.conditions?.[0]?.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(gatewayStatus.listeners?.[0]?.attachedRoutes, 1);
  const gcStatus = cluster.api.get('gateway.networking.k8s.io/v1', 'GatewayClass', undefined, 'isthmus') as { status?: { conditions?: Conditions } };
  assert.equal(gcStatus.status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
  const route = await waitFor('HTTPRoute status', () => {
    const r = cluster.api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'team-a', 'shop') as { status?: { parents?: { controllerName: string; conditions: Conditions }[] } } | undefined;
    return r?.status?.parents?.length ? r.status.parents : undefined;
  });
  assert.equal(route[0]?.controllerName, 'isthmus.dev/gateway-controller');
  assert.equal(route[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');

  // The published Service's load balancer moves: the Gateway's address follows.
  cluster.api.put({ ...(cluster.api.get('v1', 'Service', 'isthmus-system', 'isthmus') as object), status: { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }] } } } as never);
  await waitFor('the new address', () => {
    const g = cluster.api.get('gateway.networking.k8s.io/v1', 'Gateway', 'team-a', 'edge') as { status?: { addresses?: { type: string; value: string }[] } } | undefined;
    return g?.status?.addresses?.[0]?.value === 'lb.example.net' && g.status.addresses[0].type === 'Hostname' ? true : undefined;
  });
});

test('Kubernetes mode: a burst of changes is applied as a few snapshots, not one per object', async (t) => {
  const cluster = await startFakeCluster(t, { leaveOut: ['VirtualService', 'DestinationRule', 'ServiceEntry'] });
  const gw = await startKubeGateway(t, cluster);
  const applied = (): number => (gw.stderr().match(/config generation \d+ applied/g) ?? []).length;
  const before = applied();
  const docs: string[] = [];
  for (let i = 0; i < 40; i++) docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: default}\nspec: {ports: [{port: 80}]}\n`);
  cluster.apply(docs.join('---\n'));
  await waitFor('the burst applied', async () => {
    const config = JSON.parse((await httpRequest({ port: gw.adminPort, path: '/api/diagnostics' })).body) as unknown[];
    return Array.isArray(config) && applied() > before ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 400));
  const snapshots = applied() - before;
  assert.ok(snapshots >= 1 && snapshots < 10, `40 objects gave ${snapshots} applies`);
  // The watch asked for bookmarks.
  assert.ok(cluster.api.requests.some((r) => r.verb === 'watch' && new URLSearchParams(r.query).get('allowWatchBookmarks') === 'true'));
});
