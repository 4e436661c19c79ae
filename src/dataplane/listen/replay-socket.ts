// A duplex that first replays bytes already read from a socket, then relays the socket itself.
// Needed for h2c: sniffing the preface reads bytes out of the socket, and Node's HTTP/2 session
// reads straight from the socket's native handle, so bytes put back with unshift() would be lost.
// Wrapping costs a JS hop per chunk, paid only by cleartext HTTP/2 connections.
import { Duplex } from 'node:stream';
import type net from 'node:net';

export function replaySocket(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  // The HTTP/2 compat layer reads these off `req.socket`.
  Object.assign(duplex, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    setNoDelay: (v?: boolean) => socket.setNoDelay(v),
    setKeepAlive: (e?: boolean, d?: number) => socket.setKeepAlive(e, d),
    setTimeout: (ms: number, cb?: () => void) => socket.setTimeout(ms, cb),
  });
  duplex.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', (err) => duplex.destroy(err));
  return duplex;
}
