import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// Arrows only go down the pipeline (docs/architecture.md). This test is the lint rule.
const FORBIDDEN: Record<string, readonly string[]> = {
  core: ['resources', 'sources', 'store', 'translate', 'ir', 'dataplane', 'observability', 'admin', 'cli', 'demo'],
  ir: ['resources', 'sources', 'store', 'translate', 'dataplane', 'observability', 'admin', 'cli', 'demo'],
  resources: ['sources', 'store', 'translate', 'dataplane', 'observability', 'admin', 'cli'],
  translate: ['sources', 'dataplane', 'observability', 'admin', 'cli', 'demo'],
  dataplane: ['resources', 'sources', 'store', 'translate', 'observability', 'admin', 'cli', 'demo'],
  observability: ['dataplane', 'translate', 'sources', 'admin', 'cli'],
  admin: ['dataplane', 'translate', 'sources', 'cli'],
  // kube-proxy's model and renderers read resources (Services, EndpointSlices) like a translator
  // and sit under it: the L4 Service listeners reuse the model, and the CLI drives the renderers.
  kubeproxy: ['sources', 'translate', 'dataplane', 'observability', 'admin', 'cli', 'demo'],
  // explain reads the IR and the kube-proxy model and matches with the data plane's own matchers;
  // the CLI and the admin API (through AdminView) call it.
  explain: ['sources', 'store', 'resources', 'translate', 'observability', 'admin', 'cli', 'demo'],
  // Counter stores sit beside the data plane, under it: filters use them, they know no filter.
  state: ['resources', 'sources', 'store', 'translate', 'ir', 'dataplane', 'observability', 'admin', 'cli', 'demo'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('src/ layers import only downward', () => {
  const problems: string[] = [];
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    for (const file of filesUnder(path.join('src', layer))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = path.relative('src', path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
        if (forbidden.includes(target)) problems.push(`${file} imports ${m[1]} (${layer} → ${target})`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
