// Gateway API URLRewrite: replace the Host and/or the path (full, the matched prefix, or every
// match of an RE2 pattern, Envoy's regex_rewrite). Patterns are compiled once, at apply time.
import { compileRegexRewrite, type RegexRewrite } from '../../core/linear-regex.js';
import type { IrPathRewrite } from '../../ir/types.js';
import { InvalidMatchError, trimTrailingSlash } from '../http/route-match.js';
import { setHeader } from './header-list.js';
import type { BackendRequestFilter } from './filter-types.js';

export function compileUrlRewrite(hostname: string | undefined, path: IrPathRewrite | undefined): BackendRequestFilter {
  if (path !== undefined) compiledRegexRewrite(path);
  return (_ctx, draft) => {
    if (hostname !== undefined) setHeader(draft.headers, 'host', hostname);
    if (path !== undefined) {
      const q = draft.path.indexOf('?');
      const query = q === -1 ? '' : draft.path.slice(q);
      const current = q === -1 ? draft.path : draft.path.slice(0, q);
      draft.path = rewritePath(current, path) + query;
    }
  };
}

/** Regex rewrites by IR object: compiled when the route is (apply time), looked up per request. */
const regexRewrites = new WeakMap<IrPathRewrite, RegexRewrite>();

/** The compiled pattern of a regex rewrite; throws InvalidMatchError (the route is dropped) for a bad one. */
function compiledRegexRewrite(rewrite: IrPathRewrite): RegexRewrite | undefined {
  if (rewrite.kind !== 'regex') return undefined;
  let compiled = regexRewrites.get(rewrite);
  if (compiled === undefined) {
    const result = compileRegexRewrite(rewrite.pattern, rewrite.substitution);
    if (result.kind === 'invalid') throw new InvalidMatchError(result.message);
    compiled = result.rewrite;
    regexRewrites.set(rewrite, compiled);
  }
  return compiled;
}

export function rewritePath(current: string, rewrite: IrPathRewrite): string {
  if (rewrite.kind === 'full') return rewrite.value;
  // The query is not part of the path: Envoy's regex_rewrite sees the path alone.
  if (rewrite.kind === 'regex') return compiledRegexRewrite(rewrite)!.replaceAll(current);
  // Replace the matched prefix element-wise; '/foo' → '/bar' turns '/foo/x' into '/bar/x'.
  const prefix = trimTrailingSlash(rewrite.matchedPrefix);
  const rest = current.slice(prefix.length);
  const replacement = trimTrailingSlash(rewrite.value);
  if (rest === '' || rest === '/') return replacement === '' ? '/' : replacement + (rest === '/' && replacement !== '' ? '/' : '');
  return replacement + (rest.startsWith('/') ? rest : '/' + rest);
}
