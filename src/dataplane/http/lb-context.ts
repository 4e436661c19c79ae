// The load balancer's view of a request, built only for clusters whose policy reads it (ring hash).
import type { IncomingHttpHeaders } from 'node:http';
import type { LbContext } from '../upstream/lb/types.js';
import { findCookie } from '../upstream/lb/parse-cookie.js';

export class RequestLbContext implements LbContext {
  constructor(private readonly headers: IncomingHttpHeaders, readonly sourceIp: string) {}

  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  cookie(name: string): string | undefined {
    const raw = this.headers.cookie;
    return raw === undefined ? undefined : findCookie(raw, name);
  }
}

/** For policies that read nothing from the request. */
export const EMPTY_LB_CONTEXT: LbContext = {
  header: () => undefined,
  cookie: () => undefined,
  sourceIp: '',
};
