// What node's HTTP server refuses on top of its parser, once a head is parsed (node 20
// lib/_http_server.js parserOnIncoming), so that the lean front end refuses the same requests:
// an HTTP/1.1 request without Host (RFC 9112 §3.2: 400), and an Expect other than 100-continue
// (RFC 9110 §10.1.1: 417). Upgrades are taken before either check, as node takes them.
import type { RequestHead } from './request-head.js';

export type HeadVerdict =
  | { readonly kind: 'ok'; readonly expectsContinue: boolean }
  | { readonly kind: 'refuse'; readonly status: 400 | 417; readonly reason: string };

const OK: HeadVerdict = { kind: 'ok', expectsContinue: false };
const OK_CONTINUE: HeadVerdict = { kind: 'ok', expectsContinue: true };

/** node's continueExpression. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export function checkServerRules(head: RequestHead): HeadVerdict {
  if (head.upgrade || head.versionMajor !== 1 || head.versionMinor !== 1) return OK;
  let host = false;
  let expect: string | undefined;
  const raw = head.rawHeaders;
  // node builds req.headers from the first 2000 lines only (maxHeadersCount).
  const n = Math.min(raw.length, 4000);
  for (let i = 0; i < n; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') host = true;
    else if (name.length === 6 && name.toLowerCase() === 'expect') expect = expect === undefined ? raw[i + 1]! : `${expect}, ${raw[i + 1]!}`;
  }
  if (!host) return { kind: 'refuse', status: 400, reason: 'HTTP/1.1 request without Host' };
  if (expect === undefined) return OK;
  if (CONTINUE.test(expect)) return OK_CONTINUE;
  return { kind: 'refuse', status: 417, reason: 'Expect other than 100-continue' };
}
