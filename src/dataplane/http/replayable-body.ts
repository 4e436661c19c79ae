// Retrying a request on another endpoint, or mirroring it, needs its body twice. Bodies are
// streamed, not kept, with one exception (as Envoy buffers for retries and shadows): a request that
// declares a small Content-Length, and may be retried or is mirrored, is read into memory first.
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { CompiledRetryPolicy } from './retry-policy.js';

/** RFC 9110 §9.2.2. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export const MAX_REPLAYABLE_BODY_BYTES = 64 * 1024;

/** Keep the body when a retry may resend it, or when a mirror needs a copy. */
export function shouldBufferBody(method: string, headers: IncomingHttpHeaders, retry: CompiledRetryPolicy, mirrored: boolean): boolean {
  const retryable = retry.retriesAnything && (IDEMPOTENT_METHODS.has(method) || retry.allowNonIdempotent);
  if (!retryable && !mirrored) return false;
  const declared = headers['content-length'];
  if (declared === undefined) return false;
  const length = Number(declared);
  return Number.isInteger(length) && length > 0 && length <= MAX_REPLAYABLE_BODY_BYTES;
}

/**
 * gRPC over HTTP/2 declares no Content-Length, so the rule above would never keep a gRPC message
 * for a retry. A route that retries on a `grpc-status` streams such a body at once and keeps a
 * copy of it (teeBody), as Envoy buffers retried requests up to its limit while sending them.
 */
export function shouldBufferGrpcBody(headers: IncomingHttpHeaders, retry: CompiledRetryPolicy): boolean {
  return retry.readsGrpcStatus && headers['content-length'] === undefined && /^application\/grpc($|[+;-])/.test(headers['content-type'] ?? '');
}

export interface TeedBody {
  /** What the first try sends: every chunk as it arrives, so a streaming call never waits. */
  readonly stream: Readable;
  /**
   * The whole body, for a retry: only once the client has ended it within `limit` bytes. A body
   * still open (a bidirectional stream) or too long cannot be sent again, so it is not retried.
   */
  replay(): Buffer | undefined;
}

/** Streams `source` on and keeps a copy of up to `limit` bytes of it. */
export function teeBody(source: Readable, limit: number): TeedBody {
  const stream = new PassThrough();
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  let ended = false;
  source.on('data', (chunk: Buffer) => {
    if (chunks === undefined) return;
    size += chunk.length;
    if (size > limit) chunks = undefined;
    else chunks.push(chunk);
  });
  source.once('end', () => {
    ended = true;
  });
  // A client that goes away mid-body must not look like a complete (shorter) message upstream.
  source.once('close', () => {
    if (!source.readableEnded) stream.destroy(new Error('downstream closed before the end of the body'));
  });
  source.pipe(stream);
  let whole: Buffer | undefined;
  return {
    stream,
    replay: () => {
      if (!ended || chunks === undefined) return undefined;
      return (whole ??= chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    },
  };
}

/** Reads the whole body; undefined when the client went away first or sent more than `limit`. */
export function readBody(stream: Readable, limit: number, done: (body: Buffer | undefined) => void): void {
  readBounded(stream, limit, (read) => {
    if (read.kind === 'too-large') stream.destroy();
    done(read.kind === 'read' ? read.body : undefined);
  });
}

export type BoundedRead = { readonly kind: 'read'; readonly body: Buffer } | { readonly kind: 'too-large' } | { readonly kind: 'aborted' };

/**
 * Reads a whole body of at most `limit` bytes. Past the limit the stream is paused and no longer
 * listened to (the caller decides: destroy it, or answer 413 and close); a stream that errors or
 * closes before its end is `aborted`.
 */
export function readBounded(stream: Readable, limit: number, done: (read: BoundedRead) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (read: BoundedRead): void => {
    if (settled) return;
    settled = true;
    stream.off('data', onData);
    done(read);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      stream.pause();
      finish({ kind: 'too-large' });
      return;
    }
    chunks.push(chunk);
  };
  stream.on('data', onData);
  stream.once('end', () => finish({ kind: 'read', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) }));
  stream.once('error', () => finish({ kind: 'aborted' }));
  stream.once('close', () => finish({ kind: 'aborted' }));
}
