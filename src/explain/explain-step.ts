// One step of an explanation: which stage of the path, what happened there, in one line, and the
// evidence (the alternatives that were weighed: routes that did not match, rules and their
// probabilities, endpoints). `isthmus explain` prints them; GET /api/explain returns them as JSON.
export type ExplainStage = 'load-balancer' | 'node-port' | 'cluster-ip' | 'rule-chain' | 'listener' | 'virtual-host' | 'route' | 'filters' | 'action' | 'cluster' | 'endpoint';

export interface ExplainStep {
  readonly stage: ExplainStage;
  /** `matched`: the path goes on; `answered`: the gateway answers itself; `refused`: it ends here. */
  readonly outcome: 'matched' | 'answered' | 'refused';
  readonly summary: string;
  readonly details: readonly string[];
}

export function formatSteps(steps: readonly ExplainStep[]): string {
  const lines: string[] = [];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.stage}: ${s.summary}${s.outcome === 'refused' ? '  ✗' : ''}`);
    for (const d of s.details) lines.push(`     ${d}`);
  });
  return `${lines.join('\n')}\n`;
}
