// Gateway API L4: TCP, UDP and TLS listeners with TCPRoute, UDPRoute and TLSRoute → IR L4
// listeners and statuses, and the bad inputs each reported on the object and field at fault.
// The input is golden/l4-routes.in.yaml (read from the source tree: tsc does not copy YAML into dist/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../../../src/core/diagnostic.js';
import type { Condition, ObjectStatus, RouteParentStatus } from '../../../src/core/object-status.js';
import type { IrL4Listener } from '../../../src/ir/l4.js';
import { translate } from '../../../src/translate/translate.js';
import { GOLDEN_OPTIONS, snapshotOf } from '../golden-harness.js';

const INPUT = fileURLToPath(new URL('../../../../test/translate/gateway-api/golden/l4-routes.in.yaml', import.meta.url));
const text = readFileSync(INPUT, 'utf8');
const snapshot = snapshotOf(text, 'l4-routes.in.yaml');
const result = translate(snapshot, GOLDEN_OPTIONS);

function l4(name: string): IrL4Listener {
  const found = (result.ir.l4Listeners ?? []).find((l) => l.name === name);
  assert.ok(found, `L4 listener ${name} in ${(result.ir.l4Listeners ?? []).map((l) => l.name).join(', ')}`);
  return found;
}

function status(kind: string, name: string): ObjectStatus {
  const found = result.statuses.find((s) => s.kind === kind && s.name === name);
  assert.ok(found, `status of ${kind} ${name}`);
  return found;
}

function parent(kind: string, name: string, i = 0): RouteParentStatus {
  const st = status(kind, name);
  assert.ok('parents' in st.status);
  const p = st.status.parents[i];
  assert.ok(p, `${kind} ${name} parent ${i}`);
  return p;
}

function cond(conditions: readonly Condition[], type: string): Condition {
  const c = conditions.find((x) => x.type === type);
  assert.ok(c, `condition ${type} in ${JSON.stringify(conditions)}`);
  return c;
}

function diagnostic(code: string, objectName: string): Diagnostic {
  const d = result.diagnostics.find((x) => x.code === code && x.object?.name === objectName);
  assert.ok(d, `${code} on ${objectName} in ${result.diagnostics.map((x) => `${x.code} ${x.object?.name ?? ''}`).join('; ')}`);
  return d;
}

function listenerStatus(name: string) {
  const gw = status('Gateway', 'edge');
  assert.ok(gw.kind === 'Gateway');
  const l = gw.status.listeners.find((x) => x.name === name);
  assert.ok(l, `listener status ${name}`);
  return l;
}

test('the input loads without schema errors (TCPRoute, UDPRoute v1alpha2; TLSRoute v1, v1alpha3, v1alpha2)', () => {
  assert.deepEqual(snapshot.diagnostics, []);
});

test('a TCP listener serves its one TCPRoute: weighted Service backends, ready endpoints only, a missing Service keeps its share with no endpoints', () => {
  const l = l4('gateway/default/edge/tcp');
  assert.deepEqual([l.protocol, l.address, l.port, l.tls], ['TCP', '127.0.30.1', 5432, undefined]);
  assert.deepEqual(l.origin, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'edge' });
  assert.equal(l.routes.length, 1);
  const [route] = l.routes;
  assert.equal(route!.name, 'tcproute/default/pg/rule/0');
  assert.deepEqual(route!.sniHosts, []);
  assert.deepEqual(route!.backends, [
    { name: 'service/default/pg/5432', weight: 3, endpoints: [{ address: '10.1.0.1', port: 5432 }] },
    { name: 'invalid/tcproute/default/pg/spec.rules[0].backendRefs[1]', weight: 1, endpoints: [] },
  ]);
  const p = parent('TCPRoute', 'pg');
  assert.equal(cond(p.conditions, 'Accepted').status, 'True');
  assert.deepEqual([cond(p.conditions, 'ResolvedRefs').status, cond(p.conditions, 'ResolvedRefs').reason], ['False', 'BackendNotFound']);
  assert.equal(diagnostic('ERR_BACKEND_SERVICE_NOT_FOUND', 'pg').path, 'spec.rules[0].backendRefs[1]');
  assert.equal(listenerStatus('tcp').attachedRoutes, 1);
  assert.deepEqual(listenerStatus('tcp').supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]);
  assert.equal(cond(listenerStatus('tcp').conditions, 'Programmed').status, 'True');
});

