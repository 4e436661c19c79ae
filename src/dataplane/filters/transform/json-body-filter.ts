// The BodyFilter of a TransformPolicy's JSON edits (filter-types.ts): which bodies it takes, and
// the edit itself. A body is edited only when its Content-Type is JSON (`application/json`, or any
// `+json` type, RFC 6839 §3.1), it carries no Content-Encoding (a gzip body is bytes the gateway
// would have to inflate and deflate again: passed on as it is), it is within `maxBytes`, and it
// parses as strict UTF-8 JSON. Any other body passes unchanged, and the route says so in one log
// line per reason, so a misconfigured client cannot flood the log.
import type { IrJsonBodyTransform } from '../../../ir/apim.js';
import type { BodyFilter } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';
import { compileJsonEdit } from './json-edit.js';
import type { TemplateDeps } from './render-template.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.endsWith('+json') && type.indexOf('/') > 0);
}

/** Logs one line per reason; `once` is per compiled route, so a new configuration may say it again. */
export type OnceLog = (ctx: RequestContext, reason: string) => void;

export function compileJsonBodyFilter(ir: IrJsonBodyTransform, direction: 'request' | 'response', deps: TemplateDeps, log: OnceLog): BodyFilter {
  const edit = compileJsonEdit(ir, deps);
  return {
    maxBytes: ir.maxBytes,
    wants(ctx, contentType, contentEncoding) {
      if (!isJsonMediaType(contentType)) {
        log(ctx, `${direction} body passed unchanged: Content-Type ${contentType === undefined ? '(none)' : JSON.stringify(contentType.slice(0, 64))} is not JSON`);
        return false;
      }
      if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
        log(ctx, `${direction} body passed unchanged: it is content-encoded (${JSON.stringify(contentEncoding.slice(0, 32))})`);
        return false;
      }
      return true;
    },
    apply(ctx, body) {
      let doc: unknown;
      try {
        doc = JSON.parse(UTF8.decode(body));
      } catch {
        log(ctx, `${direction} body passed unchanged: it does not parse as JSON`);
        return undefined;
      }
      return Buffer.from(JSON.stringify(edit(ctx, doc)), 'utf8');
    },
    tooLarge(ctx) {
      log(ctx, `${direction} body passed unchanged: it is larger than maxBytes (${ir.maxBytes})`);
    },
  };
}
