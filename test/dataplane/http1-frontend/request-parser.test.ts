// The parser's own contract, beyond what the differential tests compare: body chunks it hands out
// stay intact after later reads (they may be views of its buffers), and a paused parser keeps what
// arrives and reads it on resume, one pipelined request at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, type ParsedRequestHead } from '../../../src/dataplane/http1-frontend/request-parser.js';
import { seededRandom } from './mutate-request.js';

test('body chunks stay intact while later bytes arrive, and pausing holds pipelined requests', () => {
  const bodies = ['a'.repeat(3000), 'b'.repeat(70), 'c'.repeat(5000)];
  const payload = Buffer.from(
    `POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodies[0]!.length}\r\n\r\n${bodies[0]}` +
      `POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${bodies[1]!.length.toString(16)}\r\n${bodies[1]}\r\n0\r\n\r\n` +
      `POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodies[2]!.length}\r\n\r\n${bodies[2]}`,
    'latin1',
  );
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const seen: { url: string; chunks: Buffer[] }[] = [];
    let ended = 0;
    const parser: RequestParser = new RequestParser(
      {
        onHead: (h: ParsedRequestHead) => void seen.push({ url: h.url, chunks: [] }),
        // Kept as handed out, no copy: a later read must not overwrite them.
        onBody: (chunk) => void seen.at(-1)!.chunks.push(chunk),
        onEnd: () => {
          ended++;
          parser.pause();
        },
        onUpgrade: () => assert.fail('no upgrade'),
        onError: (e) => assert.fail(e.message),
      },
      { maxHeaderBytes: 16 * 1024 },
    );
    let at = 0;
    while (at < payload.length) {
      const n = 1 + Math.floor(random() * 700);
      parser.execute(payload.subarray(at, at + n));
      at += n;
      // Sometimes the response is done before more bytes arrive, sometimes after.
      if (parser.isPaused && random() < 0.5) parser.resume();
    }
    while (ended < 3) {
      assert.ok(parser.isPaused, `seed ${seed}: waiting for a resume with ${ended} requests ended`);
      parser.resume();
    }
    assert.deepEqual(seen.map((s) => s.url), ['/1', '/2', '/3'], `seed ${seed}`);
    assert.deepEqual(seen.map((s) => Buffer.concat(s.chunks).toString('latin1')), bodies, `seed ${seed}: bodies intact`);
  }
});
