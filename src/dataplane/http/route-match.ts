// Compiles an IrRouteMatch into a predicate over the parts of a request the router has at hand.
// Everything that can be prepared (regexes, lower-cased names, prefix + '/') is prepared here so
// the request path only compares strings.
import type { IncomingHttpHeaders } from 'node:http';
import type { IrPathMatch, IrRouteMatch, IrStringMatch } from '../../ir/types.js';
import { assertNever } from '../../core/assert-never.js';

export interface MatchInput {
  readonly path: string;
  /** Raw query including the leading '?', or ''. */
  readonly query: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

export interface CompiledMatch {
  /** True when only the path is inspected: such routes can be indexed by path. */
  readonly pathOnly: boolean;
  readonly path: IrPathMatch;
  test(input: MatchInput): boolean;
}

export class InvalidMatchError extends Error {}

export function compileRouteMatch(match: IrRouteMatch): CompiledMatch {
  const pathTest = compilePathMatch(match.path);
  const headerTests = (match.headers ?? []).map(compileHeaderMatch);
  const queryTests = (match.queryParams ?? []).map(compileQueryMatch);
  const method = match.method?.toUpperCase();
  const pathOnly = headerTests.length === 0 && queryTests.length === 0 && method === undefined;
  if (pathOnly) return { pathOnly, path: match.path, test: (input) => pathTest(input.path) };
  return {
    pathOnly,
    path: match.path,
    test(input) {
      if (!pathTest(input.path)) return false;
      if (method !== undefined && input.method !== method) return false;
      for (const t of headerTests) if (!t(input.headers)) return false;
      if (queryTests.length > 0) {
        const params = new URLSearchParams(input.query);
        for (const t of queryTests) if (!t(params)) return false;
      }
      return true;
    },
  };
}

export function compilePathMatch(match: IrPathMatch): (path: string) => boolean {
  switch (match.kind) {
    case 'any':
      return () => true;
    case 'exact': {
      const value = match.value;
      return (path) => path === value;
    }
    case 'prefix': {
      // Element-wise (Ingress and Gateway API): '/foo' matches '/foo' and '/foo/bar', not '/foobar'.
      const value = trimTrailingSlash(match.value);
      if (value === '') return () => true;
      const withSlash = value + '/';
      return (path) => path === value || path.startsWith(withSlash);
    }
    case 'string-prefix': {
      const value = match.value;
      return (path) => path.startsWith(value);
    }
    case 'regex': {
      const re = compileFullRegex(match.value);
      return (path) => re.test(path);
    }
    default:
      return assertNever(match, 'path match');
  }
}

export function trimTrailingSlash(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return value.slice(0, end);
}

function compileFullRegex(source: string): RegExp {
  try {
    // RE2-style full match: the pattern must cover the whole value.
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new InvalidMatchError(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

function compileStringTest(m: IrStringMatch): (value: string | undefined) => boolean {
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

function compileHeaderMatch(m: IrStringMatch): (headers: IncomingHttpHeaders) => boolean {
  const name = m.name.toLowerCase();
  const test = compileStringTest(m);
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
