// Which authority (host[:port]) a request is for: the one it is routed by AND the one sent upstream
// as Host, so the two can never disagree (a request routed as one host and delivered as another
// reaches a backend that no route chose for it).
// - HTTP/1.1, absolute-form target (`GET http://a.example/x`): the target's authority wins and Host
//   is ignored (RFC 9112 §3.2.2). Otherwise the Host header (absent only on HTTP/1.0: '').
// - HTTP/2: `:authority`; a `host` header naming another host is a malformed request (RFC 9113
//   §8.3.1). Without `:authority`, `host` is the authority.
import type { IncomingHttpHeaders } from 'node:http';

export type RequestAuthority =
  | { readonly kind: 'ok'; readonly authority: string; readonly host: string; readonly port: number | undefined }
  | { readonly kind: 'invalid'; readonly reason: string };

export function resolveRequestAuthority(headers: IncomingHttpHeaders, isH2: boolean, targetAuthority: string): RequestAuthority {
  const hostHeader = headers.host;
  if (isH2) {
    const pseudo = headers[':authority'] as string | undefined;
    if (pseudo !== undefined && pseudo !== '') {
      if (hostHeader !== undefined && hostHeader !== pseudo && !sameAuthority(pseudo, hostHeader)) {
        return { kind: 'invalid', reason: 'host header differs from :authority' };
      }
      return authorityOf(pseudo);
    }
    return authorityOf(hostHeader ?? '');
  }
  return authorityOf(targetAuthority !== '' ? targetAuthority : hostHeader ?? '');
}

function authorityOf(authority: string): RequestAuthority {
  const { host, port } = splitHost(authority);
  return { kind: 'ok', authority, host, port };
}

function sameAuthority(a: string, b: string): boolean {
  const x = splitHost(a);
  const y = splitHost(b);
  return x.host === y.host && (x.port === undefined || y.port === undefined || x.port === y.port);
}

/** `Example.COM:8080` → host `example.com`, port 8080; `[::1]:80` → `::1`. */
export function splitHost(raw: string): { host: string; port: number | undefined } {
  let host = raw;
  let port: number | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end !== -1) {
      const rest = host.slice(end + 1);
      host = host.slice(1, end);
      if (rest.startsWith(':')) port = Number(rest.slice(1)) || undefined;
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      port = Number(host.slice(colon + 1)) || undefined;
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return { host: host.toLowerCase(), port };
}
