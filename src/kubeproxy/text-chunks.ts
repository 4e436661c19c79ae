// Rendered rules for 10,000 Services are about 45 MB of text. Built as one string, every line
// stays alive (and is copied by each young-generation GC) until the final join, then the whole
// text is copied again into one buffer to be written. Handed out in chunks of about a megabyte, a
// line is garbage soon after it is made and the writer encodes a megabyte at a time.

/** Characters per chunk: large enough that a write per chunk costs nothing, small enough to stay young. */
export const CHUNK_CHARS = 1 << 20;

/** The lines, each followed by "\n", concatenated into chunks of at least `chunkChars` (the last may be shorter). */
export function* linesInChunks(lines: Iterable<string>, chunkChars = CHUNK_CHARS): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line + '\n';
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
