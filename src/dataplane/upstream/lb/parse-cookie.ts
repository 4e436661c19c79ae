// One cookie's value out of a Cookie header, for LbContext.cookie (ring-hash on a cookie). Scans
// the header in place: no split, no map of every cookie, one slice for the value found.
//
// RFC 6265 §4.2.1: `cookie-string = cookie-pair *( ";" SP cookie-pair )`. Parsing is lenient the
// way servers are (§5.4 is for user agents): any whitespace around pairs is skipped, pairs without
// "=" are ignored, names are compared case-sensitively, the first pair with the name wins, and the
// value is returned as sent (surrounding DQUOTEs included: they are part of the value for hashing).

const EQUALS = 0x3d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * The value of cookie `name`, or undefined. `header` is `req.headers.cookie`: a string for
 * HTTP/1.1 (node joins several Cookie lines with "; "), possibly an array for HTTP/2.
 */
export function findCookie(header: string | readonly string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string') return findInString(header, name);
  for (const h of header) {
    const v = findInString(h, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

function findInString(header: string, name: string): string | undefined {
  const len = header.length;
  const nameLen = name.length;
  if (nameLen === 0) return undefined;
  let i = 0;
  while (i < len) {
    // Skip whitespace before the pair.
    let c = header.charCodeAt(i);
    while (c === SPACE || c === TAB) c = header.charCodeAt(++i);
    let end = header.indexOf(';', i);
    if (end === -1) end = len;
    if (header.startsWith(name, i)) {
      let j = i + nameLen;
      c = header.charCodeAt(j);
      while (c === SPACE || c === TAB) c = header.charCodeAt(++j);
      if (c === EQUALS) {
        let start = j + 1;
        let stop = end;
        while (start < stop && isWhitespace(header.charCodeAt(start))) start++;
        while (stop > start && isWhitespace(header.charCodeAt(stop - 1))) stop--;
        return header.slice(start, stop);
      }
    }
    i = end + 1;
  }
  return undefined;
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB;
}

