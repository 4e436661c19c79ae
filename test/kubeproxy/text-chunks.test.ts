// `kube-proxy render` writes its text in chunks (text-chunks.ts): the chunks, written one after
// the other, must be exactly the lines each followed by "\n", whatever the chunk size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linesInChunks } from '../../src/kubeproxy/text-chunks.js';
import { outputText, RENDERERS } from '../../src/kubeproxy/renderers.js';
import { renderNftables } from '../../src/kubeproxy/nftables-render.js';
import { OVERALL_YAML, portsOf } from './kube-proxy-fixture.js';

test('chunks concatenate to the lines each followed by a newline; all but the last reach the size', () => {
  const lines = ['', 'a', '', 'bcdef', 'ghij', '', '', 'é ü', 'k'.repeat(40), ''];
  for (const size of [1, 2, 5, 7, 16, 1000]) {
    const chunks = [...linesInChunks(lines, size)];
    assert.equal(chunks.join(''), `${lines.join('\n')}\n`, `size ${size}`);
    chunks.slice(0, -1).forEach((c) => assert.ok(c.length >= size, `size ${size}: ${JSON.stringify(c)}`));
    assert.ok(chunks.every((c) => c.endsWith('\n')));
  }
  assert.deepEqual([...linesInChunks([], 10)], []);
  assert.deepEqual([...linesInChunks([''], 10)], ['\n']);
});

test('the nftables output in chunks is the nftables script', () => {
  const { ports } = portsOf(OVERALL_YAML, { nodePortRange: { min: 1, max: 65535 } });
  const options = { nodeName: 'test-node', nodeIPs: ['192.168.0.2', '2001:db8::2'], clusterCIDRs: ['10.0.0.0/8'] };
  const [output] = RENDERERS.nftables!(ports, { ...options, scheduler: 'rr' }).outputs;
  assert.equal(outputText(output!), renderNftables(ports, options));
  assert.equal([...output!.chunks()].length, 1, 'a small script is one chunk');
});
