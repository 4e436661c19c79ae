// IR filter list → request and response filter functions, in the order the IR gives them.
import type { IrFilter } from '../../ir/types.js';
import { assertNever } from '../../core/assert-never.js';
import { compileHeaderModifier } from './header-modifier.js';
import { compileUrlRewrite } from './url-rewrite.js';
import { CONTINUE, type RequestFilter, type ResponseFilter } from './filter-types.js';

export type { RequestFilter, ResponseFilter } from './filter-types.js';

export function compileRequestFilters(filters: readonly IrFilter[]): RequestFilter[] {
  const out: RequestFilter[] = [];
  for (const f of filters) {
    switch (f.kind) {
      case 'request-header-modifier': {
        const modify = compileHeaderModifier(f.modifier);
        out.push((draft) => {
          modify(draft.headers);
          return CONTINUE;
        });
        break;
      }
      case 'url-rewrite':
        out.push(compileUrlRewrite(f.hostname, f.path));
        break;
      case 'response-header-modifier':
        break;
      default:
        assertNever(f, 'filter');
    }
  }
  return out;
}

export function compileResponseFilters(filters: readonly IrFilter[]): ResponseFilter[] {
  const out: ResponseFilter[] = [];
  for (const f of filters) {
    if (f.kind === 'response-header-modifier') out.push(compileHeaderModifier(f.modifier));
  }
  return out;
}
