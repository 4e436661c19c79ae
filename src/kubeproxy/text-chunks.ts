// Rendered rules for 10,000 Services are about 45 MB of text. Built as one string, every line
// stays alive (and is copied by each young-generation GC) until the final join, then the whole
// text is copied again into one buffer to be written. Handed out in chunks of about a megabyte, a
// line is garbage soon after it is made and the writer encodes a megabyte at a time.

/** Characters per chunk: large enough that a write per chunk costs nothing, small enough to stay young. */
export const CHUNK_CHARS = 1 << 20;

/**
 * The lines, each followed by "\n", gathered into chunks of at least `chunkChars` (the last may be
 * shorter). Gathered in an array and joined: `chunk += line + "\n"` made two rope nodes per line,
 * where join copies the characters once into a flat string, ready to encode.
 */
export function* linesInChunks(lines: Iterable<string>, chunkChars = CHUNK_CHARS): Generator<string> {
  let batch: string[] = [];
  let chars = 0;
  for (const line of lines) {
    batch.push(line);
    chars += line.length + 1;
    if (chars >= chunkChars) {
      // The empty last element gives the last line its "\n".
      batch.push('');
      yield batch.join('\n');
      batch = [];
      chars = 0;
    }
  }
  if (batch.length > 0) {
    batch.push('');
    yield batch.join('\n');
  }
}
