// Gateway API RequestHeaderModifier / ResponseHeaderModifier: set replaces, add appends, remove drops.
import type { IrHeaderModifier } from '../../ir/types.js';
import { removeHeader, setHeader } from './header-list.js';

export function compileHeaderModifier(modifier: IrHeaderModifier): (headers: string[]) => void {
  const set = modifier.set ?? [];
  const add = modifier.add ?? [];
  const remove = (modifier.remove ?? []).map((n) => n.toLowerCase());
  return (headers) => {
    for (const h of set) setHeader(headers, h.name, h.value);
    for (const h of add) headers.push(h.name, h.value);
    for (const n of remove) removeHeader(headers, n);
  };
}
