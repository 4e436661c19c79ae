// The bind step (src/translate/binds/bind-listeners.ts): logical listeners → binds, with conflicts
// reported as values, and through translate() as Gateway listener conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindListeners, type BindOptions } from '../../src/translate/binds/bind-listeners.js';
import { translate } from '../../src/translate/translate.js';
import type { IrListener } from '../../src/ir/types.js';
import type { GatewayObjectStatus } from '../../src/core/object-status.js';
import { snapshotOf } from './golden-harness.js';

const IDENTITY: BindOptions = { listenAddress: '0.0.0.0', portMap: new Map() };

function vhost(host: string, wildcardMatch?: 'one-label' | 'any-labels'): IrListener['virtualHosts'][number] {
  return { name: `vh/${host}`, hostnames: [host], ...(wildcardMatch ? { wildcardMatch } : {}), routes: [] };
}

function gatewayListener(gateway: string, section: string, protocol: 'http' | 'https', port: number, hostname: string, hosts: readonly string[] = [hostname], address?: string): IrListener {
  return {
    name: `gateway/default/${gateway}/${section}`,
    declaredBy: { object: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: gateway }, path: 'spec.listeners[0]', sectionName: section, hostname },
    protocol,
    port,
    ...(address !== undefined ? { address } : {}),
    virtualHosts: hosts.map((h) => vhost(h, 'any-labels')),
  };
}

function ingressListener(protocol: 'http' | 'https', port: number, hosts: readonly string[]): IrListener {
  return { name: `ingress/${protocol}`, protocol, port, virtualHosts: hosts.map((h) => vhost(h)) };
}

test('listeners on one real port share a bind; --port-map can bring two logical ports together', () => {
  const a = gatewayListener('a', 'http', 'http', 80, 'a.test');
  const b = gatewayListener('b', 'alt', 'http', 8080, 'b.test');
  const separate = bindListeners([a, b], IDENTITY);
  assert.deepEqual(separate.binds.map((x) => x.name), ['0.0.0.0:80', '0.0.0.0:8080']);
  const merged = bindListeners([a, b], { listenAddress: '0.0.0.0', portMap: new Map([[80, 8080]]) });
  assert.deepEqual(merged.binds.map((x) => [x.name, x.listeners.map((l) => l.listener)]), [['0.0.0.0:8080', ['gateway/default/a/http', 'gateway/default/b/alt']]]);
  assert.deepEqual(merged.conflicts, []);
});

test('port 0 (any free port) never merges two logical ports', () => {
  const bound = bindListeners([ingressListener('http', 80, ['*']), ingressListener('https', 443, ['*'])], { listenAddress: '127.0.0.1', portMap: new Map([[80, 0], [443, 0]]) });
  assert.deepEqual(bound.binds.map((b) => [b.name, b.protocol, b.port]), [['127.0.0.1:0/80', 'http', 0], ['127.0.0.1:0/443', 'https', 0]]);
});

test('a specific address on a port a wildcard holds is served by the wildcard bind, matched by local address', () => {
  const wild = gatewayListener('a', 'http', 'http', 80, '*');
  const specific = gatewayListener('b', 'http', 'http', 80, '*', ['*'], '127.0.0.9');
  const bound = bindListeners([wild, specific], IDENTITY);
  assert.equal(bound.binds.length, 1);
  assert.equal(bound.binds[0]!.address, '0.0.0.0');
  assert.deepEqual(bound.binds[0]!.listeners, [{ listener: 'gateway/default/a/http' }, { listener: 'gateway/default/b/http', localAddress: '127.0.0.9' }]);
  // Same hostname, but on different destination addresses: not a conflict.
  assert.deepEqual(bound.conflicts, []);
  assert.deepEqual(bound.diagnostics, []);
  // Without a wildcard, two specific addresses are two sockets.
  const two = bindListeners([gatewayListener('a', 'http', 'http', 80, '*', ['*'], '127.0.0.8'), specific], IDENTITY);
  assert.deepEqual(two.binds.map((b) => b.name), ['127.0.0.8:80', '127.0.0.9:80']);
  // `::` takes the port for both families; IPv6 bind names are bracketed.
  const v6 = bindListeners([wild, gatewayListener('c', 'http', 'http', 80, 'c.test', ['c.test'], '::')], IDENTITY);
  assert.deepEqual(v6.binds.map((b) => b.name), ['[::]:80']);
});

test('another protocol on a bind is ProtocolConflict for the later declaration; the first keeps serving', () => {
  const http = gatewayListener('older', 'web', 'http', 80, '*');
  const https = gatewayListener('newer', 'secure', 'https', 80, 'secure.test');
  const bound = bindListeners([http, https], IDENTITY);
  assert.deepEqual(bound.binds.map((b) => [b.name, b.protocol, b.listeners.map((l) => l.listener)]), [['0.0.0.0:80', 'http', ['gateway/default/older/web']]]);
  assert.deepEqual(bound.listeners.map((l) => l.name), ['gateway/default/older/web']);
  assert.equal(bound.conflicts.length, 1);
  assert.equal(bound.conflicts[0]!.reason, 'ProtocolConflict');
  assert.equal(bound.conflicts[0]!.listener, https);
  const d = bound.diagnostics[0]!;
  assert.equal(d.code, 'ERR_LISTENER_CONFLICT');
  assert.equal(d.severity, 'error');
  assert.equal(d.object?.name, 'newer');
  assert.equal(d.path, 'spec.listeners[0].protocol');
  assert.match(d.message, /ProtocolConflict: bind 0\.0\.0\.0:80 speaks HTTP for Gateway default\/older listener "web"/);
});

