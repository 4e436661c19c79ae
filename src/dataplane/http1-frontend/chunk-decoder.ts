// A chunked request body (RFC 9112 §7.1) as llhttp reads it: a size in hex (at most 2^64-1, no
// whitespace after it), extensions `;name[=token|"quoted"]` with no whitespace around them, at
// most 16 KiB of extensions per chunk (node's limit), data, CRLF; size 0 ends the data, and the
// trailer fields follow (the head scanner reads those).
import { CR, HEX_VALUE, LF, QDTEXT, QUOTED_PAIR_CHAR, TOKEN } from './char-classes.js';
import { Http1ParseError, type Http1ErrorCode } from './parse-error.js';

const enum C { SizeStart, Size, Extensions, ExtensionName, ExtensionValue, Quoted, QuotedPair, QuotedDone, SizeLf, Data, DataCr, DataLf }

/** node's kMaxChunkExtensionsSize: extension bytes (names and values) allowed on one chunk-size line. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;

export class ChunkDecoder {
  private state = C.SizeStart;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extensionBytes = 0;
  /** Set once the last chunk's line (size 0) has been read: trailers follow. */
  lastChunk = false;
  error: Http1ParseError | undefined;

  reset(): void {
    this.state = C.SizeStart;
    this.lastChunk = false;
  }

  /**
   * Reads `buf[pos, end)`; data goes to `onData` as views of `buf`. Returns where it stopped: after
   * the last chunk's line, at `end`, or -1 on error. `offset` is the stream offset of `buf[0]`.
   */
  scan(buf: Buffer, pos: number, end: number, offset: number, onData: (chunk: Buffer) => void): number {
    const fail = (code: Http1ErrorCode, reason: string, at: number): number => {
      this.error = new Http1ParseError(code, reason, offset + at);
      return -1;
    };
    while (pos < end) {
      const c = buf[pos]!;
      switch (this.state) {
        case C.SizeStart:
          if (HEX_VALUE[c] === 0xff) return fail('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size', pos);
          this.size = 0;
          this.digits = 0;
          this.extensionBytes = 0;
          this.state = C.Size;
          break;
        case C.Size: {
          const v = HEX_VALUE[c]!;
          if (v !== 0xff) {
            if (this.size !== 0 || v !== 0) this.digits++;
            // More than 16 significant hex digits is more than a u64 (llhttp's overflow).
            if (this.digits > 16) return fail('HPE_INVALID_CHUNK_SIZE', 'Chunk size overflow', pos);
            this.size = this.size * 16 + v;
            pos++;
            break;
          }
          if (c === CR) this.state = C.SizeLf;
          else if (c === 0x3b) this.state = C.Extensions;
          else if (c === LF) return fail('HPE_CR_EXPECTED', 'Missing expected CR after chunk size', pos);
          else return fail('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size', pos);
          pos++;
          break;
        }
        case C.Extensions:
          if (c === 0x20 || c === CR) return fail('HPE_STRICT', 'Invalid character in chunk extensions', pos);
          this.state = C.ExtensionName;
          break;
        case C.ExtensionName:
        case C.ExtensionValue: {
          const isName = this.state === C.ExtensionName;
          if (TOKEN[c]) {
            pos++;
            if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return fail('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'Chunk extensions overflow', pos);
            break;
          }
          if (c === 0x3d && isName) this.state = C.ExtensionValue;
          else if (c === 0x22 && !isName) this.state = C.Quoted;
          else if (c === 0x3b) this.state = C.Extensions;
          else if (c === CR) this.state = C.SizeLf;
          else if (c === LF) return fail('HPE_CR_EXPECTED', 'Missing expected CR after chunk extension', pos);
          else return fail('HPE_STRICT', `Invalid character in chunk extensions ${isName ? 'name' : 'value'}`, pos);
          if (c === 0x22 && ++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return fail('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'Chunk extensions overflow', pos);
          pos++;
          break;
        }
        case C.Quoted:
          if (QDTEXT[c]) this.state = C.Quoted;
          else if (c === 0x22) this.state = C.QuotedDone;
          else if (c === 0x5c) this.state = C.QuotedPair;
          else return fail('HPE_STRICT', 'Invalid character in chunk extensions quoted value', pos);
          if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return fail('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'Chunk extensions overflow', pos);
          pos++;
          break;
        case C.QuotedPair:
          if (!QUOTED_PAIR_CHAR[c]) return fail('HPE_STRICT', 'Invalid quoted-pair in chunk extensions quoted value', pos);
          if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return fail('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'Chunk extensions overflow', pos);
          this.state = C.Quoted;
          pos++;
          break;
        case C.QuotedDone:
          if (c === 0x3b) this.state = C.Extensions;
          else if (c === CR) this.state = C.SizeLf;
          else if (c === LF) return fail('HPE_CR_EXPECTED', 'Missing expected CR after chunk extension value', pos);
          else return fail('HPE_STRICT', 'Invalid character in chunk extensions quote value', pos);
          pos++;
          break;
        case C.SizeLf:
          if (c !== LF) return fail('HPE_STRICT', 'Expected LF after chunk size', pos);
          pos++;
          if (this.size === 0) {
            this.lastChunk = true;
            return pos;
          }
          this.remaining = this.size;
          this.state = C.Data;
          break;
        case C.Data: {
          const n = Math.min(this.remaining, end - pos);
          onData(buf.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = C.DataCr;
          break;
        }
        case C.DataCr:
          if (c === LF) return fail('HPE_CR_EXPECTED', 'Missing expected CR after chunk data', pos);
          if (c !== CR) return fail('HPE_STRICT', 'Expected LF after chunk data', pos);
          this.state = C.DataLf;
          pos++;
          break;
        case C.DataLf:
          if (c !== LF) return fail('HPE_STRICT', 'Expected LF after chunk data', pos);
          this.state = C.SizeStart;
          pos++;
          break;
      }
    }
    return end;
  }
}
