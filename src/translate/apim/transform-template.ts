// Template strings of a TransformPolicy (`Bearer ${claims.sub}`, `${consumer}`) → IR parts, once,
// at translate time: the data plane only concatenates. `$$` is a literal `$`; `${` opens a variable
// that ends at the next `}`. An unknown variable or an unclosed `${` is a value, not an exception:
// the caller turns it into a diagnostic with the field's path. Pure.
import type { IrTemplate, IrTemplatePart } from '../../ir/apim.js';

export type TemplateParse = { readonly kind: 'ok'; readonly template: IrTemplate } | { readonly kind: 'invalid'; readonly message: string };

/** The variables a template may name, for messages. */
export const TEMPLATE_VARIABLES = '${consumer}, ${consumer.groups}, ${claims.<name>[.<name>...]}, ${requestId}, ${clientAddress}, ${header.<name>}, ${method}, ${path}';

// RFC 9110 §5.6.2 token: what a header name (`${header.x-foo}`) may be.
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function variableOf(name: string): IrTemplatePart | string {
  switch (name) {
    case 'consumer':
      return { kind: 'consumer' };
    case 'consumer.groups':
      return { kind: 'consumer-groups' };
    case 'requestId':
      return { kind: 'request-id' };
    case 'clientAddress':
      return { kind: 'client-address' };
    case 'method':
      return { kind: 'method' };
    case 'path':
      return { kind: 'path' };
  }
  if (name.startsWith('claims.')) {
    const path = name.slice('claims.'.length).split('.');
    if (path.some((p) => p === '')) return `"\${${name}}" has an empty claim name`;
    return { kind: 'claim', path };
  }
  if (name.startsWith('header.')) {
    const header = name.slice('header.'.length);
    if (!TOKEN.test(header)) return `"\${${name}}" does not name a header`;
    return { kind: 'header', name: header.toLowerCase() };
  }
  return `unknown variable "\${${name}}" (known: ${TEMPLATE_VARIABLES})`;
}

export function parseTemplate(text: string): TemplateParse {
  const parts: IrTemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      literal += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      literal += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) return { kind: 'invalid', message: `"\${" at offset ${dollar} is not closed by "}"` };
    const variable = variableOf(text.slice(dollar + 2, close).trim());
    if (typeof variable === 'string') return { kind: 'invalid', message: variable };
    if (literal !== '') parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push(variable);
    i = close + 1;
  }
  if (literal !== '' || parts.length === 0) parts.push({ kind: 'text', text: literal });
  return { kind: 'ok', template: parts };
}
