// NftablesSync against the kernel: after any sequence of partial syncs, the table holds exactly
// what a full load of the same model gives (compared as `nft -j` JSON, handles and creation
// order aside); a failed sync leaves the kernel as it was and the next one is full. And the
// command itself: usage errors, --once, a namespace that does not exist, a broken file held back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildNftablesModel, NftModelMemo, type NftablesOptions } from '../../src/kubeproxy/nftables-model.js';
import { createNftRunner, NftablesSync } from '../../src/kubeproxy/nftables-sync.js';
import { renderTable } from '../../src/kubeproxy/nftables-render.js';
import type { KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { parseKubeProxyApplyArgs } from '../../src/cli/kube-proxy-apply.js';
import { configDir, repoRoot } from '../e2e/cli-harness.js';
import { portsOfFixture, requireNft, run, scratchNamespace, tableState, withEndpoints } from './nftables-lab.js';

const OPTIONS: NftablesOptions = { nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'], serviceCIDRs: ['10.96.0.0/16'], nodeName: 'node-a' };
// The real command, as a user runs it: bin/isthmus.js kube-proxy apply ...
const APPLY = path.join(repoRoot(), 'bin', 'isthmus.js');

test('partial syncs end where a full load of the same model ends', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const live = await scratchNamespace(t, 'nftsync-live');
  const fresh = await scratchNamespace(t, 'nftsync-fresh');
  const log: string[] = [];
  const sync = new NftablesSync({ run: createNftRunner(live), log: (l) => log.push(l), staleChainDelayMs: 10 });
  t.after(() => sync.close());
  const every = portsOfFixture('every-feature.yaml');
  const steps: KpServicePort[][] = [
    every,
    withEndpoints(every, 'lb', ['10.244.1.5', '10.244.1.6', '10.244.2.7']), // an affinity set and chains added
    withEndpoints(every, 'lb', []), // no endpoints: reject elements, chains and sets go
    every.filter((p) => p.service !== 'internal').map((p) => (p.service === 'dual' && p.nodePort !== undefined ? { ...p, nodePort: p.nodePort + 1 } : p)),
    [...portsOfFixture('nodeport-two-pods.yaml'), ...every.filter((p) => p.family === 'IPv6')],
  ];
  // As `kube-proxy apply` builds them: unchanged ports are the same objects, their parts reused.
  const memo = new NftModelMemo();
  for (const [i, ports] of steps.entries()) {
    const models = buildNftablesModel(ports, OPTIONS, memo);
    const result = await sync.sync(models);
    assert.equal(result.ok, true, `step ${i}: ${result.summary}`);
    assert.equal(result.kind, i === 0 ? 'full' : 'partial', `step ${i}`);
    // Let the flushed chains be deleted, then compare with a fresh full load.
    await new Promise((r) => setTimeout(r, 300));
    await run('ip', ['netns', 'exec', fresh, 'nft', 'flush', 'ruleset']);
    await createNftRunner(fresh)(models.map(renderTable).join(''));
    assert.deepEqual(await tableState(live), await tableState(fresh), `step ${i}: ${log.join('\n')}`);
  }
  assert.ok(log.some((l) => /deleted \d+ stale chains?/.test(l)), log.join('\n'));
});

test('a failed sync changes nothing in the kernel, and the next sync is full', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const ns = await scratchNamespace(t, 'nftsync-fail');
  const real = createNftRunner(ns);
  let calls = 0;
  // The second transaction reaches nft with a command it refuses, as a kernel or nft error would.
  const log: string[] = [];
  const sync = new NftablesSync({ run: (script) => real(++calls === 2 ? `${script}add rule ip kube-proxy services goto no-such-chain\n` : script), log: (l) => log.push(l), staleChainDelayMs: 10 });
  t.after(() => sync.close());
  const two = portsOfFixture('nodeport-two-pods.yaml');
  assert.equal((await sync.sync(buildNftablesModel(two, OPTIONS))).ok, true);
  const before = await tableState(ns);
  const failed = await sync.sync(buildNftablesModel(withEndpoints(two, 'web', ['10.244.9.9']), OPTIONS));
  assert.deepEqual([failed.kind, failed.ok], ['partial', false]);
  assert.deepEqual(await tableState(ns), before, 'one transaction: nothing of the failed sync was applied');
  const next = await sync.sync(buildNftablesModel(withEndpoints(two, 'web', ['10.244.9.9']), OPTIONS));
  assert.deepEqual([next.kind, next.ok], ['full', true]);
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'kube-proxy']);
  assert.match(stdout, /dnat to 10\.244\.9\.9:8080/);
  assert.match(log.join('\n'), /nftables sync 2 \(partial\) failed: .*no-such-chain/s);
});

