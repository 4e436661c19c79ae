// A ListenerSet (GEP-1713) through the real command: the Gateway allows ListenerSets from its
// namespace; a ListenerSet adds a listener on another port, a route attached to that ListenerSet
// section is served there (and not on the Gateway's own port), and /api/status shows the
// ListenerSet Accepted and Programmed, the Gateway's attachedListenerSets, the route's parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminJson, configDir, freePorts, get, serviceYaml, startEcho, startGateway } from './cli-harness.js';

const GATEWAY_API = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: default}
spec:
  gatewayClassName: isthmus
  allowedListeners: {namespaces: {from: Same}}
  listeners: [{name: main, port: 8000, protocol: HTTP, hostname: main.test}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: default}
spec:
  parentRef: {name: shared}
  listeners: [{name: extra, port: 9000, protocol: HTTP, hostname: team.test}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: team-route, namespace: default}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: team, sectionName: extra}]
  rules: [{backendRefs: [{name: alpha, port: 80}]}]
`;

interface Condition {
  type: string;
  status: string;
  reason: string;
}
interface StatusView {
  kind: string;
  name: string;
  status: {
    conditions?: Condition[];
    listeners?: { name: string; attachedRoutes: number; conditions: Condition[] }[];
    attachedListenerSets?: number;
    parents?: { parentRef: { kind?: string; name: string }; conditions: Condition[] }[];
  };
}

test('a route on a ListenerSet listener is served on its port, and the ListenerSet is Accepted and Programmed', async (t) => {
  const alpha = await startEcho(t, '127.0.0.2', 'alpha');
  const [mainPort, setPort] = await freePorts(2);
  const dir = configDir(t, { 'services.yaml': serviceYaml(alpha), 'gateway-api.yaml': GATEWAY_API });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--port-map', `8000=${mainPort!}`, '--port-map', `9000=${setPort!}`] });

  const served = await get(setPort!, '/hello', 'team.test');
  assert.equal(served.status, 200, served.body);
  assert.equal(served.name, 'alpha');
  // The route's parent is the ListenerSet section only: the Gateway's own listener does not serve it.
  assert.equal((await get(mainPort!, '/hello', 'team.test')).status, 404);
  // Listener hostname: another Host on the ListenerSet's port matches nothing.
  assert.equal((await get(setPort!, '/hello', 'other.test')).status, 404);

  const statuses = (await adminJson(gateway.adminPort, '/api/status')) as StatusView[];
  const set = statuses.find((s) => s.kind === 'ListenerSet' && s.name === 'team');
  const cond = (list: Condition[] | undefined, type: string): Condition | undefined => list?.find((c) => c.type === type);
  assert.equal(cond(set?.status.conditions, 'Accepted')?.status, 'True');
  assert.equal(cond(set?.status.conditions, 'Programmed')?.status, 'True');
  const entry = set?.status.listeners?.find((l) => l.name === 'extra');
  assert.equal(entry?.attachedRoutes, 1);
  assert.equal(cond(entry?.conditions, 'Programmed')?.status, 'True');
  assert.equal(cond(entry?.conditions, 'Conflicted')?.status, 'False');

  const gw = statuses.find((s) => s.kind === 'Gateway' && s.name === 'shared');
  assert.equal(gw?.status.attachedListenerSets, 1);
  assert.deepEqual(gw?.status.listeners?.map((l) => l.name), ['main'], 'a Gateway lists only its own listeners');

  const route = statuses.find((s) => s.kind === 'HTTPRoute' && s.name === 'team-route');
  assert.equal(route?.status.parents?.[0]?.parentRef.kind, 'ListenerSet');
  assert.equal(cond(route?.status.parents?.[0]?.conditions, 'Accepted')?.status, 'True');
});
