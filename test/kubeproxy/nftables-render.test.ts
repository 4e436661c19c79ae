// kube-proxy's nftables mode, rendered: golden text for a NodePort Service with two pods, names
// as kube-proxy computes them, and every script accepted by the kernel (`nft -c -f` in a fresh
// network namespace, which checks without applying).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashAndTruncate } from '../../src/kubeproxy/nftables-names.js';
import { buildNftablesModel } from '../../src/kubeproxy/nftables-model.js';
import { diffNftTable, describeCounts } from '../../src/kubeproxy/nftables-diff.js';
import { renderNftables, type NftablesOptions } from '../../src/kubeproxy/nftables-render.js';
import { checkScript, FIXTURES, portsOfFixture, requireNft, scratchNamespace } from './nftables-lab.js';

const update = process.env.UPDATE_GOLDEN === '1';
const OPTIONS: NftablesOptions = { nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/16'], nodeName: 'node-a' };

test('chain names carry kube-proxy\'s hash (base32 of SHA-256), as in its own tests', () => {
  // pkg/proxy/nftables/proxier_test.go: service-ULMVA6XW-ns1/svc1/tcp/p80, endpoint-5OJB2KTY-...
  assert.equal(hashAndTruncate('ns1/svc1/tcp/p80'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(hashAndTruncate('ns1/svc1/tcp/p80__10.180.0.1/80'), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.equal(hashAndTruncate('ns5/svc5/tcp/p80__10.180.0.3/80'), 'GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
  assert.equal(hashAndTruncate('x'.repeat(200)).length, 112);
});

test('golden: a NodePort Service with two pods and a Service without endpoints', () => {
  const script = renderNftables(portsOfFixture('nodeport-two-pods.yaml'), OPTIONS);
  const golden = path.join(FIXTURES, 'nodeport-two-pods.nft');
  if (update) writeFileSync(golden, script);
  assert.equal(script, readFileSync(golden, 'utf8'));
  // The parts that carry the behaviour, said plainly so a golden rewrite cannot hide them.
  assert.match(script, /add element ip kube-proxy service-nodeports \{ tcp \. 30080 : goto external-KHN6ECMT-shop\/web\/tcp\/http \}/);
  assert.match(script, /numgen random mod 2 vmap \{ 0 : goto endpoint-\S+__10\.244\.1\.5\/8080 , 1 : goto endpoint-\S+__10\.244\.2\.7\/8080 \}/);
  assert.match(script, /no-endpoint-services \{ 10\.96\.0\.20 \. tcp \. 80 comment "shop\/empty" : goto reject-chain \}/);
});

test('a headless Service gets no rules at all, as kube-proxy skips it', () => {
  const ports = portsOfFixture('nodeport-two-pods.yaml');
  const web = ports.find((p) => p.service === 'web')!;
  const headless = { ...web, service: 'headless', servicePortName: 'shop/headless:http', type: 'ClusterIP' as const, clusterIP: undefined, nodePort: undefined };
  assert.equal(renderNftables([...ports, headless], OPTIONS), renderNftables(ports, OPTIONS));
});

test('the same input renders byte-identical text', () => {
  const ports = portsOfFixture('every-feature.yaml');
  assert.equal(renderNftables(ports, OPTIONS), renderNftables([...ports], { ...OPTIONS }));
});

test('every feature: Local policy, source ranges, affinity, dual-stack, terminating endpoints', () => {
  const script = renderNftables(portsOfFixture('every-feature.yaml'), { ...OPTIONS, nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'] });
  // externalTrafficPolicy Local: external traffic goes to the local chain, which has node-a's pod only.
  assert.match(script, /add rule ip kube-proxy external-(\S+)-edge\/lb\/tcp\/https goto local-\1-edge\/lb\/tcp\/https/);
  assert.match(script, /add rule ip kube-proxy local-\S+ numgen random mod 1 vmap \{ 0 : goto endpoint-\S+__10\.244\.1\.5\/8443 \}/);
  assert.match(script, /firewall-\S+ ip saddr != \{ 203\.0\.113\.0\/25 \} drop/);
  assert.match(script, /add set ip kube-proxy affinity-\S+__10\.244\.1\.5\/8443 \{ type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; \}/);
  assert.match(script, /update @affinity-\S+ \{ ip saddr \}/);
  assert.match(script, /add table ip6 kube-proxy/);
  assert.match(script, /meta l4proto udp dnat to \[fd00:10::5\]:5353/);
  // Only a terminating endpoint that still serves: kube-proxy uses it (KEP-1669).
  assert.match(script, /dnat to 10\.244\.3\.3:8080/);
  // internalTrafficPolicy Local and no local endpoint: dropped, not rejected (endpoints exist elsewhere).
  assert.match(script, /no-endpoint-services \{ 10\.96\.1\.30 \. tcp \. 80 comment "edge\/internal" : drop \}/);
  // IPv4 UDP port with no IPv4 endpoint: rejected.
  assert.match(script, /no-endpoint-services \{ 10\.96\.1\.20 \. udp \. 53 comment "edge\/dual:dns" : goto reject-chain \}/);
});

test('the diff between two models sends only what changed', () => {
  const ports = portsOfFixture('nodeport-two-pods.yaml');
  const [before] = buildNftablesModel(ports, OPTIONS);
  const web = ports.find((p) => p.service === 'web')!;
  const moved = ports.map((p) => (p === web ? { ...web, endpoints: [web.endpoints[0]!, { ...web.endpoints[1]!, address: '10.244.2.8' }] } : p));
  const [after] = buildNftablesModel(moved, OPTIONS);
  const diff = diffNftTable(before!, after!);
  assert.equal(describeCounts(diff.counts), '1 chain added, 1 chain rewritten, 1 chain removed');
  assert.deepEqual(diff.staleChains.map((c) => c.replace(/-[A-Z2-7]{8}-/, '-HASH-')), ['endpoint-HASH-shop/web/tcp/http__10.244.2.7/8080']);
  assert.equal(describeCounts(diffNftTable(after!, after!).counts), 'no change');
});

test('nft -c accepts every rendered script (a fresh network namespace)', async (t) => {
  await requireNft();
  const ns = await scratchNamespace(t, 'nftc');
  const cases: [string, NftablesOptions][] = [
    ['nodeport-two-pods.yaml', OPTIONS],
    ['every-feature.yaml', { ...OPTIONS, nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'], serviceCIDRs: ['10.96.0.0/16', 'fd00:10:96::/112'] }],
    ['every-feature.yaml', {}],
  ];
  for (const [i, [fixture, options]] of cases.entries()) {
    assert.equal(await checkScript(ns, renderNftables(portsOfFixture(fixture), options)), '', `${fixture} case ${i}`);
  }
  // And the check can fail: a goto to a chain that does not exist is refused.
  const bad = `${renderNftables(portsOfFixture('nodeport-two-pods.yaml'), OPTIONS)}add rule ip kube-proxy services goto no-such-chain\n`;
  assert.match(await checkScript(ns, bad), /no-such-chain|No such file/);
});

test('endpoints are categorized as kube-proxy\'s CategorizeEndpoints does: both policies Local still short-circuit to a cluster chain; one chain per ip:port, sorted', () => {
  const web = portsOfFixture('nodeport-two-pods.yaml').find((p) => p.service === 'web' && p.family === 'IPv4')!;
  const ep = (address: string, nodeName?: string) => ({ address, port: 8080, ready: true, serving: true, terminating: false, ...(nodeName !== undefined ? { nodeName } : {}) });
  // Both policies Local, one pod here and one elsewhere; .12 listed twice (two slices), out of order.
  const both = { ...web, externalTrafficPolicy: 'Local' as const, internalTrafficPolicy: 'Local' as const, endpoints: [ep('10.244.0.12'), ep('10.244.0.11', 'node-a'), ep('10.244.0.12')] };
  const [model] = buildNftablesModel([both], OPTIONS);
  const chains = [...model!.chains.keys()];
  const named = (prefix: string) => chains.filter((c) => c.startsWith(prefix));
  // UsesClusterEndpoints is true for an externally accessible port whatever its policies: the
  // external chain sends pods and the node itself to the cluster chain, which has both pods.
  assert.equal(named('service-').length, 1, chains.join('\n'));
  const external = model!.chains.get(named('external-')[0]!)!.join('\n');
  assert.match(external, new RegExp(`fib saddr type local goto ${named('service-')[0]!.replace(/[/.]/g, '\\$&')} comment "short-circuit local traffic"`));
  // The duplicate .12 is one endpoint chain with its rules once, and the pick lists .11 before .12.
  const twelve = named('endpoint-').filter((c) => c.includes('__10.244.0.12/'));
  assert.equal(twelve.length, 1);
  assert.equal(model!.chains.get(twelve[0]!)!.length, 2);
  const pick = model!.chains.get(named('service-')[0]!)!.at(-1)!;
  assert.ok(pick.indexOf('10.244.0.11') < pick.indexOf('10.244.0.12') && pick.startsWith('numgen random mod 2 '), pick);
});
