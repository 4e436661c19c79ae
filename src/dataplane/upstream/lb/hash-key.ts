// What a consistent-hash policy (ring hash, Maglev) hashes on, read from the request. The reader is
// chosen once per apply, so a pick does no switch over `hashOn`; undefined means the request has
// no key (header or cookie missing) and the policy picks at random.
import { assertNever } from '../../../core/assert-never.js';
import type { IrHashOn } from '../../../ir/types.js';
import type { LbContext } from './types.js';

export function compileHashKey(hashOn: IrHashOn): (ctx: LbContext) => string | undefined {
  switch (hashOn.kind) {
    case 'header': {
      const name = hashOn.name.toLowerCase();
      return (ctx) => ctx.header(name);
    }
    case 'cookie': {
      const { name, ttlSeconds, path } = hashOn;
      if (ttlSeconds === undefined) return (ctx) => ctx.cookie(name);
      return (ctx) => ctx.cookie(name) ?? ctx.generateCookie(name, ttlSeconds, path);
    }
    case 'query-parameter': {
      const name = hashOn.name;
      return (ctx) => ctx.query(name);
    }
    case 'source-ip':
      return (ctx) => ctx.sourceIp;
    default:
      return assertNever(hashOn, 'hashOn');
  }
}