test('an Ingress listener with no host yields its bind silently; one with hosts decides the protocol', () => {
  const gw = gatewayListener('g', 'https', 'https', 80, 'g.test');
  const yielded = bindListeners([ingressListener('http', 80, []), gw], IDENTITY);
  assert.deepEqual(yielded.binds.map((b) => [b.protocol, b.listeners.map((l) => l.listener)]), [['https', ['gateway/default/g/https']]]);
  assert.deepEqual(yielded.conflicts, []);
  assert.deepEqual(yielded.diagnostics, []);
  const decided = bindListeners([ingressListener('http', 80, ['shop.test']), gw], IDENTITY);
  assert.equal(decided.binds[0]!.protocol, 'http');
  assert.equal(decided.conflicts[0]?.reason, 'ProtocolConflict');
});

test('two Gateways with the same listener hostname on one bind: the later is HostnameConflict', () => {
  const bound = bindListeners([gatewayListener('a', 'http', 'http', 80, 'same.test'), gatewayListener('b', 'http', 'http', 80, 'same.test')], IDENTITY);
  assert.deepEqual(bound.conflicts.map((c) => [c.listener.name, c.reason]), [['gateway/default/b/http', 'HostnameConflict']]);
  assert.equal(bound.diagnostics[0]?.path, 'spec.listeners[0].hostname');
});

test('a host two listeners serve: Ingress first, then the more specific listener hostname, then the older; the loser is told', () => {
  // Ingress and a Gateway both serve shop.test: Ingress keeps it (the precedence before binds).
  const ingress = ingressListener('http', 80, ['shop.test']);
  const gw = gatewayListener('g', 'any', 'http', 80, '*', ['shop.test', '*']);
  const bound = bindListeners([ingress, gw], IDENTITY);
  assert.deepEqual(bound.listeners.find((l) => l.name === 'gateway/default/g/any')?.virtualHosts.map((v) => v.hostnames), [['*']]);
  assert.deepEqual(bound.diagnostics.map((d) => [d.code, d.severity, d.object?.name]), [['ERR_LISTENER_HOST_SHADOWED', 'warning', 'g']]);
  // Two Gateways: the listener whose own hostname is more specific owns the host, whatever their age.
  const older = gatewayListener('older', 'any', 'http', 80, '*', ['a.shop.test', '*']);
  const newer = gatewayListener('newer', 'exact', 'http', 80, 'a.shop.test');
  const isolated = bindListeners([older, newer], IDENTITY);
  assert.deepEqual(isolated.binds[0]!.listeners.map((l) => l.listener), ['gateway/default/newer/exact', 'gateway/default/older/any']);
  assert.deepEqual(isolated.listeners.find((l) => l.name === 'gateway/default/older/any')?.virtualHosts.map((v) => v.hostnames), [['*']]);
  // Ingress one-label and Gateway any-labels wildcards of one suffix are different router keys.
  const wild = bindListeners([ingressListener('http', 80, ['*.w.test']), gatewayListener('g', 'w', 'http', 80, '*.w.test')], IDENTITY);
  assert.deepEqual(wild.diagnostics, []);
});

const TWO_GATEWAYS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: v1
kind: Secret
metadata: {name: tls, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: "", tls.key: ""}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: plain, namespace: default, creationTimestamp: "2024-01-01T00:00:00Z", generation: 2}
spec:
  gatewayClassName: isthmus
  listeners: [{name: web, port: 8000, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: default, creationTimestamp: "2024-01-02T00:00:00Z", generation: 5}
spec:
  gatewayClassName: isthmus
  listeners:
  - {name: web, port: 8000, protocol: HTTP, hostname: other.test}
  - {name: alt, port: 9000, protocol: HTTP, hostname: other.test}
`;

function gatewayStatus(statuses: readonly { kind: string; name: string }[], name: string): GatewayObjectStatus {
  return statuses.find((s) => s.kind === 'Gateway' && s.name === name) as GatewayObjectStatus;
}

test('translate: a bind conflict between Gateways becomes Conflicted and Programmed False on the later listener', () => {
  // Gateway "other" declares port 9000 too; --port-map puts it on the same socket as port 8000,
  // where "plain" (older) already serves HTTP without a hostname: no conflict, one bind.
  const snapshot = snapshotOf(TWO_GATEWAYS, 'two.yaml');
  const same = translate(snapshot, { ingressClass: 'isthmus', ingressController: 'x', binds: { listenAddress: '0.0.0.0', portMap: new Map([[9000, 8000]]) } });
  // other/web and other/alt now have the same hostname on one bind: alt (declared later) conflicts.
  const other = gatewayStatus(same.statuses, 'other');
  const alt = other.status.listeners.find((l) => l.name === 'alt')!;
  assert.deepEqual(
    alt.conditions.filter((c) => c.type === 'Conflicted' || c.type === 'Programmed').map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
    [['Conflicted', 'True', 'HostnameConflict', 5], ['Programmed', 'False', 'Invalid', 5]],
  );
  const web = other.status.listeners.find((l) => l.name === 'web')!;
  assert.equal(web.conditions.find((c) => c.type === 'Conflicted')?.status, 'False');
  assert.equal(other.status.conditions.find((c) => c.type === 'Programmed')?.status, 'True', 'one listener still serves');
  assert.deepEqual(same.ir.binds.map((b) => [b.name, b.listeners.map((l) => l.listener)]).filter(([n]) => n === '0.0.0.0:8000'), [
    ['0.0.0.0:8000', ['gateway/default/other/web', 'gateway/default/plain/web']],
  ]);
  const diag = same.diagnostics.find((d) => d.code === 'ERR_LISTENER_CONFLICT');
  assert.equal(diag?.object?.name, 'other');
  assert.equal(diag?.path, 'spec.listeners[1].hostname');
});