test('kube-proxy apply: usage errors name the flag', () => {
  assert.throws(() => parseKubeProxyApplyArgs(['--config', 'x']), /--mode: expected nftables/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'ipvs', '--config', 'x']), /--mode: expected nftables or iptables, got "ipvs"/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'nftables']), /--config DIR is required/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x', '--node-ip', 'node-a']), /--node-ip: expected an IP address/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x', '--cluster-cidr', '10.0.0.0']), /--cluster-cidr: expected ADDRESS\/PREFIX/);
  const ok = parseKubeProxyApplyArgs(['kube-proxy', 'apply', '--mode', 'nftables', '--config', 'x', '--netns', 'n', '--node-ip', '10.0.0.1', '--node-name', 'a']);
  assert.deepEqual([ok.dirs, ok.netns, ok.nft.nodeIPs, ok.nft.nodeName, ok.once], [['x'], 'n', ['10.0.0.1'], 'a', false]);
});

test('kube-proxy apply --once programs the namespace and exits 0; a namespace that does not exist exits 1', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const ns = await scratchNamespace(t, 'nftonce');
  const dir = configDir(t, { 'svc.yaml': readFileSync(path.join(repoRoot(), 'test', 'kubeproxy', 'fixtures-nft', 'nodeport-two-pods.yaml'), 'utf8') });
  const exec = promisify(execFile);
  const ok = await exec(process.execPath, [APPLY, 'kube-proxy', 'apply', '--mode', 'nftables', '--config', dir, '--netns', ns, '--node-ip', '10.99.1.1', '--once']);
  assert.match(ok.stdout, /nftables sync 1 \(full\): 1 table, 4 service chains, 6 elements/);
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'map', 'ip', 'kube-proxy', 'service-nodeports']);
  assert.match(stdout, /tcp \. 30080 : goto external-KHN6ECMT-shop\/web\/tcp\/http/);
  const missing = await exec(process.execPath, [APPLY, 'kube-proxy', 'apply', '--mode', 'nftables', '--config', dir, '--netns', `${ns}-missing`, '--once']).then(() => assert.fail('expected exit 1'), (err: { code?: number; stdout?: string; stderr?: string }) => err);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stdout ?? '', /nftables sync 1 \(full\) failed/, missing.stderr);
  const usage = await exec(process.execPath, [APPLY, 'kube-proxy', 'apply', '--mode', 'ipvs', '--config', dir]).then(() => assert.fail('expected exit 2'), (err: { code?: number; stderr?: string }) => err);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr ?? '', /--mode: expected nftables/);
});

test('kube-proxy apply: a file that does not parse leaves the applied rules in place; the fix is synced', { timeout: 60_000 }, async (t) => {
  await requireNft();
  const ns = await scratchNamespace(t, 'nfthold');
  const dir = configDir(t, { 'svc.yaml': readFileSync(path.join(repoRoot(), 'test', 'kubeproxy', 'fixtures-nft', 'nodeport-two-pods.yaml'), 'utf8') });
  const apply = spawn(process.execPath, [APPLY, 'kube-proxy', 'apply', '--mode', 'nftables', '--config', dir, '--netns', ns, '--node-ip', '10.99.1.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  apply.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  apply.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  t.after(async () => {
    if (apply.exitCode !== null) return;
    const exited = new Promise((r) => apply.once('exit', r));
    apply.kill('SIGTERM');
    await exited;
  });
  const waitLog = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(log, re);
  };
  await waitLog(/nftables sync 1 \(full\)/);
  const before = await tableState(ns);
  writeFileSync(path.join(dir, 'broken.yaml'), 'kind: Service\nmetadata: [unclosed\n');
  await waitLog(/generation 2 has load errors; the rules applied last stay \[ERR_CONFIG_REJECTED\]/);
  assert.match(log, /ERR_CONFIG_YAML_PARSE/);
  assert.deepEqual(await tableState(ns), before);
  writeFileSync(path.join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: more, namespace: shop}\nspec: {clusterIP: 10.96.0.99, ports: [{port: 81}]}\n');
  await waitLog(/nftables sync 2 \(partial\): ip: 2 elements added\n/);
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'map', 'ip', 'kube-proxy', 'no-endpoint-services']);
  assert.match(stdout, /10\.96\.0\.99 \. tcp \. 81 comment "shop\/more" : goto reject-chain/);
  // SIGTERM: the command ends with 0 and the rules stay.
  const code = new Promise((r) => apply.once('exit', (c) => r(c)));
  apply.kill('SIGTERM');
  assert.equal(await code, 0);
  await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'kube-proxy']);
});
