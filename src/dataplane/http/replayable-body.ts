// Retrying a request on another endpoint, or mirroring it, needs its body twice. Bodies are
// streamed, not kept, with one exception (as Envoy buffers for retries and shadows): a request that
// declares a small Content-Length, and may be retried or is mirrored, is read into memory first.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
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
