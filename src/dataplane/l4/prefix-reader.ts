// Reads the first bytes of a connection until a parser has what it needs (a PROXY header, a
// ClientHello), bounded by a deadline; the parsers bound the size. The bytes are kept, not
// consumed: the caller decides what is forwarded.
import type net from 'node:net';

export type PrefixParse<T> = { readonly kind: 'need-more' } | { readonly kind: 'invalid'; readonly message: string } | T;

export type PrefixRead<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly bytes: Buffer }
  | { readonly kind: 'failed'; readonly why: 'invalid' | 'timeout' | 'closed'; readonly message: string; readonly bytes: Buffer };

/**
 * Starts from `head` (bytes read earlier); the socket is left paused with no 'data' listener, and
 * any bytes it had buffered are appended to the result's `bytes`.
 */
export function readPrefix<T extends { readonly kind: string }>(socket: net.Socket, head: Buffer, parse: (buf: Buffer) => PrefixParse<T>, timeoutMs: number): Promise<PrefixRead<T>> {
  return new Promise((resolve) => {
    let buf = head;
    let done = false;
    const finish = (result: PrefixRead<T>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(result);
    };
    const check = (): void => {
      const r = parse(buf);
      if (r.kind === 'need-more') return;
      if (r.kind === 'invalid') finish({ kind: 'failed', why: 'invalid', message: (r as { message: string }).message, bytes: buf });
      else finish({ kind: 'ok', value: r as T, bytes: buf });
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      check();
    };
    const onEnd = (): void => finish({ kind: 'failed', why: 'closed', message: 'the client closed before the first bytes were complete', bytes: buf });
    const timer = setTimeout(() => finish({ kind: 'failed', why: 'timeout', message: `no complete prefix within ${timeoutMs} ms`, bytes: buf }), timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    if (buf.length > 0) check();
    if (!done) socket.resume();
  });
}
