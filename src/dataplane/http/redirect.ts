// Builds the Location of a redirect route (Gateway API RequestRedirect semantics): unset parts keep
// the request's; a scheme change without a port drops to that scheme's default port.
import type { IrRedirect } from '../../ir/types.js';
import { rewritePath } from '../filters/url-rewrite.js';

export interface RedirectInput {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  /** Port from the Host header, or undefined when it had none. */
  readonly port: number | undefined;
  readonly path: string;
  /** '' or '?...' */
  readonly query: string;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

export function buildRedirectLocation(redirect: IrRedirect, input: RedirectInput): string {
  const scheme = redirect.scheme ?? input.scheme;
  const host = redirect.hostname ?? input.host;
  let port: number | undefined;
  if (redirect.port !== undefined) port = redirect.port;
  else if (redirect.scheme !== undefined && redirect.scheme !== input.scheme) port = undefined;
  else port = input.port;
  const path = redirect.path ? rewritePath(input.path, redirect.path) : input.path;
  const portPart = port === undefined || port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${hostPart}${portPart}${path}${input.query}`;
}
