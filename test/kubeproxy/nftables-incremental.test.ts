// `kube-proxy apply` keeps Service ports and nftables parts between snapshots (ServicePortsMemo,
// NftModelMemo). These tests hold the shortcut to the long way: after every one of a seeded
// sequence of random changes to Services and EndpointSlices, the Service ports, the model and the
// partial diff built with the memos equal those built from scratch, and an unchanged Service's
// port objects are reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffCompactTable } from '../../src/kubeproxy/nftables-compact-diff.js';
import { buildCompactModel, NftCompactMemo, type NftCompactTable } from '../../src/kubeproxy/nftables-compact-model.js';
import { diffNftTable, type NftTableDiff } from '../../src/kubeproxy/nftables-diff.js';
import { buildNftablesModel, NftModelMemo, type NftablesOptions, type NftTableModel } from '../../src/kubeproxy/nftables-model.js';
import { collectServicePorts, ServicePortsMemo } from '../../src/kubeproxy/service-ports.js';
import type { Resource } from '../../src/resources/resource.js';
import { indexResources } from '../../src/store/resource-index.js';
import { snapshotOf } from '../translate/golden-harness.js';

/** Deterministic: the same seed, the same sequence (mulberry32). */
function random(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function parseOne(yaml: string): Resource {
  const snapshot = snapshotOf(yaml, 'test.yaml');
  assert.deepEqual(snapshot.diagnostics, [], yaml);
  assert.equal(snapshot.resources.length, 1);
  return snapshot.resources[0]!;
}

/** A random Service `i`: type, node port (some shared, so owners are contested), policies, affinity. */
function serviceYaml(i: number, pick: (n: number) => number): string {
  const type = ['ClusterIP', 'NodePort', 'LoadBalancer'][pick(3)]!;
  const external = type !== 'ClusterIP';
  const nodePort = external ? `, nodePort: ${30000 + pick(6)}` : '';
  const extra = [
    external && pick(2) === 0 ? 'externalTrafficPolicy: Local' : '',
    pick(4) === 0 ? 'internalTrafficPolicy: Local' : '',
    pick(3) === 0 ? `sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: ${60 + pick(2)}}}` : '',
    pick(4) === 0 ? `externalIPs: [192.0.2.${pick(4)}]` : '',
    type === 'LoadBalancer' && pick(2) === 0 ? 'loadBalancerSourceRanges: [203.0.113.0/24]' : '',
  ].filter((x) => x !== '');
  const status = type === 'LoadBalancer' ? `status: {loadBalancer: {ingress: [{ip: 198.51.100.${i}}]}}\n` : '';
  return `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: ns}
spec: {type: ${type}, clusterIP: 10.96.0.${i + 1}, ${extra.map((x) => `${x}, `).join('')}ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080${nodePort}}]}
${status}---
`;
}

/** A random slice of Service `i`: 0-4 endpoints, some not ready, some terminating, some on this node. */
function sliceYaml(i: number, pick: (n: number) => number): string {
  const endpoints = Array.from({ length: pick(5) }, () => {
    const ready = pick(4) !== 0;
    const conditions = ready ? '{ready: true}' : `{ready: false, serving: ${pick(2) === 0}, terminating: true}`;
    return `{addresses: [10.244.${i}.${1 + pick(8)}], conditions: ${conditions}${pick(2) === 0 ? ', nodeName: node-a' : ''}}`;
  });
  // Duplicate addresses are possible, as in a real slice being rewritten; both paths see the same.
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-${i}-abc, namespace: ns, labels: {kubernetes.io/service-name: svc-${i}}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [${endpoints.join(', ')}]
---
`;
}

const withoutParts = (m: NftTableModel) => ({ ...m, parts: undefined });
/** The model as one part naming everything: its diff against another such model looks at every name (the long way). */
const whole = (m: NftTableModel): NftTableModel => ({
  ...m,
  parts: new Set([{ chains: m.chains, elements: [...m.elements].flatMap(([c, es]) => [...es.values()].map((e) => [c, e] as const)), affinitySets: m.affinitySets }]),
});
const sorted = (d: NftTableDiff) => ({ ...d, commands: [...d.commands].sort(), staleChains: [...d.staleChains].sort() });

for (const [name, options] of [
  ['no node facts', {}],
  ['node name, node IP and pod CIDR', { nodeName: 'node-a', nodeIPs: ['192.168.0.10'], clusterCIDRs: ['10.244.0.0/16'] }],
] as const satisfies readonly (readonly [string, NftablesOptions])[]) {
  test(`incremental Service ports, nftables model and diff equal a build from scratch, over random changes (${name})`, () => {
    const pick = random(name.length * 7919);
    const world = new Map<string, Resource>();
    const SERVICES = 12;
    for (let i = 0; i < SERVICES; i++) {
      world.set(`svc-${i}`, parseOne(serviceYaml(i, pick)));
      world.set(`slice-${i}`, parseOne(sliceYaml(i, pick)));
    }
    const portsMemo = new ServicePortsMemo();
    const modelMemo = new NftModelMemo();
    let prevFast: NftTableModel[] | undefined;
    let prevSlow: NftTableModel[] | undefined;
    let prevPorts = new Map<string, unknown>();
    let reused = 0;
    for (let step = 0; step < 150; step++) {
      const changed = pick(SERVICES);
      const what = pick(10);
      // Mostly one slice (the common change), sometimes the Service, its removal or its return.
      if (what < 6) world.set(`slice-${changed}`, parseOne(sliceYaml(changed, pick)));
      else if (what < 8) world.set(`svc-${changed}`, parseOne(serviceYaml(changed, pick)));
      else if (what === 8) world.delete(pick(2) === 0 ? `svc-${changed}` : `slice-${changed}`);
      else world.set(`svc-${changed}`, parseOne(serviceYaml(changed, pick)));
      const resources = [...world.values()];
      const fast = collectServicePorts(indexResources(resources), { memo: portsMemo });
      const slow = collectServicePorts(indexResources(resources));
      assert.deepEqual(fast, slow, `step ${step}: Service ports`);
      // Every Service but the one changed (and those whose node port changed hands) keeps its objects.
      for (const p of fast.ports) if (prevPorts.get(p.servicePortName) === p) reused++;
      prevPorts = new Map(fast.ports.map((p) => [p.servicePortName, p]));

      const fastModel = buildNftablesModel(fast.ports, options, modelMemo);
      const slowModel = buildNftablesModel(slow.ports, options);
      assert.deepEqual(fastModel.map(withoutParts), slowModel.map(withoutParts), `step ${step}: model`);
      if (prevFast !== undefined && prevSlow !== undefined) {
        for (let f = 0; f < fastModel.length; f++) {
          const a = diffNftTable(prevFast[f]!, fastModel[f]!);
          const b = diffNftTable(whole(prevSlow[f]!), whole(slowModel[f]!));
          assert.deepEqual(sorted(a), sorted(b), `step ${step}: diff`);
        }
      }
      prevFast = fastModel;
      prevSlow = slowModel;
    }
    // Not vacuous: most ports were handed over as the same objects, so the parts were reused.
    assert.ok(reused > 150 * (SERVICES - 3), `only ${reused} ports reused over 150 steps`);
  });
}

test('a changed EndpointSlice rebuilds only its Service\'s ports', () => {
  const pick = random(42);
  const resources = Array.from({ length: 6 }, (_, i) => [parseOne(serviceYaml(i, pick)), parseOne(sliceYaml(i, pick))]).flat();
  const memo = new ServicePortsMemo();
  const first = collectServicePorts(indexResources(resources), { memo }).ports;
  resources[5] = parseOne(sliceYaml(2, pick));
  const second = collectServicePorts(indexResources(resources), { memo }).ports;
  for (const [i, p] of second.entries()) {
    if (p.service === 'svc-2') assert.notEqual(p, first[i], 'the changed Service is rebuilt');
    else assert.equal(p, first[i], `${p.service} is reused`);
  }
});

/** The compact table as one part naming every element: a diff against another looks at every key. */
const wholeCompact = (m: NftCompactTable): NftCompactTable => ({
  family: m.family, serviceCIDRs: m.serviceCIDRs, podCIDRs: m.podCIDRs, mark: m.mark, counts: m.counts,
  fallback: whole(m.fallback), fallbackPorts: m.fallbackPorts,
  elements: new Map([...m.elements].map(([c, es]) => [c, new Map(es)])),
  parts: new Set([{ count: undefined, elements: [...m.elements].flatMap(([c, es]) => [...es.values()].map((e) => [c, e] as const)) }]),
});
const entries = (m: NftCompactTable) => [...m.elements].map(([c, es]) => [c, [...es].sort(([a], [b]) => (a < b ? -1 : 1))]);

test('compact layout: the patched merge and its recorded changes equal a fresh merge and a diff of every key, over random changes', () => {
  const pick = random(20261203);
  const world = new Map<string, Resource>();
  const SERVICES = 12;
  for (let i = 0; i < SERVICES; i++) {
    world.set(`svc-${i}`, parseOne(serviceYaml(i, pick)));
    world.set(`slice-${i}`, parseOne(sliceYaml(i, pick)));
  }
  const options: NftablesOptions = { nodeName: 'node-a', nodeIPs: ['192.168.0.10'], clusterCIDRs: ['10.244.0.0/16'] };
  const portsMemo = new ServicePortsMemo();
  const memo = new NftCompactMemo();
  let prevFast: NftCompactTable[] | undefined;
  let prevSlow: NftCompactTable[] | undefined;
  const installed = new Set<number>();
  let patched = 0;
  let fallbackChanged = 0;
  for (let step = 0; step < 150; step++) {
    const changed = pick(SERVICES);
    const what = pick(10);
    if (what < 6) world.set(`slice-${changed}`, parseOne(sliceYaml(changed, pick)));
    else if (what < 8) world.set(`svc-${changed}`, parseOne(serviceYaml(changed, pick)));
    else if (what === 8) world.delete(pick(2) === 0 ? `svc-${changed}` : `slice-${changed}`);
    else world.set(`svc-${changed}`, parseOne(serviceYaml(changed, pick)));
    const ports = collectServicePorts(indexResources([...world.values()]), { memo: portsMemo }).ports;
    const fast = buildCompactModel(ports, options, memo);
    const slow = buildCompactModel(ports, options);
    assert.deepEqual(fast.map(entries), slow.map(entries), `step ${step}: elements`);
    assert.deepEqual(fast.map((t) => [...t.counts].sort()), slow.map((t) => [...t.counts].sort()), `step ${step}: counts`);
    assert.deepEqual(fast.map((t) => withoutParts(t.fallback)), slow.map((t) => withoutParts(t.fallback)), `step ${step}: kube-proxy's chains`);
    if (prevFast !== undefined && prevSlow !== undefined) {
      for (let f = 0; f < fast.length; f++) {
        if (fast[f]!.delta !== undefined) patched++;
        const a = diffCompactTable(prevFast[f]!, fast[f]!, installed);
        const b = diffCompactTable(wholeCompact(prevSlow[f]!), wholeCompact(slow[f]!), installed);
        assert.deepEqual([...a.commands].sort(), [...b.commands].sort(), `step ${step}: diff`);
        if (a.fallback !== '') fallbackChanged++;
      }
    }
    for (const t of fast) for (const n of t.counts) installed.add(n);
    prevFast = fast;
    prevSlow = slow;
  }
  // Not vacuous: the changes came from patches, not fresh merges.
  assert.ok(patched > 100, `only ${patched} of 149 builds patched`);
  // Affinity and Local policies are drawn too: Services moved in and out of kube-proxy's chains.
  assert.ok(fallbackChanged > 20, `kube-proxy's chains changed in only ${fallbackChanged} steps`);
});
