// Seeded mutations of raw requests for the differential fuzz test: byte flips towards the bytes
// HTTP/1.1 framing turns on, insertions and deletions, duplicated or dropped lines, framing header
// lines spliced in, and truncation. The same seed gives the same sequence of payloads.
// The config fuzzer's seeded generator (mulberry32 from src/core/random.ts).
export { seededRandom } from '../../fuzz/mutate-manifest.js';

const INTERESTING_BYTES = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x22, 0x3d, 0x7f, 0x80, 0xff, 0x0b, 0x0c, 0x01, 0x30, 0x41, 0x2f, 0x3f, 0x23, 0x40, 0x5c];

const SPLICES = [
  'Content-Length: 0\r\n', 'Content-Length: 3\r\n', 'Content-Length: 3, 3\r\n', 'Content-Length:  3 \r\n',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip, chunked\r\n', 'Transfer-Encoding: chunked, gzip\r\n',
  'Transfer-Encoding: xchunked\r\n', 'Transfer-Encoding:\tchunked\r\n', 'Transfer-Encoding: identity\r\n',
  'Connection: close\r\n', 'Connection: keep-alive\r\n', 'Connection: upgrade\r\n', 'Upgrade: websocket\r\n',
  'Proxy-Connection: close\r\n', 'Expect: 100-continue\r\n', 'Expect: nope\r\n', 'Host: b\r\n', ' folded\r\n',
  'X:\r\n', '\r\n', '\n', '0\r\n\r\n', '3\r\nabc\r\n', '3;x="y"\r\nabc\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
];

export const SEEDS: readonly string[] = [
  'GET /a?b=c HTTP/1.1\r\nHost: a.example\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello',
  'POST /p HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n',
  'PUT http://a.example:80/x HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc',
  'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
];

export function mutate(seed: Buffer, random: () => number): Buffer {
  let bytes = [...seed];
  const rounds = random() < 0.6 ? 1 : 2 + Math.floor(random() * 3);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(random() * (bytes.length + 1));
    switch (Math.floor(random() * 7)) {
      case 0:
        if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = pick(INTERESTING_BYTES);
        break;
      case 1:
        bytes.splice(at, 0, random() < 0.5 ? pick(INTERESTING_BYTES) : Math.floor(random() * 256));
        break;
      case 2:
        bytes.splice(at, 1 + Math.floor(random() * 3));
        break;
      case 3:
        bytes.splice(lineStart(bytes, at), 0, ...Buffer.from(pick(SPLICES), 'latin1'));
        break;
      case 4: {
        // Duplicate the line `at` is in.
        const start = lineStart(bytes, at);
        let end = bytes.indexOf(0x0a, start);
        end = end < 0 ? bytes.length : end + 1;
        bytes.splice(start, 0, ...bytes.slice(start, end));
        break;
      }
      case 5:
        bytes = bytes.slice(0, at);
        break;
      default:
        if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = Math.floor(random() * 256);
    }
  }
  return Buffer.from(bytes);
}

function lineStart(bytes: readonly number[], at: number): number {
  const before = bytes.lastIndexOf(0x0a, at - 1);
  return before < 0 ? 0 : before + 1;
}
