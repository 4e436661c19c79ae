// A TransformPolicy's IR on one route. Everything but the path is the same object on every route;
// `replacePrefix` replaces what the route matched (Gateway API's ReplacePrefixMatch), so it needs
// the route's path match: an element-wise or string prefix, an exact path, or any path (`/`). A
// regex match has no prefix to replace, and a route that rewrites its own path (an HTTPRoute
// URLRewrite, an Istio rewrite) keeps its rewrite: the policy's path edit is left out there, with
// one warning per policy and reason (translate-apim.ts), never per route. Pure.
import type { IrTransform } from '../../ir/apim.js';
import type { IrRoute } from '../../ir/types.js';
import type { Resource } from '../../resources/resource.js';
import type { PathEdit } from './transform-policy.js';

export type TransformSkips = Map<string, { readonly owner: { readonly object: Resource }; readonly why: string; readonly routes: Set<string> }>;

export function routeTransform(transform: IrTransform, path: PathEdit | undefined, route: IrRoute, owner: { readonly label: string; readonly object: Resource }, skips: TransformSkips): IrTransform | undefined {
  const withoutPath = transform.request === undefined && transform.response === undefined ? undefined : transform;
  if (path === undefined) return withoutPath;
  const skip = (why: string): IrTransform | undefined => {
    const key = `${owner.label}\n${why}`;
    let entry = skips.get(key);
    if (entry === undefined) skips.set(key, (entry = { owner, why, routes: new Set() }));
    entry.routes.add(route.name);
    return withoutPath;
  };
  if (route.filters.some((f) => f.kind === 'url-rewrite' && f.path !== undefined)) return skip('the route rewrites its path itself');
  let edit: NonNullable<NonNullable<IrTransform['request']>['path']>;
  if (path.kind === 'full') edit = { kind: 'full', value: path.value };
  else {
    const match = route.match.path;
    switch (match.kind) {
      case 'prefix':
      case 'string-prefix':
      case 'exact':
        edit = { kind: 'prefix', matchedPrefix: match.value, value: path.value };
        break;
      case 'any':
        edit = { kind: 'prefix', matchedPrefix: '/', value: path.value };
        break;
      case 'regex':
        return skip('replacePrefix needs a prefix or exact path match, and the route matches a regular expression');
    }
  }
  return { ...transform, request: { ...transform.request, path: edit } };
}
