// Smuggling variants and path/host confusion, table-driven. For each attack: the answer's status,
// nothing outside `/public` (and no dot segment) ever reaches the backend, and the gateway keeps
// serving. A new finding becomes one more row here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertServing, rawExchange, SITE, startAttackBed, statusLines } from './attack-harness.js';

interface Attack {
  readonly name: string;
  readonly payload: string;
  /** Expected status of the first (and, for refusals, only) answer. */
  readonly status: number;
}

const H = `Host: ${SITE}\r\n`;
const SMUGGLED = `GET /internal/secret HTTP/1.1\r\n${H}\r\n`;

const SMUGGLING: readonly Attack[] = [
  { name: 'CL.TE', payload: `POST /public/a HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, status: 400 },
  { name: 'TE.CL', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, status: 400 },
  { name: 'TE xchunked', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'TE space before colon', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'TE chunked + identity lines', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'TE chunked, identity', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'TE obs-fold', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'TE with vertical tab', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'CL with plus sign', payload: `POST /public/a HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, status: 400 },
  { name: 'CL list', payload: `POST /public/a HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, status: 400 },
  { name: 'CL hex', payload: `POST /public/a HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, status: 400 },
  { name: 'chunk size overflow', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size with bare LF', payload: `POST /public/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${SMUGGLED}`, status: 400 },
  { name: 'bare CR line end', payload: `GET /public/a HTTP/1.1\r${H}\r\n`, status: 400 },
  { name: 'header without colon', payload: `GET /public/a HTTP/1.1\r\n${H}Transfer-Encoding chunked\r\n\r\n`, status: 400 },
  { name: 'NUL in header value', payload: `GET /public/a HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, status: 400 },
  // RFC 9112 §3 lets a recipient split the request line on whitespace; the gateway writes its own
  // request line upstream, so the backend never sees the doubled space.
  { name: 'request line with two spaces', payload: `GET  /public/a HTTP/1.1\r\n${H}\r\n`, status: 200 },
  { name: 'request line with trailing junk', payload: `GET /public/a HTTP/1.1 x\r\n${H}\r\n`, status: 400 },
  { name: 'HTTP/0.9-style request line', payload: `GET /public/a\r\n\r\n`, status: 400 },
  { name: 'HTTP/2.0 in an HTTP/1 request line', payload: `GET /public/a HTTP/2.0\r\n${H}\r\n`, status: 400 },
  { name: 'HTTP/1.1 without Host', payload: `GET /public/a HTTP/1.1\r\n\r\n`, status: 400 },
  { name: 'absolute-form with userinfo', payload: `GET http://user@${SITE}/public/a HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'absolute-form with another scheme', payload: `GET ftp://${SITE}/public/a HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'asterisk-form on GET', payload: `GET * HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'fragment in target', payload: `GET /public/a#/../../internal HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'CONNECT tunnel request', payload: `CONNECT internal:22 HTTP/1.1\r\nHost: internal:22\r\n\r\nSSH-2.0-x\r\n`, status: 405 },
];

const CONFUSION: readonly Attack[] = [
  { name: 'dot segments', payload: `GET /public/../internal/secret HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'encoded dot segments', payload: `GET /public/%2e%2e/internal/secret HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'mixed-case encoded dots', payload: `GET /public/%2E./internal HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'encoded slash', payload: `GET /public%2F..%2Finternal HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'upper-case prefix', payload: `GET /PUBLIC/x HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'prefix without segment boundary', payload: `GET /publicity HTTP/1.1\r\n${H}\r\n`, status: 404 },
  { name: 'double-encoded dots', payload: `GET /public/%252e%252e/internal HTTP/1.1\r\n${H}\r\n`, status: 200 },
  { name: 'malformed escape', payload: `GET /public/%zz HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'raw non-ASCII byte in path', payload: `GET /public/\xff HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'Host with a path', payload: `GET /public/x HTTP/1.1\r\nHost: ${SITE}/../internal\r\n\r\n`, status: 404 },
  { name: 'Host with userinfo', payload: `GET /public/x HTTP/1.1\r\nHost: evil@${SITE}\r\n\r\n`, status: 404 },
  { name: 'Host of another site', payload: `GET /public/x HTTP/1.1\r\nHost: evil.example.com\r\n\r\n`, status: 404 },
  { name: 'Host with upper case and a trailing dot (same site)', payload: `GET /public/x HTTP/1.1\r\nHost: SITE.Example.COM.\r\n\r\n`, status: 200 },
];

function checkBackend(seen: readonly { url: string }[], name: string): void {
  for (const { url } of seen) {
    assert.ok(url.startsWith('/public/') || url === '/public', `${name}: ${url} reached the backend`);
    assert.doesNotMatch(url, /\/\.\.?(\/|$)|%2e/i, `${name}: a dot segment reached the backend in ${url}`);
  }
}

for (const [group, attacks] of [['smuggling', SMUGGLING], ['path and host confusion', CONFUSION]] as const) {
  test(`${group}: each attack gets its answer, nothing unrouted reaches the backend, the gateway keeps serving`, async (t) => {
    const bed = await startAttackBed(t);
    const wrong: string[] = [];
    for (const attack of attacks) {
      const answer = await rawExchange(bed.gw.httpPort, attack.payload + (attack.status >= 400 ? SMUGGLED : ''), { waitMs: 1500 });
      const lines = statusLines(answer);
      if (lines[0] !== `HTTP/1.1 ${attack.status}`) wrong.push(`${attack.name}: want ${attack.status}, got ${JSON.stringify(answer.slice(0, 200))}`);
      else if (attack.status >= 400 && attack.status !== 404 && lines.length !== 1) wrong.push(`${attack.name}: a refusal must be the only answer: ${JSON.stringify(answer.slice(0, 400))}`);
      checkBackend(bed.seen, attack.name);
      await assertServing(bed.gw.httpPort);
    }
    assert.deepEqual(wrong, []);
  });
}
