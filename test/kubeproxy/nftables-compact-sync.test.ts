// The compact layout against the kernel: after any sequence of partial syncs the table holds what
// a full load of the same model gives (`nft -j`, handles aside; the chains of endpoint counts no
// longer used aside, which partial syncs keep);
// a one-endpoint change reaches nft as element commands only; a failed sync leaves the kernel as
// it was and the next is full. Services the layout does not model keep kube-proxy's chains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCompactModel, isCompactModelled, NftCompactMemo } from '../../src/kubeproxy/nftables-compact-model.js';
import { renderCompactTable } from '../../src/kubeproxy/nftables-compact-render.js';
import { NftCompactSync } from '../../src/kubeproxy/nftables-compact-sync.js';
import type { NftablesOptions } from '../../src/kubeproxy/nftables-model.js';
import { createNftRunner } from '../../src/kubeproxy/nftables-sync.js';
import type { KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { parseKubeProxyApplyArgs } from '../../src/cli/kube-proxy-apply.js';
import { explainConnection } from '../../src/explain/explain-kube-proxy.js';
import { kubeProxyChainNames } from '../../src/kubeproxy/chain-names.js';
import { checkScript, portsOfFixture, requireNft, run, scratchNamespace, tableState, withEndpoints } from './nftables-lab.js';

const OPTIONS: NftablesOptions = { nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'], serviceCIDRs: ['10.96.0.0/16'], nodeName: 'node-a' };



test('compact layout: partial syncs end where a full load ends; a one-endpoint change is element commands only', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const live = await scratchNamespace(t, 'nftcmp-live');
  const fresh = await scratchNamespace(t, 'nftcmp-fresh');
  const scripts: string[] = [];
  const runLive = createNftRunner(live);
  const log: string[] = [];
  const sync = new NftCompactSync({ run: (s) => (scripts.push(s), runLive(s)), log: (l) => log.push(l), staleChainDelayMs: 10 });
  t.after(() => sync.close());
  const every = portsOfFixture('every-feature.yaml');
  const two = portsOfFixture('nodeport-two-pods.yaml');
  const steps: [string, KpServicePort[]][] = [
    ['start', [...two, ...every]],
    ['one endpoint replaced', [...withEndpoints(two, 'web', ['10.244.1.5', '10.244.9.9']), ...every]],
    ['one endpoint added (a new count)', [...withEndpoints(two, 'web', ['10.244.1.5', '10.244.9.9', '10.244.9.10']), ...every]],
    // Into kube-proxy's chains and back: its keys in service-ips change hands within one transaction.
    ['web gains ClientIP affinity', [...withEndpoints(two, 'web', ['10.244.1.5', '10.244.9.9', '10.244.9.10']).map((p) => (p.service === 'web' ? { ...p, sessionAffinity: { kind: 'ClientIP' as const, timeoutSeconds: 60 } } : p)), ...every]],
    ['web loses it', [...withEndpoints(two, 'web', ['10.244.1.5', '10.244.9.9']), ...every]],
    ['no endpoints', [...withEndpoints(two, 'web', []), ...every]],
    ['Services gone, an IPv6 node port moved', [...two, ...every.filter((p) => p.service !== 'internal').map((p) => (p.service === 'dual' && p.nodePort !== undefined ? { ...p, nodePort: p.nodePort + 1 } : p))]],
  ];
  const memo = new NftCompactMemo();
  const counts = new Set<number>();
  for (const [i, [what, ports]] of steps.entries()) {
    const tables = buildCompactModel(ports, OPTIONS, memo);
    for (const table of tables) for (const n of table.counts) counts.add(n);
    const before = scripts.length;
    const result = await sync.sync(tables);
    assert.equal(result.ok, true, `${what}: ${result.summary}`);
    assert.equal(result.kind, i === 0 ? 'full' : 'partial', what);
    if (what === 'one endpoint replaced') {
      // The whole transaction nft saw: delete and add of the changed index and the hairpin pair.
      assert.deepEqual(scripts.slice(before).join('').split('\n').filter((l) => l !== '').sort(), [
        'add element ip kube-proxy hairpin { 10.244.9.9 . 10.244.9.9 }',
        'add element ip kube-proxy nodeport-endpoints-tcp { 30080 . 1 : 10.244.9.9 . 8080 }',
        'add element ip kube-proxy service-endpoints-tcp { 10.96.0.10 . 80 . 1 : 10.244.9.9 . 8080 }',
        'delete element ip kube-proxy hairpin { 10.244.2.7 . 10.244.2.7 }',
        'delete element ip kube-proxy nodeport-endpoints-tcp { 30080 . 1 }',
        'delete element ip kube-proxy service-endpoints-tcp { 10.96.0.10 . 80 . 1 }',
      ]);
    } else if (i > 0 && !what.startsWith('web ')) {
      assert.ok(scripts.slice(before).join('').split('\n').every((l) => l === '' || /^(add|delete) element |^add (chain|rule) ip6? kube-proxy (cluster|external|nodeport)-\d+\b/.test(l)), `${what}: ${scripts.slice(before).join('')}`);
    }
    // Let the flushed chains be deleted, then compare with a fresh full load.
    await new Promise((r) => setTimeout(r, 300));
    await run('ip', ['netns', 'exec', fresh, 'nft', 'flush', 'ruleset']);
    await createNftRunner(fresh)(tables.map(renderCompactTable).join(''));
    // Partial syncs keep the chains of counts no longer used; the fresh load has only those in use.
    const inUse = new Set(tables.flatMap((table) => [...table.counts].flatMap((n) => [`cluster-${n}`, `external-${n}`, `nodeport-${n}`])));
    const unused = (name: string) => /^(cluster|external|nodeport)-\d+$/.test(name) && !inUse.has(name);
    assert.deepEqual(await tableState(live, unused), await tableState(fresh), `${what}: ${log.join('\n')}`);
  }
  assert.ok(counts.has(3), 'a step used a new endpoint count');
  // web's kube-proxy chains, flushed when it lost its affinity, were deleted a moment later.
  assert.ok(log.some((l) => /deleted \d+ stale chains?/.test(l)), log.join('\n'));
});

test('compact layout: a failed sync changes nothing in the kernel, and the next sync is full', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const ns = await scratchNamespace(t, 'nftcmp-fail');
  const real = createNftRunner(ns);
  let calls = 0;
  const log: string[] = [];
  const sync = new NftCompactSync({ run: (script) => real(++calls === 2 ? `${script}add rule ip kube-proxy services goto no-such-chain\n` : script), log: (l) => log.push(l) });
  const two = portsOfFixture('nodeport-two-pods.yaml');
  assert.equal((await sync.sync(buildCompactModel(two, OPTIONS))).ok, true);
  const before = await tableState(ns);
  const failed = await sync.sync(buildCompactModel(withEndpoints(two, 'web', ['10.244.9.9']), OPTIONS));
  assert.deepEqual([failed.kind, failed.ok], ['partial', false]);
  assert.deepEqual(await tableState(ns), before, 'one transaction: nothing of the failed sync was applied');
  const next = await sync.sync(buildCompactModel(withEndpoints(two, 'web', ['10.244.9.9']), OPTIONS));
  assert.deepEqual([next.kind, next.ok], ['full', true]);
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'map', 'ip', 'kube-proxy', 'service-endpoints-tcp']);
  assert.match(stdout, /10\.96\.0\.10 \. 80 \. 0 : 10\.244\.9\.9 \. 8080/);
  assert.match(log.join('\n'), /nftables sync 2 \(partial\) failed: .*no-such-chain/s);
});

