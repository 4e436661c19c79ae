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
 * for a retry. A route that retries on a `grpc-status` keeps up to the same limit of a gRPC body
 * whose length is unknown (readBodyUpTo), as Envoy buffers retried requests up to its limit.
 */
export function shouldBufferGrpcBody(headers: IncomingHttpHeaders, retry: CompiledRetryPolicy): boolean {
  return retry.readsGrpcStatus && headers['content-length'] === undefined && /^application\/grpc($|[+;-])/.test(headers['content-type'] ?? '');
}

/**
 * Reads the body into memory while it fits in `limit`; a longer one is handed on as a stream of
 * what was read followed by the rest (sent once, never retried). Undefined when the client went
 * away before the end.
 */
export function readBodyUpTo(stream: Readable, limit: number, done: (body: Buffer | Readable | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    chunks.push(chunk);
    if (size <= limit) return;
    detach();
    stream.pause();
    const rest = new PassThrough();
    for (const c of chunks) rest.write(c);
    // A client that goes away mid-body must not look like a complete (shorter) message upstream.
    stream.once('close', () => {
      if (!stream.readableEnded) rest.destroy(new Error('downstream closed before the end of the body'));
    });
    stream.pipe(rest);
    done(rest);
  };
  const onEnd = (): void => {
    detach();
    done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  };
  const onGone = (): void => {
    detach();
    done(undefined);
  };
  const detach = (): void => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onGone);
    stream.off('close', onGone);
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.once('error', onGone);
  stream.once('close', onGone);
}

/** Reads the whole body; undefined when the client went away first or sent more than `limit`. */
export function readBody(stream: Readable, limit: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (body: Buffer | undefined): void => {
    if (settled) return;
    settled = true;
    done(body);
  };
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      finish(undefined);
      return;
    }
    chunks.push(chunk);
  });
  stream.once('end', () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  stream.once('error', () => finish(undefined));
  stream.once('close', () => finish(undefined));
}
