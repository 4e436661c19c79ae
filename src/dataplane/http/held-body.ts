// The body phase of routes with a JSON body edit (a TransformPolicy; filter-types.ts BodyFilter).
// Every other route streams bodies as before and never reaches this file. A body is held in memory
// up to the filter's `maxBytes`: complete within it, the filter edits it and it goes on whole with
// its new Content-Length (a chunked request becomes a sized one); past it, what was held is sent
// followed by the rest, unchanged and streamed, so a large upload costs `maxBytes` of memory at
// most. Responses are held the same way in proxy-exchange.ts, before their headers are written.
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { BodyFilter, RequestDraft } from '../filters/filter-types.js';
import type { RequestContext } from '../filters/request-context.js';
import { getHeader, setHeader } from '../filters/header-list.js';

/** A declared length past the limit is streamed at once: nothing to hold, nothing to wait for. */
function declaredTooLarge(filter: BodyFilter, ctx: RequestContext, contentLength: string | undefined): boolean {
  if (contentLength === undefined || !(Number(contentLength) > filter.maxBytes)) return false;
  filter.tooLarge(ctx);
  return true;
}

export function wantsRequestBody(filter: BodyFilter, ctx: RequestContext, headers: IncomingHttpHeaders): boolean {
  if (declaredTooLarge(filter, ctx, headers['content-length'])) return false;
  return filter.wants(ctx, headers['content-type'], headers['content-encoding']);
}

/**
 * RFC 9110 §9.3.2 and §15.3.5, §15.4.5: HEAD, 204 and 304 responses have no body to edit; 1xx
 * never reach here.
 */
export function wantsResponseBody(filter: BodyFilter, ctx: RequestContext, status: number, headers: readonly string[]): boolean {
  if (ctx.method === 'HEAD' || status === 204 || status === 304) return false;
  if (declaredTooLarge(filter, ctx, getHeader(headers, 'content-length'))) return false;
  return filter.wants(ctx, getHeader(headers, 'content-type'), getHeader(headers, 'content-encoding'));
}

/**
 * A request body already read whole (an OpenAPI check read it first, so the check saw what the
 * client sent): edited when the filter wants it and it is within the limit, else returned as it is.
 */
export function editWholeRequestBody(body: Buffer, filter: BodyFilter, ctx: RequestContext, headers: IncomingHttpHeaders, draft: RequestDraft): Buffer {
  if (!wantsRequestBody(filter, ctx, headers)) return body;
  if (body.length > filter.maxBytes) {
    filter.tooLarge(ctx);
    return body;
  }
  const out = filter.apply(ctx, body);
  if (out === undefined) return body;
  setHeader(draft.headers, 'content-length', String(out.length));
  return out;
}

/** Holds the request body, then sends the edited one (Buffer), or the held part followed by the rest (stream). */
export function holdRequestBody(source: Readable, filter: BodyFilter, ctx: RequestContext, draft: RequestDraft, send: (body: Buffer | Readable) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const stop = (): void => {
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('close', onGone);
    source.off('error', onGone);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    chunks.push(chunk);
    if (size <= filter.maxBytes) return;
    stop();
    filter.tooLarge(ctx);
    const stream = new PassThrough();
    for (const c of chunks) stream.write(c);
    // A client that goes away mid-body must not look like a complete (shorter) message upstream.
    source.once('close', () => {
      if (!source.readableEnded) stream.destroy(new Error('downstream closed before the end of the body'));
    });
    // Synchronously, within this 'data' event: no chunk is emitted between our listener and the pipe's.
    source.pipe(stream);
    send(stream);
  };
  const onEnd = (): void => {
    stop();
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const out = filter.apply(ctx, body) ?? body;
    // The body is whole now: its length is known, whatever framing the client used.
    setHeader(draft.headers, 'content-length', String(out.length));
    send(out);
  };
  // Gone before the end: there is no request to forward (the response side sees the close).
  const onGone = (): void => stop();
  source.on('data', onData);
  source.once('end', onEnd);
  source.once('close', onGone);
  source.once('error', onGone);
}