test('compact layout: Services it does not model get kube-proxy\'s chains in the same table; the script passes nft -c', async (t) => {
  await requireNft();
  const ports = portsOfFixture('every-feature.yaml');
  const tables = buildCompactModel(ports, OPTIONS);
  const ip = tables.find((x) => x.family === 'ip')!;
  // edge/lb (affinity, Local, source ranges) and edge/internal (internalTrafficPolicy Local).
  // edge/internal's endpoint is on another node: kube-proxy drops its traffic, with no chain.
  assert.deepEqual([...new Set([...ip.fallback.chains.keys()].map((n) => /-(edge\/\w+)\//.exec(n)?.[1]))], ['edge/lb']);
  assert.deepEqual([...ip.fallback.elements.get('no-endpoint-services')!.values()].map((e) => [e.comment, e.value]), [['edge/internal', 'drop']]);
  assert.ok(ip.fallback.affinitySets.size > 0, 'the affinity Service keeps its affinity sets');
  assert.deepEqual(ports.filter((sp) => !isCompactModelled(sp)).map((sp) => sp.service).sort(), ['internal', 'lb']);
  // Their addresses are kube-proxy's elements, not the compact maps'.
  assert.match(ip.fallback.elements.get('service-ips')!.get('1.2.3.4 . tcp . 443')!.value!, /^goto external-/);
  for (const table of tables) for (const part of table.parts) for (const [, e] of part.elements) assert.doesNotMatch(e.key, /^(1\.2\.3\.4|10\.96\.1\.10|192\.168\.99\.22) /, e.key);
  const ns = await scratchNamespace(t, 'nftcmp-check');
  assert.equal(await checkScript(ns, tables.map(renderCompactTable).join('')), '');
});

test('kube-proxy apply --layout: compact or kube-proxy, nftables only', () => {
  assert.equal(parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x']).layout, 'kube-proxy');
  assert.equal(parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x', '--layout', 'compact']).layout, 'compact');
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x', '--layout', 'flat']), /--layout: expected kube-proxy or compact, got "flat"/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'iptables', '--config', 'x', '--layout', 'compact']), /--layout: nftables mode only/);
});

test('compact layout: `isthmus explain` names the endpoints, in the order and with the 1/N shares, that the maps hold', () => {
  const ports = [...portsOfFixture('nodeport-two-pods.yaml'), ...portsOfFixture('every-feature.yaml')];
  const tables = buildCompactModel(ports, OPTIONS);
  let checked = 0;
  for (const table of tables) {
    for (const sp of ports) {
      if (sp.clusterIP === undefined || (sp.family === 'IPv4') !== (table.family === 'ip')) continue;
      const proto = sp.protocol.toLowerCase();
      const map = table.elements.get(`service-endpoints-${proto}` as 'service-endpoints-tcp')!;
      const held: string[] = [];
      for (let i = 0; map.has(`${sp.clusterIP} . ${sp.port} . ${i}`); i++) held.push(map.get(`${sp.clusterIP} . ${sp.port} . ${i}`)!.value!);
      if (held.length === 0) continue; // no endpoints, or a port the layout does not model
      const explained = explainConnection(ports, { address: sp.clusterIP, port: sp.port, protocol: sp.protocol, nodeName: 'node-a' }, kubeProxyChainNames);
      assert.deepEqual(explained.endpoints.map((e) => `${e.address} . ${e.port}`), held, sp.servicePortName);
      // numgen random mod N: each index 1/N, the share explain reports for each endpoint.
      const verdict = table.elements.get('service-ips')!.get(`${sp.clusterIP} . ${proto} . ${sp.port}`)!.value;
      assert.equal(verdict, `goto cluster-${held.length}`);
      for (const detail of explained.steps.at(-1)!.details.filter((d) => d.includes('overall'))) assert.match(detail, new RegExp(`overall ${(100 / held.length).toFixed(1)} %`));
      checked++;
    }
  }
  assert.ok(checked >= 3, `only ${checked} Service ports compared`);
});
