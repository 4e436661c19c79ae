import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { parseConfigText } from '../../src/sources/file/parse-config-text.js';
import { buildSnapshot } from '../../src/store/build-snapshot.js';
import type { ResourceSnapshot } from '../../src/store/resource-snapshot.js';
import { translate, type TranslateOptions } from '../../src/translate/translate.js';

// tsc does not copy YAML into dist/, so goldens are read from the source tree: this file runs as
// dist/test/translate/golden-harness.js, three levels below the repository root.
export const GOLDEN_DIR = fileURLToPath(new URL('../../../test/translate/golden/', import.meta.url));

export const GOLDEN_OPTIONS: TranslateOptions = {
  ingressClass: 'isthmus',
  ingressController: 'isthmus.dev/ingress-controller',
  statusAddress: '192.0.2.10',
};

export function listGoldenInputs(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.in.yaml'))
    .sort();
}

export function snapshotOf(text: string, file: string): ResourceSnapshot {
  return buildSnapshot([parseConfigText(text, file, 'yaml')], 1);
}

/** IR + diagnostics (load, then translate) + statuses, as deterministic YAML. */
export function renderGolden(snapshot: ResourceSnapshot, inputName: string): string {
  const result = translate(snapshot, GOLDEN_OPTIONS);
  // A JSON round trip first: the http and https listeners share virtual-host objects, and YAML
  // would otherwise write them as anchors and aliases.
  const body = JSON.parse(
    JSON.stringify({
      loadDiagnostics: snapshot.diagnostics.map(formatDiagnostic),
      diagnostics: result.diagnostics.map(formatDiagnostic),
      statuses: result.statuses,
      ir: result.ir,
    }),
  ) as unknown;
  const header = `# Generated from ${inputName} by test/translate/golden.test.ts; UPDATE_GOLDEN=1 rewrites it.\n`;
  return header + stringify(body, { lineWidth: 0 });
}
