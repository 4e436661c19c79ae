// Hand-built HTTP/2 frames for attack tests (RFC 9113 §4.1, §6) and just enough HPACK to write a
// header block (RFC 7541: integers, raw strings without Huffman, literal and indexed fields) and to
// read a response status. A real client (node:http2) refuses to send most of these abuses, so the
// attacks write frames on a raw TCP socket and parse what comes back.
import net from 'node:net';

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
export const Flags = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** RFC 9113 §7. */
export const ErrorCode = { NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, ENHANCE_YOUR_CALM: 0xb } as const;
/** RFC 9113 §6.5.2. */
export const Setting = { HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5 } as const;

const FRAME_NAMES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** The 9-byte frame header (24-bit length, type, flags, 31-bit stream id) and the payload. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

export function settingsFrame(entries: readonly (readonly [id: number, value: number])[] = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export function pingFrame(opaque: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(opaque >>> 0, 4);
  return encodeFrame(FrameType.PING, 0, 0, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function headersFrame(streamId: number, block: Buffer, flags: { endStream: boolean; endHeaders: boolean }): Buffer {
  return encodeFrame(FrameType.HEADERS, (flags.endStream ? Flags.END_STREAM : 0) | (flags.endHeaders ? Flags.END_HEADERS : 0), streamId, block);
}

export function continuationFrame(streamId: number, block: Buffer, endHeaders: boolean): Buffer {
  return encodeFrame(FrameType.CONTINUATION, endHeaders ? Flags.END_HEADERS : 0, streamId, block);
}

// --- HPACK, encoding side (RFC 7541) ---

/** §5.1: an integer with an N-bit prefix; `pattern` holds the bits above the prefix. */
function encodeInteger(value: number, prefixBits: number, pattern: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([pattern | value]);
  const bytes = [pattern | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** §5.2 with H = 0: the raw octets, no Huffman. */
function encodeString(s: string): Buffer {
  const octets = Buffer.from(s, 'latin1');
  return Buffer.concat([encodeInteger(octets.length, 7, 0x00), octets]);
}

/** §6.2.2: literal field without indexing, new name (the decoder's dynamic table is untouched). */
export function literalField(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), encodeString(name), encodeString(value)]);
}

/** §6.2.1: literal field with incremental indexing, new name (inserted at dynamic index 62). */
export function literalFieldIndexed(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), encodeString(name), encodeString(value)]);
}

/** §6.1: a field by its index in the static (1-61) or dynamic (62+) table. */
export function indexedField(index: number): Buffer {
  return encodeInteger(index, 7, 0x80);
}

export type HeaderList = readonly (readonly [name: string, value: string])[];

/** A header block of literal fields without indexing, in the given order. */
export function headerBlock(fields: HeaderList): Buffer {
  return Buffer.concat(fields.map(([name, value]) => literalField(name, value)));
}

/** The pseudo-headers of a GET for `path` on `authority`. */
export function getRequest(authority: string, path: string): HeaderList {
  return [[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', authority]];
}

// --- reading the server's answer ---

/** Splits complete frames off `bytes`; `rest` is an incomplete tail. */
export function parseFrames(bytes: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  while (bytes.length - at >= 9) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes.length - at < 9 + length) break;
    frames.push({ type: bytes[at + 3]!, flags: bytes[at + 4]!, streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return { frames, rest: bytes.subarray(at) };
}

export function errorCodeOf(frame: Frame): number {
  // RST_STREAM: the code is the payload; GOAWAY: last stream id, then the code (RFC 9113 §6.4, §6.8).
  return frame.type === FrameType.GOAWAY ? frame.payload.readUInt32BE(4) : frame.payload.readUInt32BE(0);
}

/**
 * The `:status` of a response HEADERS frame. nghttp2 puts `:status` first: an indexed field for the
 * statuses of the static table (200, 204, 206, 304, 400, 404, 500; RFC 7541 App. A), else a literal
 * with the static name `:status` (index 8) and, for three digits, a raw (non-Huffman) value.
 */
export function statusOf(frame: Frame): number | undefined {
  const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
  const p = frame.payload;
  const first = p[0];
  if (first === undefined) return undefined;
  if ((first & 0x80) !== 0) return STATIC_STATUS[first & 0x7f];
  // §6.2.1 (0x40 | 8), §6.2.2 (0x00 | 8), §6.2.3 (0x10 | 8): literal value for name index 8.
  const literal = first === 0x48 || first === 0x08 || first === 0x18;
  const length = p[1];
  if (!literal || length === undefined || (length & 0x80) !== 0) return undefined;
  const value = p.subarray(2, 2 + length).toString('latin1');
  return /^\d{3}$/.test(value) ? Number(value) : undefined;
}

/** A one-line summary for assertion messages: counts per frame type, then the error codes seen. */
export function describeFrames(frames: readonly Frame[]): string {
  const counts = new Map<string, number>();
  const errors: string[] = [];
  for (const f of frames) {
    const name = FRAME_NAMES[f.type] ?? `type${f.type}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if ((f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM) && errors.length < 10) errors.push(`${name}(stream ${f.streamId}, code ${errorCodeOf(f)})`);
  }
  return `${[...counts].map(([k, v]) => `${k}×${v}`).join(' ')} ${errors.join(' ')}`.trim();
}

// --- a raw connection ---

export interface RawH2 {
  readonly socket: net.Socket;
  /** Every frame received so far, in order. */
  readonly frames: Frame[];
  /** True once the server closed (FIN or reset) or the socket failed. */
  readonly closed: boolean;
  /** Writes and resolves once the bytes are handed to the kernel, or the connection is gone. */
  send(bytes: Buffer): Promise<void>;
  /** Resolves when `until(frames)` holds, the connection closes, or `maxMs` pass. */
  settle(until: (frames: readonly Frame[]) => boolean, maxMs: number): Promise<void>;
  /** Stop reading: the server's writes back up in the kernel buffers. */
  pause(): void;
  resume(): void;
  destroy(): void;
}

/**
 * Connects, sends the client preface and a SETTINGS frame with `settings`, and parses everything
 * the server sends. Write errors after the server hung up (EPIPE, ECONNRESET) only mark it closed.
 */
export function openRawH2(port: number, settings: readonly (readonly [number, number])[] = []): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const frames: Frame[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    const waiters = new Set<() => void>();
    const wake = (): void => {
      for (const w of [...waiters]) w();
    };
    socket.on('data', (chunk: Buffer) => {
      const parsed = parseFrames(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]));
      frames.push(...parsed.frames);
      pending = Buffer.from(parsed.rest);
      wake();
    });
    const markClosed = (): void => {
      closed = true;
      wake();
    };
    socket.on('end', markClosed);
    socket.on('close', markClosed);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!closed && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') return reject(err);
      markClosed();
    });
    socket.once('connect', () => {
      socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame(settings)]));
      resolve({
        socket,
        frames,
        get closed() {
          return closed;
        },
        send: (bytes) =>
          new Promise((done) => {
            if (closed || socket.destroyed) return done();
            const finish = (): void => {
              waiters.delete(onClose);
              done();
            };
            const onClose = (): void => {
              if (closed) finish();
            };
            waiters.add(onClose);
            socket.write(bytes, finish);
          }),
        settle: (until, maxMs) =>
          new Promise((done) => {
            const check = (): void => {
              if (!closed && !until(frames)) return;
              finish();
            };
            const finish = (): void => {
              clearTimeout(timer);
              waiters.delete(check);
              done();
            };
            const timer = setTimeout(finish, maxMs);
            waiters.add(check);
            check();
          }),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        destroy: () => socket.destroy(),
      });
    });
  });
}
