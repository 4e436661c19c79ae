// js-yaml turns an alias into a second reference to the anchored node, so a nine-line "billion
// laughs" document parses into under a hundred objects. Everything after parsing (dropping nulls,
// the schemas, structured clone, JSON) walks it as a tree, and the tree has 9^9 leaves. So the size
// that matters is the expanded one; it is computed here once per unique node, memoised by identity.

/** The cost of a value once every shared reference is copied out. */
export interface ExpandedSize {
  readonly nodes: number;
  /** Characters of mapping keys and string values. */
  readonly chars: number;
  /** Mappings and sequences nested inside each other on the longest path; a scalar is 0. */
  readonly depth: number;
}

export type Expansion =
  | { readonly kind: 'measured'; readonly size: ExpandedSize }
  /** A node contains an alias to itself: the expansion is infinite (js-yaml builds the cycle). */
  | { readonly kind: 'cycle' }
  /** Nested deeper than `maxDepth`; the walk stopped there, so the other figures are unknown. */
  | { readonly kind: 'too-deep' };

const SCALAR: ExpandedSize = { nodes: 1, chars: 0, depth: 0 };

/**
 * Measures the documents of one file as later code will see them. Time and memory are linear in
 * the unique nodes (what the parser allocated), whatever the expanded size; recursion never goes
 * deeper than `maxDepth` + 1 frames, so deep input cannot overflow the stack here.
 */
export function measureExpansion(documents: readonly unknown[], maxDepth: number): Expansion {
  const memo = new Map<object, ExpandedSize>();
  /** Containers on the current path: meeting one again is a cycle. */
  const open = new Set<object>();
  let stop: 'cycle' | 'too-deep' | undefined;

  // `level` is the nesting level this value would have: 1 for a document's top mapping.
  const sizeOf = (value: unknown, level: number): ExpandedSize => {
    if (typeof value === 'string') return { nodes: 1, chars: value.length, depth: 0 };
    if (value === null || typeof value !== 'object') return SCALAR;
    const known = memo.get(value);
    if (known) {
      // Shared, already measured: only its depth under this new parent can break a limit.
      if (level - 1 + known.depth > maxDepth) stop = 'too-deep';
      return known;
    }
    if (open.has(value)) {
      stop = 'cycle';
      return SCALAR;
    }
    if (level > maxDepth) {
      stop = 'too-deep';
      return SCALAR;
    }
    open.add(value);
    let nodes = 1;
    let chars = 0;
    let depth = 0;
    const add = (child: ExpandedSize): void => {
      nodes += child.nodes;
      chars += child.chars;
      if (child.depth > depth) depth = child.depth;
    };
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        add(sizeOf(item, level + 1));
        if (stop) break;
      }
    } else {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        chars += key.length;
        add(sizeOf(record[key], level + 1));
        if (stop) break;
      }
    }
    open.delete(value);
    const size: ExpandedSize = { nodes, chars, depth: depth + 1 };
    memo.set(value, size);
    return size;
  };

  let nodes = 0;
  let chars = 0;
  let depth = 0;
  for (const document of documents) {
    const size = sizeOf(document, 1);
    if (stop) return { kind: stop };
    nodes += size.nodes;
    chars += size.chars;
    depth = Math.max(depth, size.depth);
  }
  return { kind: 'measured', size: { nodes, chars, depth } };
}

/**
 * The same measure for documents that share no node: JSON.parse output, and YAML without an anchor
 * (no `&` in the text, so no alias can exist). Nothing is shared, so nothing is memoised and no
 * cycle can occur: one walk with no allocation per node, about four times cheaper than the general
 * one on a 10,000-Service folder, where this check was a seventh of the load time.
 */
export function measureTree(documents: readonly unknown[], maxDepth: number): Expansion {
  let nodes = 0;
  let chars = 0;
  let deepest = 0;
  let tooDeep = false;
  const walk = (value: unknown, level: number): void => {
    nodes++;
    if (typeof value === 'string') {
      chars += value.length;
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (level > maxDepth) {
      tooDeep = true;
      return;
    }
    if (level > deepest) deepest = level;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && !tooDeep; i++) walk(value[i], level + 1);
      return;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      chars += key.length;
      walk((value as Record<string, unknown>)[key], level + 1);
      if (tooDeep) return;
    }
  };
  for (const document of documents) {
    walk(document, 1);
    if (tooDeep) return { kind: 'too-deep' };
  }
  return { kind: 'measured', size: { nodes, chars, depth: deepest } };
}

/** `435,848,050`; sums past 2^53 are no longer exact, so they are said as a bound. */
export function formatCount(n: number): string {
  if (n > Number.MAX_SAFE_INTEGER) return `more than ${formatCount(Number.MAX_SAFE_INTEGER)}`;
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
