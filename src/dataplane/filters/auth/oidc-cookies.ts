// The cookies of the oidc method on the wire: `Set-Cookie` lines (RFC 6265 §4.1) and their removal
// from the request that goes upstream. The session cookie is the gateway's credential, not the
// application's: an upstream that logged or echoed it would hand out a replayable login, so it is
// cut out of the Cookie header, and the other cookies pass as they came.

export interface CookieOptions {
  readonly path: string;
  /** Seconds; 0 deletes the cookie (RFC 6265 §5.2.2). */
  readonly maxAgeSec: number;
  /** Only over TLS: a Secure cookie set over plain HTTP is refused by browsers (RFC 6265bis §5.6). */
  readonly secure: boolean;
}

/**
 * HttpOnly: no script reads it (an XSS cannot steal the session). SameSite=Lax: sent on top-level
 * navigations, which the provider's redirect back to the callback is, and not on cross-site
 * subrequests, so another site cannot ride the session with a form POST (RFC 6265bis §8.8).
 */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  return `${name}=${value}; Path=${options.path}; Max-Age=${options.maxAgeSec}; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

export function clearCookie(name: string, options: Omit<CookieOptions, 'maxAgeSec'>): string {
  return setCookie(name, '', { ...options, maxAgeSec: 0 });
}

/** Removes the named cookies from every Cookie field of a flat header list; a field left empty goes. */
export function stripCookies(headers: string[], names: ReadonlySet<string>): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'cookie') continue;
    const kept = headers[i + 1]!.split(';').filter((pair) => {
      const eq = pair.indexOf('=');
      return !names.has((eq === -1 ? pair : pair.slice(0, eq)).trim());
    });
    const value = kept.map((p) => p.trim()).filter((p) => p !== '').join('; ');
    if (value === '') {
      headers.splice(i, 2);
      i -= 2;
    } else headers[i + 1] = value;
  }
}