test('a second TCPRoute on one TCP listener: the older wins, the newer is told (Accepted False, ERR_L4_ROUTE_CONFLICT)', () => {
  const p = parent('TCPRoute', 'pg-late');
  assert.deepEqual([cond(p.conditions, 'Accepted').status, cond(p.conditions, 'Accepted').reason], ['False', 'NotAllowedByListeners']);
  assert.match(diagnostic('ERR_L4_ROUTE_CONFLICT', 'pg-late').message, /older TCPRoute default\/pg/);
  assert.ok(!JSON.stringify(result.ir.l4Listeners).includes('pg-late'));
});

test('UDP and TCP listeners on one port do not conflict; a UDPRoute reaches the UDP Service port', () => {
  const udp = l4('gateway/default/edge/udp');
  const tcp = l4('gateway/default/edge/dns-tcp');
  assert.deepEqual([udp.protocol, udp.port, tcp.protocol, tcp.port], ['UDP', 5353, 'TCP', 5353]);
  assert.equal(udp.idleTimeoutMs, 30_000);
  assert.deepEqual(udp.routes[0]!.backends, [{ name: 'service/default/dns/53', weight: 1, endpoints: [{ address: '10.1.1.1', port: 5353 }] }]);
  assert.deepEqual(tcp.routes, []);
  assert.equal(cond(listenerStatus('dns-tcp').conditions, 'Conflicted').status, 'False');
});

test('a backend in another namespace without a ReferenceGrant: RefNotPermitted, its share refused', () => {
  const p = parent('UDPRoute', 'dns-elsewhere');
  assert.equal(cond(p.conditions, 'Accepted').status, 'True');
  assert.equal(cond(p.conditions, 'ResolvedRefs').reason, 'RefNotPermitted');
  assert.deepEqual(l4('gateway/default/edge/udp-all').routes[0]!.backends[0]!.endpoints, []);
  assert.equal(diagnostic('ERR_ROUTE_REF_NOT_PERMITTED', 'dns-elsewhere').path, 'spec.rules[0].backendRefs[0]');
});

test('TLS Passthrough listeners of one port share one IR listener; SNI names are the route hostnames intersected with the listener hostname, each served by the most specific listener', () => {
  const l = l4('gateway/default/edge/tls-pass');
  assert.deepEqual(l.tls, { mode: 'passthrough' });
  assert.equal((result.ir.l4Listeners ?? []).filter((x) => x.port === 8443).length, 1);
  assert.deepEqual(l.routes.map((r) => [r.name, r.sniHosts]), [['tlsroute/default/shop/rule/0', ['shop.example.com', 'db.example.com']]]);
  assert.deepEqual(l.routes[0]!.backends[0]!.endpoints, [{ address: '10.1.2.1', port: 8443 }]);
  assert.deepEqual(listenerStatus('tls-pass').supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }]);
});

test('two TLSRoutes claiming one hostname on a listener: the older keeps it (ERR_L4_ROUTE_CONFLICT on the newer)', () => {
  const p = parent('TLSRoute', 'shop-late');
  assert.equal(cond(p.conditions, 'Accepted').status, 'False');
  const d = diagnostic('ERR_L4_ROUTE_CONFLICT', 'shop-late');
  assert.match(d.message, /"shop\.example\.com".*older TLSRoute default\/shop/);
  assert.equal(d.path, 'spec.parentRefs[0]');
});

