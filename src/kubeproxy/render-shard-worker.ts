// The second thread of `kube-proxy render` (render-in-shards.ts): renders the later shard of the
// Service ports while the main thread renders the first, and sends back its text.
import { parentPort } from 'node:worker_threads';
import { assertNever } from '../core/assert-never.js';
import { iptablesShard } from './iptables-render-shards.js';
import { nftablesShard } from './nftables-render-shards.js';
import type { ShardReply, ShardRequest } from './render-shard-protocol.js';

const port = parentPort;
if (port === null) throw new Error('render-shard-worker.js runs as a worker thread (see render-in-shards.ts)');

port.once('message', (request: ShardRequest) => {
  port.postMessage(render(request));
  port.close();
});

function render(request: ShardRequest): ShardReply {
  switch (request.mode) {
    case 'nftables':
      return { mode: 'nftables', tables: nftablesShard(request.ports, request.options) };
    case 'iptables':
      return { mode: 'iptables', families: iptablesShard(request.ports, request.families, request.options) };
    default:
      return assertNever(request, 'shard request');
  }
}
