// Retrying a request on another endpoint needs its body twice. Bodies are streamed, not kept, with
// one exception (as Envoy buffers for retries): an idempotent request that declares a small
// Content-Length is read into memory first, so a connect failure or an early reset can be retried.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { IrRetryPolicy } from '../../ir/types.js';

/** RFC 9110 §9.2.2. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export const MAX_REPLAYABLE_BODY_BYTES = 64 * 1024;

export function shouldBufferBody(method: string, headers: IncomingHttpHeaders, retry: IrRetryPolicy): boolean {
  if (retry.attempts < 1 || !retry.onConnectFailure) return false;
  if (!IDEMPOTENT_METHODS.has(method) && retry.allowNonIdempotent !== true) return false;
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