test('a TLSRoute without hostnames is refused with a diagnostic on spec.hostnames and is not served', () => {
  const d = diagnostic('ERR_L4_ROUTE_INVALID', 'no-hostnames');
  assert.deepEqual([d.severity, d.path], ['error', 'spec.hostnames']);
  const p = parent('TLSRoute', 'no-hostnames');
  assert.deepEqual([cond(p.conditions, 'Accepted').status, cond(p.conditions, 'Accepted').reason], ['False', 'UnsupportedValue']);
  assert.ok(!JSON.stringify(result.ir.l4Listeners).includes('no-hostnames'));
});

test('route kinds a listener does not allow: InvalidRouteKinds on the listener, NotAllowedByListeners on the route; a TLSRoute on a TCP listener is UnsupportedValue', () => {
  const kinds = listenerStatus('tcp-kinds');
  assert.deepEqual(kinds.supportedKinds, []);
  assert.deepEqual([cond(kinds.conditions, 'ResolvedRefs').status, cond(kinds.conditions, 'ResolvedRefs').reason], ['False', 'InvalidRouteKinds']);
  assert.equal(cond(parent('TCPRoute', 'wrong-kind').conditions, 'Accepted').reason, 'NotAllowedByListeners');
  assert.equal(cond(parent('TLSRoute', 'on-tcp').conditions, 'Accepted').reason, 'UnsupportedValue');
});

test('TLS Terminate: the listener certificate goes into the IR; a second Terminate listener on the port is not programmed', () => {
  const l = l4('gateway/default/edge/tls-term');
  assert.deepEqual(l.tls, { mode: 'terminate', certificate: 'gateway/default/edge/tls-term/default/server-cert' });
  assert.ok(result.ir.certificates.some((c) => c.name === 'gateway/default/edge/tls-term/default/server-cert' && c.certPem.includes('BEGIN CERTIFICATE')));
  // The TCPRoute takes the SNI names no TLSRoute claims (the data plane's fallback route); its second rule is ignored with a warning.
  assert.deepEqual(l.routes.map((r) => [r.name, r.sniHosts]), [['tlsroute/default/app/rule/0', ['app.example.com']], ['tcproute/default/term-stream/rule/0', []]]);
  const ignored = diagnostic('ERR_L4_ROUTE_INVALID', 'term-stream');
  assert.deepEqual([ignored.severity, ignored.path], ['warning', 'spec.rules[1]']);
  assert.deepEqual(listenerStatus('tls-term').supportedKinds.map((k) => k.kind), ['TLSRoute', 'TCPRoute']);
  const second = listenerStatus('tls-term-2');
  assert.deepEqual([cond(second.conditions, 'Programmed').status, cond(second.conditions, 'Accepted').status], ['False', 'True']);
  assert.equal(diagnostic('ERR_GATEWAY_LISTENER_UNSUPPORTED', 'edge').path, 'spec.listeners[7]');
});

test('--port-map applies to Gateway L4 listeners, and a Service L4 listener on the same address and port loses to the Gateway one', () => {
  const service = `
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 15432}]}
status: {loadBalancer: {ingress: [{ip: 127.0.30.1}]}}
`;
  const mapped = translate(snapshotOf(text + service, 'l4-routes.in.yaml'), {
    ...GOLDEN_OPTIONS,
    binds: { listenAddress: '0.0.0.0', portMap: new Map([[5432, 15432]]) },
    services: { nodeAddress: '0.0.0.0' },
  });
  const tcp = (mapped.ir.l4Listeners ?? []).find((l) => l.name === 'gateway/default/edge/tcp');
  assert.equal(tcp?.port, 15432);
  assert.ok(!(mapped.ir.l4Listeners ?? []).some((l) => l.name.startsWith('service/default/lb/')));
  assert.ok(mapped.diagnostics.some((d) => d.code === 'ERR_L4_LISTENER_CONFLICT' && d.object?.name === 'lb'));
});

