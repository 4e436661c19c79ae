import { CORE_SCHEMA, loadAll, YAMLException, type LoadOptions } from 'js-yaml';
import { assertNever } from '../../core/assert-never.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import { parseResource } from '../../resources/parse-resource.js';
import type { Resource } from '../../resources/resource.js';
import type { SourceContribution } from '../../store/build-snapshot.js';
import { formatCount, measureExpansion, measureTree } from './bound-expansion.js';
import { DEFAULT_CONFIG_LIMITS, type ParseLimits } from './config-limits.js';

import type { ConfigFormat } from './config-format.js';

export { configFormatOf, type ConfigFormat } from './config-format.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// `kind: List` (kubectl get -o yaml) and typed lists such as `ServiceList` carry objects in `items`.
function isList(value: unknown): value is { items: unknown[] } {
  return isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

function parseError(file: string, message: string): Diagnostic {
  return { severity: 'error', code: 'ERR_CONFIG_YAML_PARSE', source: file, message };
}

function tooLarge(file: string, message: string): Diagnostic {
  return { severity: 'error', code: 'ERR_CONFIG_TOO_LARGE', source: file, message };
}

function tooDeep(file: string, maxDepth: number): Diagnostic {
  return tooLarge(file, `refused: mappings and sequences nested more than ${maxDepth} levels deep (at most ${maxDepth} allowed)`);
}

/** js-yaml's own nesting bound (4.3+): its `maxDepth` M accepts M - 2 nested collections. */
const JS_YAML_DEPTH_SLACK = 2;
const JS_YAML_TOO_DEEP = 'nesting exceeded maxDepth';

/** Decodes a file's documents; a syntax error anywhere rejects the whole file (it may be half-written). */
function decodeDocuments(text: string, file: string, format: ConfigFormat, maxDepth: number): { docs: unknown[]; error?: Diagnostic } {
  if (format === 'json') {
    // An empty file is a file being written or emptied out, as an empty YAML file is: no documents.
    if (text.trim() === '') return { docs: [] };
    try {
      return { docs: [JSON.parse(text) as unknown] };
    } catch (err) {
      return { docs: [], error: parseError(file, `invalid JSON: ${(err as Error).message}`) };
    }
  }
  // js-yaml 4 rather than the `yaml` package or js-yaml 5: measured on the 2 MB benchmark folder it
  // parses about 3x faster than js-yaml 5 and faster still than `yaml`, which decides how long a
  // large config folder takes to load. CORE_SCHEMA is YAML 1.2's, so timestamps stay strings.
  // Aliases are not counted here: js-yaml keeps them as shared references, and what they cost is
  // bounded after parsing by the expanded size (bound-expansion.ts), whatever their number.
  try {
    // js-yaml recurses per level: its bound keeps deep input from exhausting the stack, and is set
    // to ours so that YAML nested too deep gets the same diagnostic as JSON or aliases would.
    // (@types/js-yaml predates the option.)
    const options: LoadOptions & { readonly maxDepth: number } = { schema: CORE_SCHEMA, maxDepth: maxDepth + JS_YAML_DEPTH_SLACK };
    return { docs: loadAll(text, undefined, options) };
  } catch (err) {
    if (err instanceof YAMLException && err.reason.startsWith(JS_YAML_TOO_DEEP)) return { docs: [], error: tooDeep(file, maxDepth) };
    if (err instanceof YAMLException) {
      const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
      return { docs: [], error: parseError(file, `invalid YAML${at}: ${err.reason}`) };
    }
    return { docs: [], error: parseError(file, `invalid YAML: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

/** Refuses documents whose expanded form breaks a limit, before anything walks them as a tree. */
function checkExpansion(docs: readonly unknown[], file: string, limits: ParseLimits, mayShare: boolean): Diagnostic | undefined {
  const expansion = mayShare ? measureExpansion(docs, limits.maxDepth) : measureTree(docs, limits.maxDepth);
  switch (expansion.kind) {
    case 'cycle':
      return tooLarge(file, 'refused: an alias refers to a node that contains it, so the file never ends once expanded');
    case 'too-deep':
      return tooDeep(file, limits.maxDepth);
    case 'measured': {
      const { nodes, chars } = expansion.size;
      const over: string[] = [];
      if (nodes > limits.maxExpandedNodes) over.push(`${formatCount(nodes)} nodes (at most ${formatCount(limits.maxExpandedNodes)} allowed)`);
      if (chars > limits.maxExpandedChars) {
        over.push(`${formatCount(chars)} characters of keys and strings (at most ${formatCount(limits.maxExpandedChars)} allowed)`);
      }
      return over.length === 0 ? undefined : tooLarge(file, `refused: once its aliases are expanded it has ${over.join(' and ')}`);
    }
    default:
      return assertNever(expansion, 'expansion');
  }
}

/** Keeps the first diagnostics of a file and counts the rest in one, as severe as the worst dropped. */
function capDiagnostics(diagnostics: Diagnostic[], file: string, max: number): Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics;
  const dropped = diagnostics.slice(max);
  const severity = dropped.some((d) => d.severity === 'error') ? 'error' : 'warning';
  return [
    ...diagnostics.slice(0, max),
    {
      severity,
      code: 'ERR_CONFIG_TOO_LARGE',
      source: file,
      message: `${formatCount(dropped.length)} more diagnostics not listed (at most ${formatCount(max)} listed per file)`,
    },
  ];
}

/**
 * Turns a file's text into resources and diagnostics. `file` names the file in every source
 * string: `examples/quickstart/web.yaml#1` (document 1), `...#0.items[2]` (an item of a List).
 */
export function parseConfigText(text: string, file: string, format: ConfigFormat, limits: ParseLimits = DEFAULT_CONFIG_LIMITS): SourceContribution {
  const { docs, error } = decodeDocuments(text, file, format, limits.maxDepth);
  if (error) return { resources: [], diagnostics: [error] };
  // Only a YAML anchor (`&name`) lets a later alias share a node; JSON.parse never shares.
  const refused = checkExpansion(docs, file, limits, format !== 'json' && text.includes('&'));
  if (refused) return { resources: [], diagnostics: [refused] };
  const resources: Resource[] = [];
  const diagnostics: Diagnostic[] = [];
  const add = (raw: unknown, source: string): void => {
    const outcome = parseResource(raw, source);
    if (outcome.kind === 'parsed') resources.push(outcome.resource);
    else diagnostics.push(...outcome.diagnostics);
  };
  docs.forEach((doc, index) => {
    // An empty document (a stray `---`, only comments) is not an error.
    if (doc === null || doc === undefined) return;
    if (isList(doc)) doc.items.forEach((item, i) => add(item, `${file}#${index}.items[${i}]`));
    else add(doc, `${file}#${index}`);
  });
  return { resources, diagnostics: capDiagnostics(diagnostics, file, limits.maxDiagnosticsPerFile) };
}
