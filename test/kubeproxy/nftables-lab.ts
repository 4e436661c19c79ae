// Shared by the nftables and iptables tests: the kube-proxy model of a fixture, a throw-away
// network namespace to check a script in (`nft -c -f`) or to apply it, and a traffic lab (client,
// node and pod namespaces) to send real connections through the rules. A helper module: running
// it alone does nothing.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { collectServicePorts, type KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { indexResources } from '../../src/store/resource-index.js';
import { repoRoot, type Cleanup } from '../e2e/cli-harness.js';
import { NetnsLab } from '../e2e/netns-harness.js';
import { snapshotOf } from '../translate/golden-harness.js';

export const run = promisify(execFile);
export const FIXTURES = path.join(repoRoot(), 'test', 'kubeproxy', 'fixtures-nft');

export function portsOfFixture(name: string): KpServicePort[] {
  const snapshot = snapshotOf(readFileSync(path.join(FIXTURES, name), 'utf8'), name);
  assert.deepEqual(snapshot.diagnostics.map(formatDiagnostic), []);
  const { ports, diagnostics } = collectServicePorts(indexResources(snapshot.resources));
  assert.deepEqual(diagnostics.map(formatDiagnostic), []);
  return [...ports];
}

/** Fails loudly (never skips) without root, ip or nft. */
export async function requireNft(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the nftables tests need root (ip netns, nft); run them as root');
  for (const [tool, flag, pkg] of [['nft', '--version', 'nftables'], ['ip', '-V', 'iproute2']] as const) {
    await run(tool, [flag]).catch(() => {
      throw new Error(`the nftables tests need ${tool} (Debian package ${pkg})`);
    });
  }
}

/** A fresh namespace named with this process's pid, removed in t.after even when the test fails. */
export async function scratchNamespace(t: Cleanup, tag: string): Promise<string> {
  const ns = `isthmus-${tag}-${process.pid}`;
  await run('ip', ['netns', 'add', ns]);
  t.after(() => run('ip', ['netns', 'del', ns]).catch(() => undefined));
  return ns;
}

/** `nft -c -f -` inside `ns` with the script on stdin: resolves with nft's error text, '' when accepted. */
export function checkScript(ns: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? '' : stderr.trim() || `nft exited ${code}`));
    child.stdin.on('error', () => undefined); // EPIPE when nft exits early: its status says why
    child.stdin.end(script);
  });
}

/** Fails loudly (never skips) without root, ip or the iptables tools (nf_tables backend or legacy). */
export async function requireIptables(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the iptables tests need root (ip netns, iptables-restore); run them as root');
  for (const [tool, flag, pkg] of [['iptables-restore', '--version', 'iptables'], ['ip6tables-restore', '--version', 'iptables'], ['iptables-save', '--version', 'iptables'], ['ip', '-V', 'iproute2']] as const) {
    await run(tool, [flag]).catch(() => {
      throw new Error(`the iptables tests need ${tool} (Debian package ${pkg})`);
    });
  }
}

// A pod that answers every connection with its own address, so the client can count who served it.
const POD_SERVER = `
const net = require('node:net');
for (const address of process.argv.slice(1)) {
  net.createServer((s) => s.end(address)).listen(8080, address, () => console.log('listening ' + address));
}`;

// Sequential connections (each a new conntrack entry, so a new pick); prints the count per answer.
const COUNTING_CLIENT = `
const net = require('node:net');
const [host, port, n] = process.argv.slice(1);
const counts = {};
const one = () => new Promise((resolve) => {
  const s = net.connect({ host, port: Number(port), timeout: 3000 });
  let data = '';
  s.setEncoding('utf8').on('data', (d) => (data += d));
  s.on('end', () => resolve(data));
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve('error:' + e.code));
});
(async () => {
  for (let i = 0; i < Number(n); i++) { const r = await one(); counts[r] = (counts[r] ?? 0) + 1; }
  console.log(JSON.stringify(counts));
})();`;

