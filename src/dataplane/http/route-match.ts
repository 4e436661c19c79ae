// Compiles an IrRouteMatch into a predicate over the parts of a request the router has at hand.
// Everything that can be prepared (regexes, lower-cased names, prefix + '/') is prepared here so
// the request path only compares strings.
import type { IncomingHttpHeaders } from 'node:http';
import type { IrPathMatch, IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import { assertNever } from '../../core/assert-never.js';
import { compileFullMatchRegex, type FullMatchRegex } from '../../core/linear-regex.js';

export interface MatchInput {
  readonly path: string;
  /** Raw query including the leading '?', or ''. */
  readonly query: string;
  readonly method: string;
  /** The scheme the listener serves (`http` or `https`): what a `:scheme` match reads. */
  readonly scheme?: string;
  readonly headers: IncomingHttpHeaders;
}

export interface CompiledMatch {
  /** True when only the path is inspected: such routes can be indexed by path. */
  readonly pathOnly: boolean;
  readonly path: IrPathMatch;
  test(input: MatchInput): boolean;
}

/** Thrown at apply time only; compileRuntime turns it into a diagnostic and drops the route. */
export class InvalidMatchError extends Error {}

/**
 * A path predicate. Classes rather than closures: an object with a prototype method is smaller
 * than a closure and its context, which adds up at 10,000 routes.
 */
export interface PathMatcher {
  test(path: string): boolean;
}

class AnyPath implements PathMatcher {
  test(): boolean {
    return true;
  }
}

class ExactPath implements PathMatcher {
  constructor(private readonly value: string) {}
  test(path: string): boolean {
    return path === this.value;
  }
}

/** Element-wise (Ingress and Gateway API): '/foo' matches '/foo' and '/foo/bar', not '/foobar'. */
class ElementPrefixPath implements PathMatcher {
  private readonly withSlash: string;
  constructor(private readonly value: string) {
    this.withSlash = value + '/';
  }
  test(path: string): boolean {
    return path === this.value || path.startsWith(this.withSlash);
  }
}

class StringPrefixPath implements PathMatcher {
  constructor(private readonly value: string) {}
  test(path: string): boolean {
    return path.startsWith(this.value);
  }
}

class RegexPath implements PathMatcher {
  constructor(private readonly re: FullMatchRegex) {}
  test(path: string): boolean {
    return this.re.test(path);
  }
}

const ANY_PATH = new AnyPath();

/** Matches on the path alone: the common case, and the one the router can index. */
class PathOnlyMatch implements CompiledMatch {
  readonly pathOnly = true;
  constructor(
    readonly path: IrPathMatch,
    private readonly matcher: PathMatcher,
  ) {}
  test(input: MatchInput): boolean {
    return this.matcher.test(input.path);
  }
}

class FullMatch implements CompiledMatch {
  readonly pathOnly = false;
  constructor(
    readonly path: IrPathMatch,
    private readonly matcher: PathMatcher,
    private readonly method: string | undefined,
    private readonly headerTests: readonly ((headers: IncomingHttpHeaders, input: MatchInput) => boolean)[],
    private readonly queryTests: readonly ((params: URLSearchParams) => boolean)[],
  ) {}
  test(input: MatchInput): boolean {
    if (!this.matcher.test(input.path)) return false;
    if (this.method !== undefined && input.method !== this.method) return false;
    for (const t of this.headerTests) if (!t(input.headers, input)) return false;
    if (this.queryTests.length > 0) {
      const params = new URLSearchParams(input.query);
      for (const t of this.queryTests) if (!t(params)) return false;
    }
    return true;
  }
}

export function compileRouteMatch(match: IrRouteMatch): CompiledMatch {
  const matcher = compilePathMatch(match.path);
  const headerTests = (match.headers ?? []).map(compileHeaderMatch);
  const queryTests = (match.queryParams ?? []).map(compileQueryMatch);
  const method = match.method?.toUpperCase();
  if (headerTests.length === 0 && queryTests.length === 0 && method === undefined) return new PathOnlyMatch(match.path, matcher);
  return new FullMatch(match.path, matcher, method, headerTests, queryTests);
}

export function compilePathMatch(match: IrPathMatch): PathMatcher {
  switch (match.kind) {
    case 'any':
      return ANY_PATH;
    case 'exact':
      return new ExactPath(match.value);
    case 'prefix': {
      const value = trimTrailingSlash(match.value);
      return value === '' ? ANY_PATH : new ElementPrefixPath(value);
    }
    case 'string-prefix':
      return new StringPrefixPath(match.value);
    case 'regex':
      return new RegexPath(compileFullRegex(match.value));
    default:
      return assertNever(match, 'path match');
  }
}

export function trimTrailingSlash(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return value.slice(0, end);
}

/**
 * User patterns never reach native RegExp: it backtracks, and one request could then hold the
 * event loop (see core/linear-regex.ts). The pattern must cover the whole value (RE2 FullMatch).
 */
function compileFullRegex(source: string): FullMatchRegex {
  const result = compileFullMatchRegex(source);
  if (result.kind === 'invalid') throw new InvalidMatchError(result.message);
  return result.matcher;
}

function compileStringTest(m: IrStringMatch): (value: string | undefined) => boolean {
  if (m.invert === true && m.kind !== 'present' && m.kind !== 'absent') {
    // Envoy invert_match + treat_missing_header_as_empty: missing is '', then inverted.
    const inner = compileStringTest({ ...m, invert: false });
    return (v) => !inner(v ?? '');
  }
  switch (m.kind) {
    case 'present':
      return (v) => v !== undefined;
    case 'absent':
      return (v) => v === undefined;
    case 'exact': {
      const expected = m.value ?? '';
      return (v) => v === expected;
    }
    case 'prefix': {
      const expected = m.value ?? '';
      return (v) => v !== undefined && v.startsWith(expected);
    }
    case 'regex': {
      const re = compileFullRegex(m.value ?? '');
      return (v) => v !== undefined && re.test(v);
    }
    default:
      return assertNever(m.kind, 'string match');
  }
}

function compileHeaderMatch(m: IrStringMatch): (headers: IncomingHttpHeaders, input: MatchInput) => boolean {
  const name = m.name.toLowerCase();
  const test = compileStringTest(m);
  // Envoy matches the request line as the pseudo-headers HTTP/2 gives it (RFC 9113 §8.3.1), for
  // HTTP/1.1 too: Istio's method and scheme matches arrive as `:method` and `:scheme`.
  if (name === ':method') return (_headers, input) => test(input.method);
  if (name === ':scheme') return (_headers, input) => test(input.scheme);
  return (headers) => {
    const raw = headers[name];
    // Repeated headers are joined with ', ' as RFC 9110 §5.3 allows for list-valued fields.
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    return test(value);
  };
}

function compileQueryMatch(m: IrStringMatch): (params: URLSearchParams) => boolean {
  const test = compileStringTest(m);
  return (params) => {
    const value = params.get(m.name);
    return test(value === null ? undefined : value);
  };
}
