// Gateway API RequestHeaderModifier / ResponseHeaderModifier: set replaces, add appends, remove drops.
import type { IrHeaderModifier } from '../../ir/types.js';
import { removeHeader } from './header-list.js';

export function compileHeaderModifier(modifier: IrHeaderModifier): (headers: string[]) => void {
  // Lower-cased once here, not per request.
  const set = (modifier.set ?? []).map((h) => ({ name: h.name, lower: h.name.toLowerCase(), value: h.value }));
  const add = modifier.add ?? [];
  const remove = (modifier.remove ?? []).map((n) => n.toLowerCase());
  return (headers) => {
    for (const h of set) {
      removeHeader(headers, h.lower);
      headers.push(h.name, h.value);
    }
    for (const h of add) headers.push(h.name, h.value);
    for (const n of remove) removeHeader(headers, n);
  };
}
