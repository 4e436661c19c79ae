// The request-body phase: for the few routes whose filters must see the whole body before it goes
// upstream (OpenAPI validation), the body is read into memory up to the phase's limit, handed to
// those filters, and then forwarded as the very bytes read (a Buffer, which retries and mirrors can
// send again as well). Routes without such a filter never come here and stream their bodies.
import type { Readable } from 'node:stream';
import { readBounded } from './replayable-body.js';
import type { RequestContext } from '../filters/request-context.js';
import { CONTINUE, type FilterOutcome, type FilterResponse, type RequestBodyPhase } from '../filters/filter-types.js';

export type BodyRead = { readonly kind: 'read'; readonly body: Buffer | undefined } | { readonly kind: 'too-large' } | { readonly kind: 'aborted' };

/**
 * Reads the body (none: `hasBody` false) up to `maxBytes`. A declared Content-Length over the limit
 * is refused before a byte is read; a chunked body is refused when it passes the limit, and the
 * rest is not read (the 413 closes the connection).
 */
export function readRequestBody(stream: Readable, hasBody: boolean, declaredLength: string | undefined, maxBytes: number, done: (read: BodyRead) => void): void {
  if (!hasBody) return done({ kind: 'read', body: undefined });
  if (declaredLength !== undefined && Number(declaredLength) > maxBytes) return done({ kind: 'too-large' });
  readBounded(stream, maxBytes, done);
}

/** Runs the phase's filters in order until one answers. */
export function runRequestBodyPhase(phase: RequestBodyPhase, ctx: RequestContext, body: Buffer | undefined): FilterOutcome {
  for (const filter of phase.filters) {
    const outcome = filter(ctx, body);
    if (outcome.kind !== 'continue') return outcome;
  }
  return CONTINUE;
}

/** RFC 9110 §15.5.14. HTTP/1.1: the rest of the body is not read, so the connection cannot be reused. */
export function payloadTooLarge(ctx: RequestContext, maxBytes: number): FilterResponse {
  return {
    kind: 'respond',
    status: 413,
    details: 'payload_too_large',
    ...(ctx.protocol === 'HTTP/2' ? {} : { headers: ['connection', 'close'] }),
    body: JSON.stringify({ status: 413, reason: 'payload_too_large', message: `The request body exceeds ${maxBytes} bytes, the most this route reads for validation.`, request_id: ctx.requestId }),
  };
}
