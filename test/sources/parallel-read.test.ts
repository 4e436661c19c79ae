// loadDirs parses many files on two threads (parallel-read.ts): whichever thread read a file, the
// snapshot — resources, their order, every diagnostic, which duplicate wins — and the kube-proxy
// rules rendered from it must be what one thread alone gives.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { collectServicePorts } from '../../src/kubeproxy/service-ports.js';
import { outputText, rendererFor } from '../../src/kubeproxy/renderers.js';
import { DEFAULT_CONFIG_LIMITS } from '../../src/sources/file/config-limits.js';
import { loadDirs } from '../../src/sources/file/load-dirs.js';
import { MIN_FILES_FOR_WORKER, readConfigFiles } from '../../src/sources/file/parallel-read.js';
import { scanConfigTree } from '../../src/sources/file/scan-config-tree.js';
import { indexResources } from '../../src/store/resource-index.js';
import type { ResourceSnapshot } from '../../src/store/resource-snapshot.js';

const root = mkdtempSync(path.join(tmpdir(), 'isthmus-parallel-read-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ns = (i: number) => `ns-${Math.floor(i / 50)}`;
const ip = (i: number, e: number) => `10.${244 + (e >> 8)}.${i >> 8 & 255}.${(i + e * 7) & 255}`;

function serviceYaml(i: number): string {
  const nodePort = i % 10 === 0 ? `, nodePort: ${30000 + i}` : '';
  return `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: ${ns(i)}}
spec: {type: ${i % 10 === 0 ? 'NodePort' : 'ClusterIP'}, clusterIP: 10.96.${i >> 8}.${(i & 255) || 1}, ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080${nodePort}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-${i}-x, namespace: ${ns(i)}, labels: {kubernetes.io/service-name: svc-${i}}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [${[0, 1, 2].map((e) => `{addresses: [${ip(i, e)}], conditions: {ready: ${e !== 2}}, nodeName: node-${e}}`).join(', ')}]
`;
}

/** 300 Services in 30 files, and files that give diagnostics: the order of these is what could go wrong. */
function writeFolder(): string {
  const dir = path.join(root, 'config');
  const write = (rel: string, text: string) => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  for (let f = 0; f < 30; f++) write(`services-${String(f).padStart(2, '0')}.yaml`, Array.from({ length: 10 }, (_, k) => serviceYaml(f * 10 + k)).join('---\n'));
  write('broken.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n');
  write('bad-port.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: default}\nspec: {ports: [{port: 99999}]}\n');
  // Defined again in a later file: the later one wins, with a warning naming the first.
  write('sub/zz-again.yaml', serviceYaml(7).replace('targetPort: 8080', 'targetPort: 9090'));
  write('empty.yaml', '');
  write('ns.json', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'from-json' } }));
  write('unknown.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
  return dir;
}

const dir = writeFolder();
const render = (snapshot: ResourceSnapshot, mode: string): string[] => {
  const lookup = rendererFor(mode);
  assert.equal(lookup.kind, 'ok');
  if (lookup.kind !== 'ok') throw new Error(mode);
  const { ports } = collectServicePorts(indexResources(snapshot.resources));
  return lookup.render(ports, { nodeName: 'node-1', nodeIPs: ['192.168.0.10'], clusterCIDRs: ['10.244.0.0/16'], scheduler: 'rr' }).outputs.map(outputText);
};

test('the worker lane parses every file as this thread does: same contributions, in file order', async () => {
  const tree = await scanConfigTree([dir]);
  assert.ok(tree.files.length >= MIN_FILES_FOR_WORKER, 'enough files for the automatic worker');
  const alone = await readConfigFiles(tree.files, DEFAULT_CONFIG_LIMITS, { worker: 'off' });
  const worker = await readConfigFiles(tree.files, DEFAULT_CONFIG_LIMITS, { worker: 'only' });
  assert.equal(alone.byWorker, 0);
  assert.equal(worker.byWorker, tree.files.length, 'the worker read every file');
  assert.deepStrictEqual(worker.contributions, alone.contributions);
  const shared = await readConfigFiles(tree.files, DEFAULT_CONFIG_LIMITS, { worker: 'on' });
  assert.deepStrictEqual(shared.contributions, alone.contributions);
});

test('loadDirs gives the same snapshot and the same kube-proxy rules with and without the worker', async () => {
  const alone = await loadDirs([dir], 3, { worker: 'off' });
  const codes: string[] = alone.diagnostics.map((d) => d.code);
  for (const code of ['ERR_CONFIG_YAML_PARSE', 'ERR_RESOURCE_INVALID', 'ERR_RESOURCE_DUPLICATE', 'ERR_RESOURCE_UNKNOWN_KIND']) assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
  assert.equal(alone.resources.filter((r) => r.kind === 'Service').length, 300, 'the one with port 99999 is refused');
  for (const worker of ['only', 'on', 'auto'] as const) {
    const snapshot = await loadDirs([dir], 3, { worker });
    assert.deepStrictEqual(snapshot, alone, `worker: ${worker}`);
    for (const mode of ['iptables', 'nftables', 'ipvs']) assert.deepStrictEqual(render(snapshot, mode), render(alone, mode), `${mode}, worker: ${worker}`);
  }
});

test('a folder with no files, and one file with the worker forced on', async () => {
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  assert.deepStrictEqual((await loadDirs([empty], 1, { worker: 'only' })).resources, []);
  const one = await scanConfigTree([path.join(dir, 'ns.json')]);
  const read = await readConfigFiles(one.files, DEFAULT_CONFIG_LIMITS, { worker: 'only' });
  assert.equal(read.byWorker, 1);
  assert.deepStrictEqual(read.contributions, (await readConfigFiles(one.files, DEFAULT_CONFIG_LIMITS, { worker: 'off' })).contributions);
});
