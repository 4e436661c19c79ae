// Hostile config documents, shared by the unit tests, the end-to-end bomb test and the fuzzer.
// Each is small on disk; what it costs is what later code would walk once aliases are expanded.

const NAMES = 'abcdefghijklmnopqrstuvwxyz';

function levelName(level: number): string {
  const name = NAMES[level];
  if (name === undefined) throw new Error(`at most ${NAMES.length} levels`);
  return name;
}

/**
 * The classic "billion laughs": level `a` holds `fanout` strings, each next level `fanout` aliases
 * of the one before. With the defaults (9 × 9) it is nine lines, 72 aliases and 9^9 strings.
 */
export function billionLaughs(levels = 9, fanout = 9): string {
  const lines = [`a: &a [${Array(fanout).fill('"lol"').join(',')}]`];
  for (let level = 1; level < levels; level++) {
    const name = levelName(level);
    lines.push(`${name}: &${name} [${Array(fanout).fill(`*${levelName(level - 1)}`).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

/** Nodes and characters of `billionLaughs(levels, fanout)` once expanded (the root mapping included). */
export function billionLaughsSize(levels = 9, fanout = 9): { nodes: number; chars: number } {
  let nodes = 1; // the root mapping
  let chars = levels; // its one-letter keys
  let levelNodes = 1 + fanout; // a sequence of `fanout` strings
  let levelChars = 3 * fanout; // "lol"
  for (let level = 0; level < levels; level++) {
    nodes += levelNodes;
    chars += levelChars;
    levelNodes = 1 + fanout * levelNodes;
    levelChars = fanout * levelChars;
  }
  return { nodes, chars };
}

/** The same shape through mappings: each level a mapping whose `fanout` keys alias the level before. */
export function mappingLaughs(levels = 9, fanout = 9): string {
  const keys = (value: (i: number) => string): string => `{${Array.from({ length: fanout }, (_, i) => `k${i}: ${value(i)}`).join(', ')}}`;
  const lines = [`a: &a ${keys(() => 'lol')}`];
  for (let level = 1; level < levels; level++) {
    const name = levelName(level);
    lines.push(`${name}: &${name} ${keys(() => `*${levelName(level - 1)}`)}`);
  }
  return lines.join('\n') + '\n';
}

/** One long string (`chars` characters) aliased `copies` times: few nodes, many characters. */
export function stringLaughs(chars: number, copies: number): string {
  return `s: &s "${'x'.repeat(chars)}"\nl: [${Array(copies).fill('*s').join(', ')}]\n`;
}

/** A bomb hidden in an otherwise valid Namespace: its labels alias the last level of the laughs. */
export function namespaceWithLaughs(name: string, levels = 9, fanout = 9): string {
  const laughs = billionLaughs(levels, fanout).trimEnd().split('\n').map((line) => `  ${line}`).join('\n');
  return `apiVersion: v1\nkind: Namespace\nx-laughs:\n${laughs}\nmetadata:\n  name: ${name}\n  labels: *${levelName(levels - 1)}\n`;
}

/** A node that contains an alias to itself: js-yaml builds a cycle, so the expansion never ends. */
export function selfAlias(): string {
  return 'apiVersion: v1\nkind: Namespace\nmetadata: &m\n  name: loop\n  labels: {inner: *m}\n';
}

/** `depth` sequences nested inside each other, in YAML flow style or JSON. */
export function deepNesting(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}\n`;
}

/** A sequence nested `inner` deep, anchored, then aliased from `outer` levels down: deep only once expanded. */
export function deepThroughAlias(inner: number, outer: number): string {
  return `a: &a ${'['.repeat(inner)}1${']'.repeat(inner)}\nb: ${'['.repeat(outer)}*a${']'.repeat(outer)}\n`;
}

/**
 * Not hostile, only large: one Ingress with `hosts` × `pathsPerHost` Prefix paths, in the block
 * style of bench/lib/config-gen.mjs (1,000 × 10 is its 10,000-path shape in one 1.9 MB file).
 */
export function largeIngress(name: string, hosts: number, pathsPerHost = 10): string {
  const lines = ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata:', `  name: ${name}`, '  namespace: bench', 'spec:', '  rules:'];
  for (let h = 0; h < hosts; h++) {
    lines.push(`    - host: h${String(h).padStart(4, '0')}.scale.local`, '      http:', '        paths:');
    for (let p = 0; p < pathsPerHost; p++) {
      lines.push(`          - path: /svc${p}/api`, '            pathType: Prefix', '            backend:', '              service:', '                name: origin', '                port:', '                  number: 80');
    }
  }
  return lines.join('\n') + '\n';
}