test('an L4 listener the bind step leaves out is reported on its Gateway listener: Conflicted, Programmed False', () => {
  const more = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: late, namespace: default}
spec:
  gatewayClassName: isthmus
  addresses: [{type: IPAddress, value: 127.0.30.1}]
  listeners:
  - {name: on-http-port, port: 80, protocol: TCP}
  - {name: same-tcp-port, port: 5432, protocol: TCP}
  - {name: free, port: 7000, protocol: TCP}
`;
  const r = translate(snapshotOf(text + more, 'l4-routes.in.yaml'), GOLDEN_OPTIONS);
  const late = r.statuses.find((s) => s.kind === 'Gateway' && s.name === 'late');
  assert.ok(late?.kind === 'Gateway');
  const byName = (n: string) => late.status.listeners.find((l) => l.name === n)!;
  const conditionOf = (n: string, type: string) => byName(n).conditions.find((c) => c.type === type);
  assert.deepEqual([conditionOf('on-http-port', 'Conflicted')?.reason, conditionOf('on-http-port', 'Programmed')?.status], ['ProtocolConflict', 'False']);
  assert.deepEqual([conditionOf('same-tcp-port', 'Conflicted')?.reason, conditionOf('same-tcp-port', 'Programmed')?.status], ['HostnameConflict', 'False']);
  assert.equal(conditionOf('free', 'Programmed')?.status, 'True');
  const names = (r.ir.l4Listeners ?? []).map((l) => l.name);
  assert.ok(names.includes('gateway/default/late/free') && !names.includes('gateway/default/late/on-http-port') && names.includes('gateway/default/edge/tcp'));
  // Neither states its age: namespace/name decides, and default/edge keeps its listener.
  const edge = r.statuses.find((s) => s.kind === 'Gateway' && s.name === 'edge');
  assert.ok(edge?.kind === 'Gateway');
  assert.equal(edge.status.listeners.find((l) => l.name === 'tcp')!.conditions.find((c) => c.type === 'Programmed')?.status, 'True');
});

test('upstream schemas: a v1 TLSRoute must have hostnames (refused at load), v1alpha2 may omit them (refused by the translator); a UDPRoute needs backendRefs', () => {
  const doc = (apiVersion: string, kind: string, spec: string) => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: r, namespace: default}\nspec: ${spec}\n`;
  const v1 = snapshotOf(doc('gateway.networking.k8s.io/v1', 'TLSRoute', '{parentRefs: [{name: edge}], rules: [{backendRefs: [{name: a, port: 1}]}]}'), 'v1.yaml');
  assert.ok(v1.diagnostics.some((d) => d.code === 'ERR_RESOURCE_INVALID' && d.object?.kind === 'TLSRoute'), JSON.stringify(v1.diagnostics));
  assert.equal(v1.resources.filter((r) => r.kind === 'TLSRoute').length, 0);
  const alpha = snapshotOf(doc('gateway.networking.k8s.io/v1alpha2', 'TLSRoute', '{parentRefs: [{name: edge}], rules: [{backendRefs: [{name: a, port: 1}]}]}'), 'a.yaml');
  assert.deepEqual(alpha.diagnostics, []);
  assert.equal(alpha.resources.filter((r) => r.kind === 'TLSRoute').length, 1);
  const udp = snapshotOf(doc('gateway.networking.k8s.io/v1alpha2', 'UDPRoute', '{rules: [{}]}'), 'u.yaml');
  assert.ok(udp.diagnostics.some((d) => d.code === 'ERR_RESOURCE_INVALID' && d.path === 'spec.rules[0]' && d.message.includes('backendRefs')), JSON.stringify(udp.diagnostics));
});

