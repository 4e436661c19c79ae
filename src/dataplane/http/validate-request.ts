// Header checks a proxy must make before forwarding an HTTP/1.x request, on top of node's parser:
// anything two HTTP implementations may frame differently is refused (400), never forwarded, so
// that no upstream can be made to read a different request boundary than we did (request
// smuggling, RFC 9112 §6.1, §6.3; RFC 9110 §5.5).
//
// What node's own parser (llhttp) already refuses, measured with raw requests over net.connect on
// Node 20.20 (test/http-normalize/validate-request.test.ts re-measures it on every run). "handler"
// means node calls the request handler with the headers, so a proxy would start forwarding:
//                                                    default parser      insecureHTTPParser: true
//   Content-Length and Transfer-Encoding together    400                 handler
//   two Content-Length lines (equal or not)          400                 400
//   Content-Length not 1*DIGIT (`+5`, `5, 5`, `0x5`) 400                 400
//   TE `chunked, gzip` (chunked not last)            400                 handler
//   TE `gzip`, `xchunked`, `identity`                handler, then 400   handler, then the body
//                                                    on the body         parser fails
//   TE `gzip, chunked`, or `gzip` + `chunked` lines  handler             handler
//   chunked twice (`chunked, chunked`, two lines)    400                 handler
//   obs-fold, bare LF line ends, LF inside a value   400                 handler (node repairs)
//   bare CR inside a value                           400                 400
//   NUL, other CTLs inside a value                   400                 handler
//   header name not a token                          400                 400
//   space before the colon                           400                 handler (name has SP)
//   two Host lines                                   handler             handler
//   no Host on HTTP/1.1                              400                 400
// `insecureHTTPParser: false` is the default and behaves as the default column. So with the
// default parser this function must catch: two Host lines (RFC 9112 §3.2: 400), and any transfer
// coding other than exactly `chunked`. Node accepts `gzip, chunked` (valid, but a proxy that
// re-frames the body would drop the gzip coding; RFC 9112 §6.1 lets a server refuse codings it
// does not handle), and lets `gzip` alone reach the handler before it fails on the body, when a
// proxy has already sent the headers upstream. The other checks are repeated because they cost
// one pass over headers we look at anyway, and because a listener started with
// insecureHTTPParser (or a future node) must not open a smuggling hole: with the lenient parser
// every framing attack in the table above is still refused by this function.
//
// For HTTP/1.x only: HTTP/2 framing has no Content-Length/Transfer-Encoding ambiguity, and nghttp2
// refuses connection-specific headers and bad characters itself (its rawHeaders also carry
// pseudo-headers such as `:path`, which are not tokens).
import { TOKEN_CHAR } from '../../core/http-field-chars.js';

export type HeaderValidation = { readonly kind: 'ok' } | { readonly kind: 'invalid'; readonly reason: string };

const OK: HeaderValidation = { kind: 'ok' };


/**
 * RFC 9110 §5.5: a field value is VCHAR, obs-text, SP and HTAB. CR, LF and NUL must be refused;
 * the other CTLs and DEL are refused too, as node's strict parser does.
 */
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;

export interface ValidateHeadersOptions {
  /**
   * Check header-name and header-value characters (default true). A listener on node's default
   * (strict) parser may pass false: llhttp already refuses every case these checks catch (see the
   * table above), and the name and value scans are most of this function's cost (about half a
   * microsecond for a browser's headers). The framing checks always run.
   */
  readonly checkCharacters?: boolean;
}

/** `rawHeaders` is node's flat `req.rawHeaders`: [name, value, name, value, ...]. */
export function validateHeaders(rawHeaders: readonly string[], options?: ValidateHeadersOptions): HeaderValidation {
  const checkCharacters = options?.checkCharacters !== false;
  let hosts = 0;
  let contentLengths = 0;
  let transferEncodings = 0;
  let transferEncoding = '';
  const n = rawHeaders.length;
  for (let i = 0; i < n; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1] ?? '';
    const len = name.length;
    if (checkCharacters) {
      if (len === 0) return invalid('empty header name');
      for (let k = 0; k < len; k++) {
        const c = name.charCodeAt(k);
        if (c >= 128 || TOKEN_CHAR[c] === 0) return invalid(`header name ${JSON.stringify(name)} is not a token`);
      }
      if (BAD_VALUE_CHAR.test(value)) return invalid(`control character in the value of ${name}`);
    }
    // Only names of the right length are compared, and without allocating a lower-case copy.
    switch (len) {
      case 4:
        if (equalsLowerCase(name, 'host')) hosts++;
        break;
      case 14:
        if (equalsLowerCase(name, 'content-length')) contentLengths++;
        break;
      case 17:
        if (equalsLowerCase(name, 'transfer-encoding')) {
          transferEncodings++;
          transferEncoding = value;
        }
        break;
    }
  }
  if (hosts > 1) return invalid('more than one Host header'); // RFC 9112 §3.2
  // RFC 9110 §8.6 allows a list of identical values; refusing is simpler and what proxies do.
  if (contentLengths > 1) return invalid('more than one Content-Length header');
  if (transferEncodings > 0) {
    // RFC 9112 §6.1: a sender must not send both; a server may refuse such a message.
    if (contentLengths > 0) return invalid('both Content-Length and Transfer-Encoding');
    if (transferEncodings > 1 || !equalsLowerCase(trimOws(transferEncoding), 'chunked')) {
      return invalid('Transfer-Encoding other than chunked');
    }
  }
  return OK;
}

/**
 * ASCII case-insensitive against a lower-case `lower` made of letters and `-`: `c | 0x20` maps
 * only A-Z onto a-z, and only `-` or CR onto `-` (CR never reaches here: node refuses it in
 * names and values even with checkCharacters off).
 */
function equalsLowerCase(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let k = 0; k < name.length; k++) if ((name.charCodeAt(k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function invalid(reason: string): HeaderValidation {
  return { kind: 'invalid', reason };
}
