// GET /api/explain for a running gateway: the admin API's query → an explanation of the applied
// configuration (the IR that serves now and the kube-proxy model of the same snapshot). The model
// is read once per applied generation, on the first explain that needs it.
import type { ExplainQuery } from '../admin/admin-view.js';
import { connectionInput, explain, type ExplainInput } from '../explain/explain.js';
import { formatSteps } from '../explain/explain-step.js';
import type { IrSnapshot } from '../ir/types.js';
import { kubeProxyChainNames } from '../kubeproxy/chain-names.js';
import { collectServicePorts, type KpServicePort } from '../kubeproxy/service-ports.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';

export type ExplainAnswer = { readonly kind: 'steps'; readonly steps: unknown; readonly text: string } | { readonly kind: 'invalid'; readonly message: string };

export function createExplainView(current: () => { readonly ir: IrSnapshot; readonly snapshot: ResourceSnapshot } | undefined, nodeName?: string): (q: ExplainQuery) => ExplainAnswer {
  let cached: { generation: number; ports: readonly KpServicePort[] } | undefined;
  return (q) => {
    const applied = current();
    if (applied === undefined) return { kind: 'invalid', message: 'no configuration is applied yet' };
    if (cached?.generation !== applied.snapshot.generation) cached = { generation: applied.snapshot.generation, ports: collectServicePorts(indexResources(applied.snapshot.resources)).ports };
    const input = inputOf(q);
    if (typeof input === 'string') return { kind: 'invalid', message: input };
    const result = explain(input, { ir: applied.ir, servicePorts: cached.ports, chainNames: kubeProxyChainNames, ...(nodeName !== undefined ? { nodeName } : {}) });
    return result.kind === 'invalid' ? result : { kind: 'steps', steps: result.steps, text: formatSteps(result.steps) };
  };
}

function inputOf(q: ExplainQuery): ExplainInput | string {
  if (q.connect !== undefined) return connectionInput(q.connect, q.protocol, q.sni);
  return { kind: 'http', url: q.url ?? '', headers: q.headers, ...(q.method !== undefined ? { method: q.method } : {}), ...(q.address !== undefined ? { address: q.address } : {}) };
}
