// Two streams joined both ways with backpressure and half-close: one side's FIN is passed on as
// a FIN (end()) while the other direction keeps flowing, as a TCP proxy must for protocols that
// shut down their sending side and still read the answer (rsh, some RPC, `nc -N`). Both sockets
// are created with allowHalfOpen so Node does not end the writable side when the readable ends.
import type { Duplex } from 'node:stream';
import type { UpstreamReads } from './upstream-reads.js';

export type SpliceEnd = 'client_closed' | 'upstream_closed';

export interface SpliceCounters {
  bytesIn: number;
  bytesOut: number;
}

/**
 * Resolves once both directions are finished (or either side fails): with the side that ended or
 * failed first. Bytes from the client count as in, bytes to the client as out. With `reads`, the
 * upstream socket was connected with its `onread` and delivers there instead of 'data' events.
 */
export function splice(client: Duplex, upstream: Duplex, counters: SpliceCounters, reads?: UpstreamReads): Promise<SpliceEnd> {
  return new Promise((resolve) => {
    let first: SpliceEnd | undefined;
    let ended = 0;
    let settled = false;
    const settle = (side: SpliceEnd): void => {
      first ??= side;
      if (settled) return;
      settled = true;
      resolve(first);
    };
    const relay = (from: Duplex, to: Duplex, side: SpliceEnd, count: (n: number) => void, fromReads?: UpstreamReads): void => {
      if (fromReads === undefined) {
        from.on('data', (chunk: Buffer) => {
          count(chunk.length);
          if (!to.write(chunk)) {
            from.pause();
            to.once('drain', () => from.resume());
          }
        });
      } else {
        const flowing = fromReads.attach((chunk) => {
          count(chunk.length);
          const ok = to.write(chunk);
          // Not all in the kernel yet: the pending write still points into the read buffer.
          if (to.writableLength > 0) fromReads.hold();
          if (ok) return true;
          to.once('drain', () => from.resume());
          return false;
        });
        if (!flowing) from.pause();
      }
      from.on('end', () => {
        first ??= side;
        to.end();
        if (++ended === 2) settle(side);
      });
      // A reset or a write after the peer went away ends the whole connection.
      from.on('error', () => {
        settle(side);
      });
      from.on('close', () => {
        if (ended < 2) settle(side);
      });
    };
    relay(client, upstream, 'client_closed', (n) => (counters.bytesIn += n));
    relay(upstream, client, 'upstream_closed', (n) => (counters.bytesOut += n), reads);
    client.resume();
    upstream.resume();
  });
}
