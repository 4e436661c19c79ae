// `kube-proxy render` on two threads (render-in-shards.ts): the text made from two shards of the
// Service ports, one rendered in a worker, must be byte for byte the text of one render.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputText, RENDERERS, type RenderOptions } from '../../src/kubeproxy/renderers.js';
import { renderInShards, shardBoundary, ShardWorker, type ShardedMode } from '../../src/kubeproxy/render-in-shards.js';
import type { KpServicePort } from '../../src/kubeproxy/service-ports.js';
import { portsOf } from './kube-proxy-fixture.js';

const ns = (i: number) => `ns-${String(Math.floor(i / 20)).padStart(2, '0')}`;
const v4 = (i: number, e: number) => `10.${244 + e}.${i >> 8}.${i & 255}`;

function slice(i: number, name: string, type: 'IPv4' | 'IPv6', ports: string, endpoints: string): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s-${i}-${name}, namespace: ${ns(i)}, labels: {kubernetes.io/service-name: s-${i}}}
addressType: ${type}
ports: ${ports}
endpoints: ${endpoints}
---
`;
}

/** Service i: one of six shapes, so each shard holds every kind of rule (affinity sets, firewalls, IPv6, UDP, none). */
function serviceYaml(i: number, extra = ''): string {
  const clusterIP = `10.96.${i >> 8}.${(i & 255) + 1}`;
  const head = (spec: string, status = '') => `apiVersion: v1\nkind: Service\nmetadata: {name: s-${i}, namespace: ${ns(i)}}\nspec: ${spec}\n${status}---\n`;
  const tcp = '[{name: http, port: 8080, protocol: TCP}]';
  const eps = (n: number) => `[${Array.from({ length: n }, (_, e) => `{addresses: [${v4(i, e)}], nodeName: node-${e % 2 === 0 ? 'a' : 'b'}}`).join(', ')}]`;
  switch (i % 6) {
    case 0:
      return head(`{clusterIP: ${clusterIP}${extra}, ports: [{name: http, port: 80, targetPort: 8080}]}`) + slice(i, '4', 'IPv4', tcp, eps(3));
    case 1:
      return head(`{type: NodePort, externalTrafficPolicy: Local, clusterIP: ${clusterIP}, ports: [{name: http, port: 80, targetPort: 8080, nodePort: ${30000 + i}}]}`) + slice(i, '4', 'IPv4', tcp, eps(4));
    case 2:
      return (
        head(
          `{type: LoadBalancer, clusterIP: ${clusterIP}, loadBalancerSourceRanges: [203.0.113.0/25], sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}, ports: [{name: http, port: 80, targetPort: 8080, nodePort: ${30000 + i}}]}`,
          `status: {loadBalancer: {ingress: [{ip: 198.51.${i >> 8}.${i & 255}}]}}\n`,
        ) + slice(i, '4', 'IPv4', tcp, eps(2))
      );
    case 3:
      return (
        head(`{ipFamilies: [IPv4, IPv6], clusterIPs: [${clusterIP}, "fd00:96::${i.toString(16)}"], ports: [{name: http, port: 80, targetPort: 8080}]}`) +
        slice(i, '6', 'IPv6', tcp, `[{addresses: ["fd00:244::${i.toString(16)}"], nodeName: node-a}]`) +
        slice(i, '4', 'IPv4', tcp, eps(1))
      );
    case 4:
      return (
        head(`{internalTrafficPolicy: Local, clusterIP: ${clusterIP}, ports: [{name: dns, port: 53, protocol: UDP, targetPort: 5353}, {name: http, port: 80, targetPort: 8080}]}`) +
        slice(i, '4', 'IPv4', '[{name: dns, port: 5353, protocol: UDP}, {name: http, port: 8080, protocol: TCP}]', eps(2))
      );
    default:
      return head(`{clusterIP: ${clusterIP}, ports: [{name: http, port: 80}]}`);
  }
}

const OPTIONS: RenderOptions = { nodeName: 'node-a', nodeIPs: ['192.168.0.10', '2001:db8::10'], clusterCIDRs: ['10.244.0.0/14'], masqueradeAll: false, scheduler: 'rr' };
const MODES: readonly ShardedMode[] = ['iptables', 'nftables'];

async function compare(ports: readonly KpServicePort[], mode: ShardedMode, options: RenderOptions = OPTIONS): Promise<1 | 2> {
  const whole = RENDERERS[mode]!(ports, options);
  const sharded = await renderInShards(mode, ports, options, new ShardWorker());
  assert.deepEqual(sharded.notes, whole.notes);
  assert.deepEqual(sharded.outputs.map((o) => [o.tool, o.family]), whole.outputs.map((o) => [o.tool, o.family]));
  sharded.outputs.forEach((o, i) => assert.equal(outputText(o), outputText(whole.outputs[i]!), `${mode} output ${i}`));
  return sharded.shards;
}

test('300 Services of six shapes: the two-thread render is the one-thread render, in both modes', async () => {
  const { ports } = portsOf(Array.from({ length: 300 }, (_, i) => serviceYaml(i)).join(''));
  const split = shardBoundary(ports);
  assert.ok(split > ports.length / 3 && split < (ports.length * 2) / 3, `split at ${split} of ${ports.length}`);
  assert.notEqual(`${ports[split - 1]!.namespace}/${ports[split - 1]!.service}`, `${ports[split]!.namespace}/${ports[split]!.service}`);
  for (const mode of MODES) assert.equal(await compare(ports, mode), 2, `${mode} joined from two shards`);
  // IPv4 only (one iptables output, one nftables table), and masquerade-all (a note in nftables mode).
  const onlyV4 = ports.filter((p) => p.family === 'IPv4');
  for (const mode of MODES) assert.equal(await compare(onlyV4, mode, { ...OPTIONS, nodeIPs: ['192.168.0.10'], clusterCIDRs: [], masqueradeAll: true }), 2);
});

test('a name both shards use: nftables renders in one piece, iptables still joins; the text is the same', async () => {
  // The first and the last Service claim one external IP and port: one element of service-ips, written once.
  const yaml = Array.from({ length: 60 }, (_, i) => serviceYaml(i, i === 0 || i === 54 ? ', externalIPs: [192.0.2.1]' : '')).join('');
  const { ports } = portsOf(yaml);
  assert.equal(await compare(ports, 'nftables'), 1);
  assert.equal(await compare(ports, 'iptables'), 2);
});

test('one Service, or none: nothing to split, one piece', async () => {
  const { ports } = portsOf(serviceYaml(0));
  for (const mode of MODES) assert.equal(await compare(ports, mode), 1);
  for (const mode of MODES) assert.equal(await compare([], mode), 1);
});
