// IrTransform → the phases it runs in: header edits and the path rewrite in the backend-request
// phase (after authentication named the consumer the templates read), response header edits in
// the response-headers phase, and JSON body edits as the chain's body filters. Headers a template
// could not fill safely, and bodies passed unchanged, are logged once per route and reason.
import type { IrTransform } from '../../../ir/apim.js';
import type { BackendRequestFilter, BodyFilter, ResponseHeadersFilter } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';
import { rewritePath } from '../url-rewrite.js';
import { compileHeaderTransform } from './header-transform.js';
import { compileJsonBodyFilter, type OnceLog } from './json-body-filter.js';
import type { TemplateDeps } from './render-template.js';

export interface CompiledTransform {
  readonly backendRequest?: BackendRequestFilter;
  readonly responseHeaders?: ResponseHeadersFilter;
  readonly requestBody?: BodyFilter;
  readonly responseBody?: BodyFilter;
}

export function compileTransform(ir: IrTransform, deps: TemplateDeps & { readonly log: (line: string) => void }): CompiledTransform {
  const said = new Set<string>();
  const once: OnceLog = (ctx, reason) => {
    if (said.has(reason)) return;
    said.add(reason);
    deps.log(`isthmus: ${ir.policy} on route ${ctx.route}: ${reason} (said once per route)`);
  };
  const refused = (ctx: RequestContext, name: string): void => once(ctx, `header ${name} not sent: its value held a control character (CR, LF, NUL, ...)`);
  const req = ir.request;
  const headers = req?.headers === undefined ? undefined : compileHeaderTransform(req.headers, deps, refused);
  const path = req?.path;
  const backendRequest: BackendRequestFilter | undefined =
    headers === undefined && path === undefined
      ? undefined
      : (ctx, draft) => {
          headers?.(ctx, draft.headers);
          if (path !== undefined) {
            const q = draft.path.indexOf('?');
            draft.path = q === -1 ? rewritePath(draft.path, path) : rewritePath(draft.path.slice(0, q), path) + draft.path.slice(q);
          }
        };
  const res = ir.response;
  const responseEdit = res?.headers === undefined ? undefined : compileHeaderTransform(res.headers, deps, refused);
  return {
    ...(backendRequest !== undefined ? { backendRequest } : {}),
    ...(responseEdit !== undefined ? { responseHeaders: (ctx: RequestContext, _status: number, list: string[]) => responseEdit(ctx, list) } : {}),
    ...(req?.body !== undefined ? { requestBody: compileJsonBodyFilter(req.body, 'request', deps, once) } : {}),
    ...(res?.body !== undefined ? { responseBody: compileJsonBodyFilter(res.body, 'response', deps, once) } : {}),
  };
}
