// A cap on the connections one client address holds open at once, across every listener of the
// data plane: one host cannot take all file descriptors or all of the memory that idle connections
// cost (slowloris from a single address). Counted at accept, before TLS or any parsing; a
// connection over the cap is closed at once. 0 turns the cap off (a gateway behind a load balancer
// that does not preserve client addresses sees one address for everyone).
import type net from 'node:net';

export class ClientConnectionLimit {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerClient: number) {}

  /** Counts the socket in until it closes; false when its address is already at the cap. */
  admit(socket: net.Socket): boolean {
    if (this.maxPerClient <= 0) return true;
    const address = socket.remoteAddress ?? '';
    const count = this.open.get(address) ?? 0;
    if (count >= this.maxPerClient) return false;
    this.open.set(address, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    });
    return true;
  }

  /** Open connections per address, for the admin API and tests. */
  get clients(): number {
    return this.open.size;
  }
}
