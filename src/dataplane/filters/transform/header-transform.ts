// TransformPolicy header edits on a flat header list: remove, set (every copy replaced), add.
// Rendered values come from clients (headers) and tokens (claims), so each is checked before it
// becomes a header: a value with CR, LF, NUL or another control character is an injection
// attempt (`x: a\r\nx-admin: true`) or garbage, and the header is not sent at all (a `set` still
// removes the client's own copies, so it cannot be smuggled through either). Characters beyond
// ASCII are sent percent-encoded as UTF-8 (RFC 3986 §2.1), since a field value carries octets,
// not text (RFC 9110 §5.5), and Node refuses characters above U+00FF.
import type { IrHeaderTransform } from '../../../ir/apim.js';
import type { RequestContext } from '../request-context.js';
import { removeHeader } from '../header-list.js';
import { compileTemplate, type TemplateDeps } from './render-template.js';

/** The value as a header can carry it, or undefined when it holds a control character. */
export function safeHeaderValue(value: string): string | undefined {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    if (c > 0x7e) plain = false;
  }
  return plain ? value : value.replace(/[^\x00-\x7e]+/gu, (s) => encodeURIComponent(s));
}

export function compileHeaderTransform(ir: IrHeaderTransform, deps: TemplateDeps, onRefused: (ctx: RequestContext, name: string) => void): (ctx: RequestContext, headers: string[]) => void {
  const remove = ir.remove;
  const set = ir.set.map((h) => ({ name: h.name, render: compileTemplate(h.value, deps) }));
  const add = ir.add.map((h) => ({ name: h.name, render: compileTemplate(h.value, deps) }));
  return (ctx, headers) => {
    for (const name of remove) removeHeader(headers, name);
    for (const h of set) {
      removeHeader(headers, h.name);
      const value = safeHeaderValue(h.render(ctx));
      if (value === undefined) onRefused(ctx, h.name);
      else headers.push(h.name, value);
    }
    for (const h of add) {
      const value = safeHeaderValue(h.render(ctx));
      if (value === undefined) onRefused(ctx, h.name);
      else headers.push(h.name, value);
    }
  };
}
