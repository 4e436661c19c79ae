// IptablesSync against the kernel (iptables-restore, nf_tables backend, in namespaces this test
// creates): after any sequence of partial syncs, iptables-save shows exactly the rules a full
// sync of the same rendering gives (compared as rule sets: chains by name, rules in order per
// chain, counters aside); a partial sync's restore input holds the fixed chains and only the
// changed Service's chains; Service chains left from an earlier run are deleted by the first sync
// while other chains stay; a failed sync is followed by a full one. And the command: its flags,
// --once, and exit 1 for a namespace that does not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseKubeProxyApplyArgs } from '../../src/cli/kube-proxy-apply.js';
import { renderIptables, type IptablesRenderOptions } from '../../src/kubeproxy/iptables-render.js';
import { createCommandRunner, IptablesSync } from '../../src/kubeproxy/iptables-sync.js';
import { isServiceChainName } from '../../src/kubeproxy/iptables-sync-plan.js';
import { serviceChainName } from '../../src/kubeproxy/chain-names.js';
import type { KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { configDir, repoRoot } from '../e2e/cli-harness.js';
import { FIXTURES, portsOfFixture, requireIptables, run, scratchNamespace, withEndpoints } from './nftables-lab.js';

const OPTIONS: IptablesRenderOptions = { nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.244.0.0/16', 'fd00:10::/64'], nodeName: 'node-a' };
// A node without IPv6: no ip6tables rules are rendered at all.
const OPTIONS_V4: IptablesRenderOptions = { nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.244.0.0/16'], nodeName: 'node-a' };

/** Both families' nat and filter tables as data: chain → rules in order (counters and comments out). */
async function ruleState(ns: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    for (const table of ['nat', 'filter']) {
      const { stdout } = await run('ip', ['netns', 'exec', ns, tool, '-t', table]);
      for (const line of stdout.split('\n')) {
        if (line.startsWith(':')) out[`${tool} ${table} ${line.slice(1).split(' ')[0]}`] ??= [];
        else if (line.startsWith('-A ')) (out[`${tool} ${table} ${line.split(' ')[1]}`] ??= []).push(line);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Restores empty tables (without --noflush): every rule and user chain of both families goes. */
async function wipe(ns: string): Promise<void> {
  const empty = createCommandRunner(ns);
  for (const tool of ['iptables-restore', 'ip6tables-restore']) {
    const r = await empty([tool], '*nat\nCOMMIT\n*filter\nCOMMIT\n');
    assert.equal(r.code, 0, r.stderr);
  }
}

/** The chain names an iptables-restore input declares, per table. */
function declared(input: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let table = '';
  for (const line of input.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) (out[table] ??= []).push(line.slice(1).split(' ')[0]!);
  }
  return out;
}

test('partial iptables syncs end where a full sync of the same rendering ends', { timeout: 90_000 }, async (t) => {
  await requireIptables();
  const live = await scratchNamespace(t, 'iptsync-live');
  const fresh = await scratchNamespace(t, 'iptsync-fresh');
  const log: string[] = [];
  const sync = new IptablesSync({ run: createCommandRunner(live), log: (l) => log.push(l) });
  const every = portsOfFixture('every-feature.yaml');
  const steps: KpServicePort[][] = [
    every,
    withEndpoints(every, 'lb', ['10.244.1.5', '10.244.1.6', '10.244.2.7'], 8443), // endpoint chains added
    withEndpoints(every, 'lb', [], 8443), // no endpoints: REJECT in filter, the Service's chains deleted
    every.filter((p) => p.service !== 'internal').map((p) => (p.service === 'dual' && p.nodePort !== undefined ? { ...p, nodePort: p.nodePort + 1 } : p)),
    portsOfFixture('nodeport-two-pods.yaml'), // IPv6 no longer rendered: its Service chains go, its fixed chains are emptied
    portsOfFixture('nodeport-two-pods.yaml'), // nothing changed: nothing is sent
  ];
  for (const [i, ports] of steps.entries()) {
    const rendered = renderIptables(ports, i >= 4 ? OPTIONS_V4 : OPTIONS);
    assert.equal(rendered.length, i >= 4 ? 1 : 2);
    const result = await sync.sync(rendered);
    assert.equal(result.ok, true, `step ${i}: ${log.join('\n')}`);
    assert.equal(result.kind, i === 0 ? 'full' : 'partial', `step ${i}`);
    await wipe(fresh);
    const full = await new IptablesSync({ run: createCommandRunner(fresh), log: () => undefined }).sync(rendered);
    assert.equal(full.ok, true, full.summary);
    const [a, b] = [await ruleState(live), await ruleState(fresh)];
    if (i >= 4) {
      // The fresh namespace never had IPv6 Services; the live one keeps the fixed chains, empty.
      for (const key of Object.keys(a).filter((k) => k.startsWith('ip6tables-save') && !(k in b))) {
        assert.ok(!isServiceChainName(key.split(' ')[2]!), `step ${i}: ${key} left behind`);
        assert.deepEqual(a[key], [], key);
        delete a[key];
      }
      for (const key of Object.keys(a).filter((k) => /^ip6tables-save \S+ (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING)$/.test(k))) {
        a[key] = [];
        b[key] = [];
      }
    }
    assert.deepEqual(a, b, `step ${i}: ${log.join('\n')}`);
  }
  assert.match(log.at(-2)!, /^iptables sync 6 \(partial\): IPv4: no change$/);
  assert.match(log.at(-1)!, /^ {2}took [\d.]+ ms: plan [\d.]+ ms, iptables [\d.]+ ms$/);
  assert.match(log.join('\n'), /iptables sync 5 \(partial\): IPv4: .*; IPv6: 0 service chains written, [1-9]\d* deleted, 0 fixed chains rewritten, 9 emptied\n/);
});

test('a partial sync sends the fixed chains and only the changed Service\'s chains', { timeout: 60_000 }, async (t) => {
  await requireIptables();
  const ns = await scratchNamespace(t, 'iptsync-min');
  const sync = new IptablesSync({ run: createCommandRunner(ns), log: () => undefined });
  const every = portsOfFixture('every-feature.yaml');
  const first = await sync.sync(renderIptables(every, OPTIONS));
  assert.equal(first.kind, 'full');
  const changed = withEndpoints(every, 'lb', ['10.244.1.5', '10.244.9.9'], 8443);
  const second = await sync.sync(renderIptables(changed, OPTIONS));
  assert.deepEqual([second.kind, second.ok], ['partial', true]);
  const v4 = second.families.find((f) => f.family === 'IPv4')!;
  const chains = declared(v4.plan.input);
  const fixed = (table: string) => (chains[table] ?? []).filter((c) => !isServiceChainName(c));
  assert.deepEqual(fixed('nat').sort(), ['KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-SERVICES']);
  assert.deepEqual(fixed('filter').sort(), ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']);
  assert.deepEqual((chains.filter ?? []).filter(isServiceChainName), []);
  // Every Service chain sent is one of edge/lb's (its rules carry its name), and lb's unchanged chains are not sent.
  const lbRules = (ports: readonly KpServicePort[]) => {
    const out = new Map<string, string>();
    for (const l of renderIptables(ports, OPTIONS)[0]!.text.split('\n')) {
      const c = l.split(' ')[1] ?? '';
      if (l.startsWith('-A ') && isServiceChainName(c) && l.includes('edge/lb')) out.set(c, `${out.get(c) ?? ''}${l}\n`);
    }
    return out;
  };
  const [before, after] = [lbRules(every), lbRules(changed)];
  const sent = (chains.nat ?? []).filter(isServiceChainName);
  assert.ok(sent.length > 0, v4.plan.input);
  for (const c of sent) assert.ok(before.has(c) || after.has(c), `${c} is not edge/lb's:\n${v4.plan.input}`);
  const unchanged = [...after.keys()].filter((c) => before.get(c) === after.get(c));
  assert.ok(unchanged.length > 0, 'the change leaves some of edge/lb\'s chains as they were');
  for (const c of unchanged) assert.ok(!sent.includes(c), `${c} did not change but was sent:\n${v4.plan.input}`);
  assert.match(v4.plan.input, /^-X KUBE-SEP-\S+$/m, 'the replaced endpoint\'s chain is deleted');
  // The IPv6 rules did not change: nothing sent for them.
  assert.equal(second.families.find((f) => f.family === 'IPv6')!.plan.input, '');
});

test('the first sync deletes Service chains an earlier run left, and leaves chains that are not kube-proxy\'s', { timeout: 60_000 }, async (t) => {
  await requireIptables();
  const ns = await scratchNamespace(t, 'iptsync-stale');
  const runner = createCommandRunner(ns);
  const left = await runner(['iptables-restore', '--noflush'], '*nat\n:KUBE-SVC-LEFTOVER0000000 - [0:0]\n:KUBE-SEP-LEFTOVER0000000 - [0:0]\n:MY-OWN - [0:0]\n-A KUBE-SVC-LEFTOVER0000000 -j KUBE-SEP-LEFTOVER0000000\n-A MY-OWN -j RETURN\n-A PREROUTING -j MY-OWN\nCOMMIT\n');
  assert.equal(left.code, 0, left.stderr);
  const log: string[] = [];
  const ports = portsOfFixture('nodeport-two-pods.yaml');
  const result = await new IptablesSync({ run: runner, log: (l) => log.push(l) }).sync(renderIptables(ports, OPTIONS));
  assert.equal(result.ok, true, log.join('\n'));
  assert.match(log[0]!, /^iptables sync 1 \(full\): IPv4: \d+ service chains written, 2 deleted, 10 fixed chains rewritten; IPv6: 0 service chains written, 0 deleted, 9 fixed chains rewritten$/);
  const state = await ruleState(ns);
  assert.ok(!('iptables-save nat KUBE-SVC-LEFTOVER0000000' in state) && !('iptables-save nat KUBE-SEP-LEFTOVER0000000' in state), Object.keys(state).join('\n'));
  assert.deepEqual(state['iptables-save nat MY-OWN'], ['-A MY-OWN -j RETURN']);
  assert.deepEqual(state['iptables-save nat PREROUTING'], ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A PREROUTING -j MY-OWN']);
  const web = ports.find((p) => p.service === 'web')!;
  assert.ok((state[`iptables-save nat ${serviceChainName(web)}`] ?? []).length > 0, Object.keys(state).join('\n'));
  // A second process's first sync finds the jumps in place and adds none.
  assert.equal((await new IptablesSync({ run: runner, log: () => undefined }).sync(renderIptables(ports, OPTIONS))).ok, true);
  assert.deepEqual(await ruleState(ns), state);
});

test('a failed iptables sync is followed by a full one', { timeout: 60_000 }, async (t) => {
  await requireIptables();
  const ns = await scratchNamespace(t, 'iptsync-fail');
  const real = createCommandRunner(ns);
  let restores = 0;
  // The second restore reaches the kernel with a rule it refuses, as an iptables error would.
  const log: string[] = [];
  const sync = new IptablesSync({ run: (argv, input) => real(argv, argv[0] === 'iptables-restore' && ++restores === 2 ? input!.replace(/COMMIT\n$/, '-A KUBE-SERVICES -m no-such-match -j ACCEPT\nCOMMIT\n') : input), log: (l) => log.push(l) });
  const two = portsOfFixture('nodeport-two-pods.yaml');
  assert.equal((await sync.sync(renderIptables(two, OPTIONS))).ok, true);
  const failed = await sync.sync(renderIptables(withEndpoints(two, 'web', ['10.244.9.9'], 8443), OPTIONS));
  assert.deepEqual([failed.kind, failed.ok], ['partial', false]);
  const next = await sync.sync(renderIptables(withEndpoints(two, 'web', ['10.244.9.9'], 8443), OPTIONS));
  assert.deepEqual([next.kind, next.ok], ['full', true]);
  assert.match((await run('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'nat'])).stdout, /--to-destination 10\.244\.9\.9:8080/);
  assert.match(log.join('\n'), /iptables sync 2 \(partial\) failed: IPv4: failed: iptables-restore --noflush --counters exited \d+/);
});

test('kube-proxy apply --mode iptables: flags', () => {
  const ok = parseKubeProxyApplyArgs(['kube-proxy', 'apply', '--mode', 'iptables', '--config', 'x', '--netns', 'n', '--node-ip', '10.0.0.1', '--masquerade-all', '--once']);
  assert.deepEqual([ok.mode, ok.dirs, ok.netns, ok.nft.nodeIPs, ok.masqueradeAll, ok.once], ['iptables', ['x'], 'n', ['10.0.0.1'], true, true]);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'ipvs', '--config', 'x']), /--mode: expected nftables or iptables, got "ipvs"/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'iptables', '--config', 'x', '--service-cidr', '10.96.0.0/16']), /--service-cidr: nftables mode only/);
  assert.throws(() => parseKubeProxyApplyArgs(['--mode', 'nftables', '--config', 'x', '--masquerade-all']), /--masquerade-all: iptables mode only/);
});

test('kube-proxy apply --mode iptables --once exits 0 with the rules in place, 1 when the namespace does not exist', { timeout: 60_000 }, async (t) => {
  await requireIptables();
  const ns = await scratchNamespace(t, 'iptonce');
  const dir = configDir(t, { 'svc.yaml': readFileSync(path.join(FIXTURES, 'nodeport-two-pods.yaml'), 'utf8') });
  const isthmus = path.join(repoRoot(), 'bin', 'isthmus.js');
  const exec = promisify(execFile);
  const ok = await exec(process.execPath, [isthmus, 'kube-proxy', 'apply', '--mode', 'iptables', '--config', dir, '--netns', ns, '--node-ip', '10.99.1.1', '--once']);
  assert.match(ok.stdout, /^iptables sync 1 \(full\): IPv4: 4 service chains written, 0 deleted, 10 fixed chains rewritten\n {2}took [\d.]+ ms: plan [\d.]+ ms, iptables [\d.]+ ms\nisthmus: generation 1: Service ports [\d.]+ ms, model and sync [\d.]+ ms\n$/);
  assert.match((await run('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'nat'])).stdout, /^-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-/m);
  const missing = await exec(process.execPath, [isthmus, 'kube-proxy', 'apply', '--mode', 'iptables', '--config', dir, '--netns', `${ns}-missing`, '--once']).then(
    () => assert.fail('expected exit 1'),
    (err: { code?: number; stdout?: string; stderr?: string }) => err,
  );
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stdout ?? '', /iptables sync 1 \(full\) failed: IPv4: failed: iptables-save -t nat exited/, missing.stderr);
});
