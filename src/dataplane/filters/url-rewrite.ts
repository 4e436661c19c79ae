// Gateway API URLRewrite: replace the Host and/or the path (full, or the matched prefix).
import type { IrPathRewrite } from '../../ir/types.js';
import { trimTrailingSlash } from '../http/route-match.js';
import { setHeader } from './header-list.js';
import type { BackendRequestFilter } from './filter-types.js';

export function compileUrlRewrite(hostname: string | undefined, path: IrPathRewrite | undefined): BackendRequestFilter {
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

export function rewritePath(current: string, rewrite: IrPathRewrite): string {
  if (rewrite.kind === 'full') return rewrite.value;
  // Replace the matched prefix element-wise; '/foo' → '/bar' turns '/foo/x' into '/bar/x'.
  const prefix = trimTrailingSlash(rewrite.matchedPrefix);
  const rest = current.slice(prefix.length);
  const replacement = trimTrailingSlash(rewrite.value);
  if (rest === '' || rest === '/') return replacement === '' ? '/' : replacement + (rest === '/' && replacement !== '' ? '/' : '');
  return replacement + (rest.startsWith('/') ? rest : '/' + rest);
}
