// `kube-proxy render` on two threads. At 10,000 Services the render is about half of the command
// (about 1 s on one core), and the machine's other core has nothing to do meanwhile. The Service
// ports are cut in two at a Service boundary; a worker renders the later part while this thread
// renders the first, and the two are joined (nftables-render-shards.ts, iptables-render-shards.ts)
// into exactly the text one render gives. Where they cannot be joined as they are (a name both
// parts use, such as a cluster IP two Services claim), this thread renders the whole in one piece.
import { Worker } from 'node:worker_threads';
import { iptablesFirstShard, joinIptablesShards } from './iptables-render-shards.js';
import { familyTablesLines, iptablesFamilies } from './iptables-render.js';
import { joinNftablesShards, nftablesFirstShard } from './nftables-render-shards.js';
import { nftablesOptionsOf, RENDERERS, type RenderOptions, type RenderResult } from './renderers.js';
import type { ShardReply, ShardRequest } from './render-shard-protocol.js';
import type { KpServicePort } from './service-ports.js';
import { linesInChunks } from './text-chunks.js';

/**
 * Fewer Service ports are rendered on one thread: the worker costs about 0.1 s of a core to start
 * and the ports must be copied to it, which a small render does not earn back.
 */
export const MIN_PORTS_FOR_SHARDS = 2000;

export type ShardedMode = 'iptables' | 'nftables';

export function isShardedMode(mode: string): mode is ShardedMode {
  return mode === 'iptables' || mode === 'nftables';
}

/** The worker, started early (while the Service ports are still being collected) so it has booted when they are ready. */
export class ShardWorker {
  readonly #worker = new Worker(new URL('./render-shard-worker.js', import.meta.url));
  readonly #reply: Promise<ShardReply | undefined>;

  constructor() {
    this.#reply = new Promise((resolve) => {
      this.#worker.once('message', (reply: ShardReply) => resolve(reply));
      // A worker that fails leaves the whole render to this thread.
      this.#worker.once('error', () => resolve(undefined));
      this.#worker.once('exit', () => resolve(undefined));
    });
  }

  render(request: ShardRequest): Promise<ShardReply | undefined> {
    this.#worker.postMessage(request);
    return this.#reply;
  }

  close(): void {
    void this.#worker.terminate();
  }
}

/** Where the later shard starts: the first Service boundary past half the work (a port and its endpoints). */
export function shardBoundary(ports: readonly KpServicePort[]): number {
  const weight = (sp: KpServicePort) => 1 + sp.endpoints.length;
  const total = ports.reduce((sum, sp) => sum + weight(sp), 0);
  let done = 0;
  for (let i = 0; i < ports.length; i++) {
    done += weight(ports[i]!);
    if (done * 2 < total) continue;
    // Ports are sorted by namespace and Service: every port of one Service stays in one shard.
    for (let j = i + 1; j < ports.length; j++) if (ports[j]!.namespace !== ports[j - 1]!.namespace || ports[j]!.service !== ports[j - 1]!.service) return j;
    return ports.length;
  }
  return ports.length;
}

/** A render, and whether it was made in two shards or (falling back) in one piece. */
export type ShardedRender = RenderResult & { readonly shards: 1 | 2 };

/** What RENDERERS[mode] renders, made on two threads; the worker is closed when done. */
export async function renderInShards(mode: ShardedMode, ports: readonly KpServicePort[], options: RenderOptions, worker: ShardWorker): Promise<ShardedRender> {
  const whole: ShardedRender = { ...RENDERERS[mode]!(ports, options), shards: 1 };
  const split = shardBoundary(ports);
  if (split === 0 || split === ports.length) {
    worker.close();
    return whole;
  }
  const first = ports.slice(0, split);
  const later = ports.slice(split);
  try {
    if (mode === 'nftables') {
      const nftOptions = nftablesOptionsOf(options);
      const reply = worker.render({ mode, ports: later, options: nftOptions });
      const models = nftablesFirstShard(first, nftOptions);
      const shard = await reply;
      const lines = shard?.mode === 'nftables' ? joinNftablesShards(models, shard.tables) : undefined;
      if (lines === undefined) return whole;
      return { ...whole, shards: 2, outputs: whole.outputs.map((o) => ({ ...o, chunks: () => linesInChunks(lines()) })) };
    }
    const families = iptablesFamilies(ports, options);
    const reply = worker.render({ mode, ports: later, families, options });
    const tables = iptablesFirstShard(first, families, options);
    const shard = await reply;
    if (shard?.mode !== 'iptables') return whole;
    joinIptablesShards(tables, shard.families);
    return {
      ...whole,
      shards: 2,
      outputs: whole.outputs.map((o) => {
        const own = o.family === undefined ? undefined : tables.get(o.family);
        return own === undefined ? o : { ...o, chunks: () => linesInChunks(familyTablesLines(own)) };
      }),
    };
  } finally {
    worker.close();
  }
}
