// Request-target normalisation, before route matching and for forwarding: the path a route sees
// is the path the upstream gets, so `/public/../admin` or `/public/%2e%2e/admin` can neither slip
// past a `/public` rule nor reach an upstream that would resolve the dots itself.
//
// - Forms (RFC 9112 §3.2): origin-form `/path?query`, and absolute-form `http(s)://host/path`, whose
//   authority is returned for the caller to use as the host (§3.2.2). Asterisk- and authority-form
//   (`*`, `host:port`) are the caller's business (OPTIONS, CONNECT) and are reported invalid here.
// - Characters: raw CTLs, space, DEL and bytes above 0x7E are refused (node hands us the target as
//   latin1, so non-ASCII bytes show up as chars 0x80-0xFF), as is `#`: a fragment never belongs
//   in a request-target (Envoy rejects it too). Other printable ASCII outside RFC 3986's pchar set
//   (`"`, `<`, `|`, `{`, `\`, ...) passes untouched: real clients send them and refusing them
//   protects nothing.
// - Percent-encoding (RFC 3986 §6.2.2.1-2): escapes of unreserved characters (ALPHA DIGIT - . _ ~)
//   are decoded, all others keep their escape with upper-case hex. `%2F` stays encoded: it is data,
//   not a separator, so `/public%2F..%2Fadmin` is one segment and never becomes `/admin`.
//   Malformed escapes (`%zz`, `%4`) are refused. The query is validated but not rewritten.
// - Dot segments (RFC 3986 §5.2.4) are removed after decoding, so `%2e%2e` counts as `..`; `..` at
//   the root stays at the root. Empty segments (`//`) are kept: they are meaningful to some
//   upstreams, and merging them would be a rewrite the user did not ask for.
// The common path (no `%`, no `.` or `..` segment) is returned as the very same string.

export type NormalizedTarget =
  | {
      readonly kind: 'ok';
      /** Normalised path, starting with `/`. */
      readonly path: string;
      /** The query with its leading `?`, as sent, or ''. */
      readonly query: string;
      /** The authority of an absolute-form target (`host:port`), '' for origin-form. */
      readonly authority: string;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const QUESTION = 0x3f;
const HASH = 0x23;

export function normalizeRequestTarget(target: string): NormalizedTarget {
  const len = target.length;
  let start = 0;
  let authority = '';
  if (target.charCodeAt(0) !== SLASH) {
    const abs = splitAbsoluteForm(target);
    if (typeof abs === 'string') return { kind: 'invalid', reason: abs };
    start = abs.pathStart;
    authority = abs.authority;
  }

  // One scan of the path: validate characters, note escapes and dot segments, find the query.
  let hasPercent = false;
  let hasDotSegment = false;
  let i = start;
  for (; i < len; i++) {
    const c = target.charCodeAt(i);
    if (c === QUESTION) break;
    if (c <= 0x20 || c >= 0x7f || c === HASH) return invalidChar(c);
    if (c === PERCENT) hasPercent = true;
    else if (c === SLASH && target.charCodeAt(i + 1) === DOT && !hasDotSegment) hasDotSegment = isDotSegmentAt(target, i + 1);
  }
  const queryStart = i;
  for (i++; i < len; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === HASH) return invalidChar(c);
  }

  let path = start === 0 && queryStart === len ? target : target.slice(start, queryStart);
  const query = queryStart === len ? '' : target.slice(queryStart);
  if (path === '') path = '/'; // absolute-form with an empty path (RFC 9112 §3.2.1)
  if (hasPercent) {
    const decoded = normalizePercentEncoding(path);
    if (decoded === undefined) return { kind: 'invalid', reason: 'malformed percent-encoding in path' };
    path = decoded;
    hasDotSegment = true; // decoding may have produced `.` or `..`; the removal below is exact anyway
  }
  if (hasDotSegment) path = removeDotSegments(path);
  return { kind: 'ok', path, query, authority };
}

/** RFC 3986 §6.2.2.1-2; undefined when an escape is malformed. */
export function normalizePercentEncoding(path: string): string | undefined {
  let out = '';
  let runStart = 0;
  let p = path.indexOf('%');
  while (p !== -1) {
    const hi = hexValue(path.charCodeAt(p + 1));
    const lo = hexValue(path.charCodeAt(p + 2));
    if (hi < 0 || lo < 0) return undefined;
    const byte = hi * 16 + lo;
    out += path.slice(runStart, p);
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX_UPPER[hi]}${HEX_UPPER[lo]}`;
    runStart = p + 3;
    p = path.indexOf('%', runStart);
  }
  return out + path.slice(runStart);
}

/**
 * RFC 3986 §5.2.4 for an absolute path (one starting with `/`), segment-wise: `.` is dropped, `..`
 * drops the segment before it (none at the root), and either one as the last segment leaves a
 * trailing `/`. Empty segments are ordinary segments, which is what the RFC's algorithm does too
 * (`/a//../b` → `/a/b`).
 */
export function removeDotSegments(path: string): string {
  const input = path.split('/');
  const out: string[] = [];
  const last = input.length - 1;
  for (let k = 1; k <= last; k++) {
    const segment = input[k]!;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      if (k === last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}

/** `.` or `..` starting at `at` and ending the segment. */
function isDotSegmentAt(s: string, at: number): boolean {
  let next = s.charCodeAt(at + 1);
  if (next === DOT) next = s.charCodeAt(at + 2);
  // NaN: end of string. `?` ends the path; `#` is refused by the scan anyway.
  return next === SLASH || next === QUESTION || Number.isNaN(next);
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e
  );
}

const HEX_UPPER = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function invalidChar(c: number): NormalizedTarget {
  const shown = c === HASH ? "'#' (fragment)" : `0x${c.toString(16).padStart(2, '0')}`;
  return { kind: 'invalid', reason: `invalid character ${shown} in request-target` };
}

/**
 * RFC 9112 §3.2.2 absolute-form: `http://authority[/path][?query]` (scheme case-insensitive).
 * Returns where the path starts and the authority, or the reason it is refused. Userinfo is
 * refused (RFC 9110 §4.2.4: a recipient should treat it as an error).
 */
function splitAbsoluteForm(target: string): { pathStart: number; authority: string } | string {
  const lower = target.slice(0, 8).toLowerCase();
  const schemeEnd = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : -1;
  if (schemeEnd < 0) return 'request-target must be origin-form (/path) or absolute-form (http://host/path)';
  let end = schemeEnd;
  for (; end < target.length; end++) {
    const c = target.charCodeAt(end);
    if (c === SLASH || c === QUESTION) break;
    if (c <= 0x20 || c >= 0x7f || c === HASH) return 'invalid character in request-target authority';
    if (c === 0x40) return 'userinfo in request-target authority';
  }
  if (end === schemeEnd) return 'empty authority in absolute-form request-target';
  return { pathStart: end, authority: target.slice(schemeEnd, end) };
}