export interface TrafficLab {
  readonly lab: NetnsLab;
  /** The namespace the rules go in (10.99.1.1 towards the client, 10.99.2.1 towards the pods). */
  readonly node: string;
  /** `n` sequential TCP connections from the client (10.99.1.2); the count per pod that answered. */
  connect(host: string, port: number, n: number): Promise<Record<string, number>>;
}

/** The pods' addresses (on the pods namespace's loopback, port 8080). */
export const LAB_PODS = ['10.244.0.11', '10.244.0.12', '10.244.0.13'] as const;
/** With `ipv6: true`: the pods' IPv6 addresses; the node is fd00:99:1::1 towards the client. */
export const LAB_PODS_V6 = ['fd00:244::11', 'fd00:244::12'] as const;

/**
 * Three namespaces joined by veth pairs, IPv4 (and IPv6 with `ipv6: true`), for rules that need real traffic:
 *
 *   client 10.99.1.2 ──veth── 10.99.1.1 node (rules, forwarding) 10.99.2.1 ──veth── 10.99.2.2 pods
 *                                                           pods on lo: 10.244.0.11-13:8080
 * `require` checks the tools of the rule set under test (requireNft, requireIptables).
 */
export async function buildTrafficLab(t: Cleanup, tag: string, require: () => Promise<void>, options: { readonly ipv6?: boolean } = {}): Promise<TrafficLab> {
  await require();
  const lab = new NetnsLab(t, tag);
  const node = await lab.namespace('node');
  const client = await lab.namespace('client');
  const pods = await lab.namespace('pods');
  await lab.link(node, 'nc0', '10.99.1.1/24', client, 'cl0', '10.99.1.2/24');
  await lab.link(node, 'np0', '10.99.2.1/24', pods, 'pd0', '10.99.2.2/24');
  await lab.exec(client, ['ip', 'route', 'add', 'default', 'via', '10.99.1.1']);
  await lab.exec(pods, ['ip', 'route', 'add', 'default', 'via', '10.99.2.1']);
  for (const a of LAB_PODS) await lab.exec(pods, ['ip', 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  await lab.exec(node, ['ip', 'route', 'add', '10.244.0.0/24', 'via', '10.99.2.2']);
  // A node has a default route (a cluster IP is routed on, never to this node), so a packet to a
  // Service without endpoints reaches the forward path, where kube-proxy rejects it.
  await lab.exec(node, ['ip', 'route', 'add', 'default', 'via', '10.99.2.2']);
  await lab.exec(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  // The rejects a test counts are ICMP errors: not rate-limited here.
  await lab.exec(node, ['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
  const addresses: string[] = [...LAB_PODS];
  if (options.ipv6 === true) {
    // The same shape in IPv6 (nodad: usable at once, no duplicate address detection wait).
    const v6 = async (ns: string, dev: string, addr: string) => lab.exec(ns, ['ip', '-6', 'addr', 'add', addr, 'dev', dev, 'nodad']);
    await v6(node, 'nc0', 'fd00:99:1::1/64');
    await v6(client, 'cl0', 'fd00:99:1::2/64');
    await v6(node, 'np0', 'fd00:99:2::1/64');
    await v6(pods, 'pd0', 'fd00:99:2::2/64');
    for (const a of LAB_PODS_V6) await v6(pods, 'lo', `${a}/128`);
    await lab.exec(client, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:99:1::1']);
    await lab.exec(pods, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:99:2::1']);
    await lab.exec(node, ['ip', '-6', 'route', 'add', 'fd00:244::/64', 'via', 'fd00:99:2::2']);
    await lab.exec(node, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:99:2::2']);
    await lab.exec(node, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    addresses.push(...LAB_PODS_V6);
  }
  const server = lab.spawn(pods, ['node', '-e', POD_SERVER, ...addresses]);
  await lab.waitFor('the pod servers', async () => server.stdout().split('\n').filter((l) => l.startsWith('listening')).length === addresses.length);
  const connect = async (host: string, port: number, n: number): Promise<Record<string, number>> => {
    const { stdout } = await lab.exec(client, ['node', '-e', COUNTING_CLIENT, host, String(port), String(n)], 60_000);
    return JSON.parse(stdout) as Record<string, number>;
  };
  return { lab, node, connect };
}

/** Every expected pod answered, each within [min, max] of `total`, and nobody else did. */
export function assertShares(counts: Record<string, number>, expected: readonly string[], total: number, min: number, max: number, what: string): void {
  assert.deepEqual(Object.keys(counts).sort(), [...expected].sort(), `${what}: answers ${JSON.stringify(counts)}`);
  for (const name of expected) {
    const share = (counts[name] ?? 0) / total;
    assert.ok(share >= min && share <= max, `${what}: ${name} got ${(share * 100).toFixed(1)}% of ${total} (expected ${min * 100}-${max * 100}%): ${JSON.stringify(counts)}`);
  }
}

/** The lab's Services: `web` (NodePort, its slice from webSlice), then LAB_OTHER_SERVICES; LAB_SERVICES is both. */
export const LAB_WEB_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
`;

/** `other` (one pod) and `empty` (no endpoints). */
export const LAB_OTHER_SERVICES = `apiVersion: v1
kind: Service
metadata: {name: other, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.30
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: other-1, namespace: shop, labels: {kubernetes.io/service-name: other}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.13]}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  clusterIP: 10.96.0.20
  ports: [{port: 80}]
`;

export const LAB_SERVICES = `\n${LAB_WEB_SERVICE}---\n${LAB_OTHER_SERVICES}`;

/** `web`'s EndpointSlice with these IPv4 pod addresses (none: an empty list). */
export function webSlice(addresses: readonly string[]): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: ${addresses.length === 0 ? '[]' : `\n${addresses.map((a) => `  - {addresses: [${a}]}`).join('\n')}`}
`;
}

type NftJson = { nftables: Record<string, Record<string, unknown>>[] };

/** The table as data (chains, sets and their sorted elements by name; rules per chain in order), minus `skipChains`. */
export async function tableState(ns: string, skipChains: (name: string) => boolean = () => false): Promise<unknown> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { maxBuffer: 64 << 20 });
  const out: Record<string, unknown> = {};
  const rules: Record<string, unknown[]> = {};
  for (const item of (JSON.parse(stdout) as NftJson).nftables) {
    const [kind, body] = Object.entries(item)[0]!;
    if (kind === 'metainfo' || kind === 'table') continue;
    const { handle: _h, elem, ...rest } = body as { handle?: number; elem?: unknown[]; family?: string; chain?: string; name?: string };
    if (kind === 'rule') {
      if (!skipChains(rest.chain!)) (rules[`${rest.family} ${rest.chain}`] ??= []).push(rest);
    } else if (!(kind === 'chain' && skipChains(rest.name!))) {
      out[`${kind} ${rest.family} ${rest.name}`] = { ...rest, elem: (elem ?? []).map((e) => JSON.stringify(e)).sort() };
    }
  }
  return { objects: Object.fromEntries(Object.entries(out).sort()), rules: Object.fromEntries(Object.entries(rules).sort()) };
}

/** `service`'s IPv4 ports with these ready endpoint addresses (at the port's first endpoint's port, else `fallbackPort`). */
export function withEndpoints(ports: readonly KpServicePort[], service: string, addresses: readonly string[], fallbackPort = 8080): KpServicePort[] {
  return ports.map((p) => (p.service !== service || p.family !== 'IPv4' ? p : { ...p, endpoints: addresses.map((address) => ({ address, port: p.endpoints[0]?.port ?? fallbackPort, ready: true, serving: true, terminating: false, nodeName: 'node-a' })) }));
}