test('a ListenerSet TCP listener is an L4 listener named after the ListenerSet, on its Gateway address; a TCPRoute attaches to it by a ListenerSet parentRef', () => {
  const yaml = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: isthmus
  addresses: [{type: IPAddress, value: 127.0.31.1}]
  allowedListeners: {namespaces: {from: All}}
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: apps}
spec:
  parentRef: {name: shared, namespace: infra}
  listeners: [{name: db, port: 6543, protocol: TCP}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: apps}
spec:
  parentRefs: [{kind: ListenerSet, group: gateway.networking.k8s.io, name: team, sectionName: db}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: apps}
spec: {ports: [{port: 5432}]}
`;
  const r = translate(snapshotOf(yaml, 'set.yaml'), GOLDEN_OPTIONS);
  const l = (r.ir.l4Listeners ?? []).find((x) => x.name === 'listenerset/apps/team/db');
  assert.ok(l, JSON.stringify(r.ir.l4Listeners));
  assert.deepEqual([l.address, l.port, l.protocol, l.origin?.kind], ['127.0.31.1', 6543, 'TCP', 'ListenerSet']);
  assert.deepEqual(l.routes.map((x) => x.name), ['tcproute/apps/db/rule/0']);
  // The Service has no endpoints: the backend is there with none, so connections are refused.
  assert.deepEqual(l.routes[0]!.backends, [{ name: 'service/apps/db/5432', weight: 1, endpoints: [] }]);
  const set = r.statuses.find((s) => s.kind === 'ListenerSet' && s.name === 'team');
  assert.ok(set?.kind === 'ListenerSet');
  assert.equal(set.status.listeners[0]!.attachedRoutes, 1);
  const route = r.statuses.find((s) => s.kind === 'TCPRoute' && s.name === 'db');
  assert.ok(route !== undefined && 'parents' in route.status);
  assert.equal(route.status.parents[0]!.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
});

test('HTTPS and TLS listeners on one port with distinct hostnames are distinct: the TLS listener shares the HTTPS bind; TLS listeners of two modes there still conflict', () => {
  const more = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: default}
spec:
  gatewayClassName: isthmus
  addresses: [{type: IPAddress, value: 127.0.31.1}]
  listeners:
  - {name: web, port: 443, protocol: HTTPS, hostname: web.example.com, tls: {certificateRefs: [{name: server-cert}]}}
  - {name: pass, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: pass-2, port: 6443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}}
  - {name: term-2, port: 6443, protocol: TLS, hostname: t.example.com, tls: {mode: Terminate, certificateRefs: [{name: server-cert}]}}
  - {name: web-2, port: 6443, protocol: HTTPS, hostname: web.example.com, tls: {certificateRefs: [{name: server-cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: shared-db, namespace: default}
spec:
  parentRefs: [{name: shared, sectionName: pass}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: pg, port: 5432}]}]
`;
  const r = translate(snapshotOf(text + more, 'l4-routes.in.yaml'), GOLDEN_OPTIONS);
  const shared = r.statuses.find((s) => s.kind === 'Gateway' && s.name === 'shared');
  assert.ok(shared?.kind === 'Gateway');
  const conditionOf = (n: string, type: string) => shared.status.listeners.find((l) => l.name === n)?.conditions.find((c) => c.type === type);
  assert.deepEqual(['web', 'pass'].map((n) => [conditionOf(n, 'Conflicted')?.reason, conditionOf(n, 'Programmed')?.status]), [['NoConflicts', 'True'], ['NoConflicts', 'True']]);
  // Passthrough and Terminate on one port: both TLS listeners conflict; the HTTPS one beside them does not.
  assert.deepEqual(['pass-2', 'term-2', 'web-2'].map((n) => conditionOf(n, 'Conflicted')?.reason), ['ProtocolConflict', 'ProtocolConflict', 'NoConflicts']);
  const l = (r.ir.l4Listeners ?? []).find((x) => x.name === 'gateway/default/shared/pass');
  const bind = r.ir.binds.find((b) => b.protocol === 'https' && b.address === '127.0.31.1' && b.port === 443);
  assert.ok(l !== undefined && bind !== undefined, JSON.stringify(r.ir.binds.map((b) => b.name)));
  assert.equal(l.sharesBind, bind.name);
  assert.deepEqual(l.routes.map((x) => x.sniHosts), [['db.example.com']]);
  assert.ok(!r.diagnostics.some((d) => d.code === 'ERR_L4_LISTENER_CONFLICT' && d.object?.name === 'shared'), JSON.stringify(r.diagnostics.filter((d) => d.object?.name === 'shared')));
});
