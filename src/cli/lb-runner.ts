// The loop of `isthmus lb`, whatever the source (folders, or the cluster in Kubernetes mode):
//   snapshot or health change → planLoadBalancer → bind step → L4Server.apply → onApplied
// Plans are applied one after another, so a health change and a config change never race; the
// health checker is told what to check by each plan, and calls back when a verdict changes.
import type { Diagnostic } from '../core/diagnostic.js';
import { formatDiagnostic } from '../core/diagnostic.js';
import type { IrL4Listener } from '../ir/l4.js';
import { L4Server } from '../dataplane/l4/l4-server.js';
import { NodeHealthChecker } from '../dataplane/upstream/health/node-health-checker.js';
import type { ConfigSource } from '../sources/source.js';
import { indexResources, type ResourceIndex } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { bindL4Listeners } from '../translate/binds/bind-l4-listeners.js';
import { planLoadBalancer, type LbNode } from '../translate/services/load-balancer-listeners.js';

export interface LbRunnerOptions {
  readonly nodes: readonly LbNode[];
  readonly listenAddress: string;
  readonly portMap: ReadonlyMap<number, number>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly loadBalancerClass: string;
  /** False in Kubernetes mode (load-balancer-listeners.ts says why). */
  readonly addressFromStatus: boolean;
  readonly log: (line: string) => void;
  /** After every apply: the resources planned from and the listeners now serving (bound, not failed). */
  readonly onApplied?: (index: ResourceIndex, serving: readonly IrL4Listener[]) => void;
}

export class LoadBalancerRunner {
  private readonly server = new L4Server();
  private readonly checker: NodeHealthChecker;
  private snapshot: ResourceSnapshot | undefined;
  private queue: Promise<void> = Promise.resolve();
  private lastDiagnostics = '';
  private source: ConfigSource | undefined;

  constructor(private readonly options: LbRunnerOptions) {
    this.checker = new NodeHealthChecker({
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      rise: options.rise,
      fall: options.fall,
      onChange: (key, healthy, why) => {
        const [node, kind, port] = key.split('|');
        options.log(`node ${node} ${healthy ? 'back in rotation' : 'out of rotation'} (${kind} check of port ${port}: ${why})`);
        void this.replan();
      },
    });
  }

  /** Resolves once the first snapshot is served and `fall` rounds of checks have run. */
  async start(source: ConfigSource): Promise<void> {
    this.source = source;
    await source.start((s) => {
      this.snapshot = s;
      void this.replan();
    });
    await this.queue;
    // `fall` rounds of checks before saying ready: nodes already down are out from the start.
    for (let i = 0; i < this.options.fall; i++) await this.checker.checkNow();
    await this.replan();
  }

  async close(): Promise<void> {
    this.checker.close();
    await this.source?.close();
    await this.queue;
    await this.server.close();
  }

  private replan(): Promise<void> {
    return (this.queue = this.queue.then(() => this.applyLatest()));
  }

  private async applyLatest(): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === undefined) return;
    const o = this.options;
    const diagnostics: Diagnostic[] = [...snapshot.diagnostics];
    const index = indexResources(snapshot.resources);
    const plan = planLoadBalancer(
      index,
      { nodes: o.nodes, listenAddress: o.listenAddress, healthy: (key) => this.checker.healthy(key), loadBalancerClass: o.loadBalancerClass, addressFromStatus: o.addressFromStatus },
      diagnostics,
    );
    this.checker.setTargets(plan.targets);
    const listeners = bindL4Listeners(plan.listeners, [], { listenAddress: o.listenAddress, portMap: o.portMap }, diagnostics);
    const result = await this.server.apply(listeners);
    const text = diagnostics.map(formatDiagnostic).join('\n');
    if (text !== this.lastDiagnostics && text !== '') o.log(`diagnostics:\n${text}`);
    this.lastDiagnostics = text;
    for (const f of result.failed) o.log(`listener ${f.listener}: ${f.message}`);
    for (const name of result.bound) {
      const l = listeners.find((x) => x.name === name)!;
      o.log(`listening ${l.protocol} ${l.address}:${this.server.portOf(name)} for ${name} → ${l.routes[0]!.backends[0]!.endpoints.map((e) => `${e.address}:${e.port}`).join(', ') || '(no healthy node)'}`);
    }
    const failed = new Set(result.failed.map((f) => f.listener));
    o.onApplied?.(index, listeners.filter((l) => !failed.has(l.name)));
  }
}
